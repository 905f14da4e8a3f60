"""Plain data shared by config, api and store. No behaviour, no Textual."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # (a web search's data lives in core.web: not needed at the app's start)
    from .web import ServerTimings, WebSearch, WebSource

# ---------------------------------------------------------------------------
# Request parameters

#: The sampling parameters a request may carry. ``None`` means "unset": not sent,
#: so the server's default applies.
PARAM_NAMES = (
    "temperature",
    "top_p",
    "max_tokens",
    "frequency_penalty",
    "presence_penalty",
    "stop",
)


@dataclass
class ChatParams:
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    stop: list[str] | None = None

    def as_request(self) -> dict[str, Any]:
        """Only the parameters that are set."""
        out: dict[str, Any] = {}
        for name in PARAM_NAMES:
            value = getattr(self, name)
            if value is None or (name == "stop" and not value):
                continue
            out[name] = list(value) if name == "stop" else value
        return out

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PARAM_NAMES if getattr(self, name) is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "ChatParams":
        data = data or {}
        return cls(**{name: data.get(name) for name in PARAM_NAMES})

    def merged_over(self, base: "ChatParams") -> "ChatParams":
        """These parameters where set, ``base`` elsewhere."""
        return ChatParams(
            **{
                name: getattr(self, name) if getattr(self, name) is not None else getattr(base, name)
                for name in PARAM_NAMES
            }
        )


# ---------------------------------------------------------------------------
# Errors

ErrorKind = Literal[
    "auth",  # 401: key missing or rejected
    "quota",  # 402/403 insufficient quota
    "forbidden",  # 403 other than quota
    "model_not_found",  # 404 / 503 model_not_found
    "rate_limited",  # 429
    "context_length",  # the conversation is too long for the model (any status, or in the stream)
    "bad_request",  # other 4xx
    "server",  # 5xx
    "connect",  # could not reach the server
    "timeout",  # no bytes for too long
    "cut",  # the connection closed mid-answer
    "stream_error",  # {"error": ...} inside a 200 stream
    "bad_response",  # not JSON / not the expected shape
    "too_large",  # 413: the request is bigger than the server takes (attachments, usually)
]


class ApiError(Exception):
    """Every failure of the API client, as a sentence a person understands plus what to do.

    ``message`` says what happened, ``hint`` what to do. Neither ever contains the API key
    (the client redacts it from anything that came over the wire).
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        hint: str = "",
        *,
        status: int | None = None,
        retry_after: float | None = None,
        detail: str = "",
    ) -> None:
        self.kind = kind
        self.message = message
        self.hint = hint
        self.status = status
        self.retry_after = retry_after
        self.detail = detail  # the server's own words, trimmed; for logs and the error block
        super().__init__(self.sentence)

    @property
    def sentence(self) -> str:
        return f"{self.message} {self.hint}".strip()

    @property
    def retryable(self) -> bool:
        return self.kind in {"rate_limited", "server", "connect", "timeout", "cut", "stream_error", "bad_response"}


# ---------------------------------------------------------------------------
# A chat's tools

@dataclass(frozen=True)
class ChatTools:
    """A chat's own tool settings. ``enabled`` None follows the settings' default; ``choice``
    is auto, none, required or the name of one tool (as the model sees it); ``always`` holds
    the tools the user allowed for good in this chat, as ``server/tool``."""

    enabled: bool | None = None
    choice: str = "auto"
    always: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.enabled is not None:
            out["enabled"] = self.enabled
        if self.choice != "auto":
            out["choice"] = self.choice
        if self.always:
            out["always"] = list(self.always)
        return out

    @classmethod
    def from_dict(cls, data: Any) -> "ChatTools":
        """Tolerant: a value this version does not understand falls back to its default."""
        if not isinstance(data, dict):
            return cls()
        enabled = data.get("enabled")
        choice = data.get("choice")
        always = data.get("always")
        return cls(
            enabled=enabled if isinstance(enabled, bool) else None,
            choice=choice if isinstance(choice, str) and choice else "auto",
            always=tuple(a for a in always if isinstance(a, str)) if isinstance(always, list) else (),
        )

    def is_on(self, default: bool) -> bool:
        return default if self.enabled is None else self.enabled


# ---------------------------------------------------------------------------
# Fallback models (Apertis)

#: What the service accepts: at most this many fallback models, and a timeout (sent in ms)
#: from FALLBACK_TIMEOUT_RANGE seconds.
MAX_FALLBACK_MODELS = 5
FALLBACK_TIMEOUT_RANGE = (5, 300)


@dataclass(frozen=True)
class FallbackSettings:
    """Models the service tries, in order, when the one asked for fails or is slower than
    ``timeout`` seconds (the default in ``[fallback]``, or a chat's own)."""

    enabled: bool = True
    models: tuple[str, ...] = ()
    timeout: float = 30.0

    def as_request(self) -> dict[str, Any]:
        """The body fields; nothing when off or without models (the service's own default then)."""
        if not self.enabled or not self.models:
            return {}
        return {"fallback_models": list(self.models), "fallback_timeout": round(self.timeout * 1000),
                "fallback_enabled": True}

    def as_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "models": list(self.models), "timeout": self.timeout}

    @classmethod
    def from_dict(cls, data: Any) -> "FallbackSettings | None":
        """Tolerant, as stored with a chat: None when it is not a table; a value this version does
        not understand falls back to its default."""
        if not isinstance(data, dict):
            return None
        enabled, models, timeout = data.get("enabled"), data.get("models"), data.get("timeout")
        low, high = FALLBACK_TIMEOUT_RANGE
        ok_timeout = isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and low <= timeout <= high
        return cls(
            enabled=enabled if isinstance(enabled, bool) else True,
            models=tuple(m for m in models if isinstance(m, str) and m.strip())[:MAX_FALLBACK_MODELS]
            if isinstance(models, list) else (),
            timeout=float(timeout) if ok_timeout else 30.0,
        )


# ---------------------------------------------------------------------------
# Stored history

Role = Literal["system", "user", "assistant", "tool"]

#: Message status: a user message is "complete" when stored. An assistant message is
#: "streaming" while it arrives, then "complete", "stopped" (the user pressed escape),
#: "error" (the request failed; ``error`` says why) or "interrupted" (the app died while
#: streaming; set at the next start). A "tool" message is "complete" (the tool answered),
#: "error" (it failed, timed out or could not run), "refused" (the user said no) or "stopped"
#: (the user stopped the call or the turn). Other versions of a turn are siblings in the tree, not
#: a status (the "superseded" of older histories became that in migration m006).
MessageStatus = Literal["streaming", "complete", "stopped", "error", "interrupted", "refused"]


@dataclass
class Chat:
    id: int
    title: str
    model: str
    created_at: str
    updated_at: str
    system_prompt: str | None = None
    params: ChatParams = field(default_factory=ChatParams)
    archived: bool = False
    current_id: int | None = None  # the leaf of the path shown and sent (None: no messages yet)
    tools: ChatTools = field(default_factory=ChatTools)
    web: bool = False  # its requests search the web (Apertis's ":web" models)
    fallback: FallbackSettings | None = None  # this chat's own; None follows the settings' [fallback]


@dataclass
class Message:
    id: int
    chat_id: int
    role: Role
    content: str
    model: str | None  # who wrote it: a reply's model; for a tool result, "server/tool"
    status: MessageStatus
    created_at: str
    reasoning: str = ""
    error: str | None = None
    finished_at: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_ms: int | None = None
    duration_ms: int | None = None
    tool_calls: list[dict[str, Any]] | None = None
    parent_id: int | None = None  # the message this one follows (None: the chat's first)
    depth: int = 1  # its place on its path: 1 for a first message
    tool_call_id: str | None = None  # a tool's result: the call (of the assistant message before) it answers
    cost_usd: float | None = None  # measured: this reply's cost, or its group's (see cost_group)
    cost_group: int | None = None  # None: cost_usd is its own; else the group of overlapping requests it shares
    cost_replies: int | None = None  # how many replies cost_usd is for
    sources: "tuple[WebSource, ...]" = ()  # what a web search found, numbered from 1 as shown
    web_search: "WebSearch | None" = None  # None: the request did not ask for a web search
    server_timings: "ServerTimings | None" = None  # the server's own figures (usage.latency_checkpoint)
    # A fallback answered instead of the model asked for (``model`` is then the one that did):
    # {"from": the model that failed, "reason": why, as the service said}; None otherwise.
    fallback: dict[str, str] | None = None
    attachments: tuple["AttachmentInfo", ...] = ()  # files sent with a user message, in order


@dataclass(frozen=True)
class Comparison:
    """One prompt sent to several models at once. ``root_id`` is the question they all
    answered first; ``leaves[i]`` the newest message of column i (its model ``models[i]``),
    which the next compared prompt follows; ``chosen_id`` the leaf the user picked (None:
    not decided yet, the chat still compares)."""

    id: int
    chat_id: int
    root_id: int
    models: tuple[str, ...]
    leaves: tuple[int, ...]
    chosen_id: int | None
    created_at: str

    @property
    def open(self) -> bool:
        return self.chosen_id is None


@dataclass(frozen=True)
class SearchHit:
    chat_id: int
    chat_title: str
    message_id: int | None  # None when the hit is the chat's title
    snippet: str  # plain text; the match is between HIGHLIGHT_START and HIGHLIGHT_END
    updated_at: str


# ---------------------------------------------------------------------------
# Attachments

AttachmentKind = Literal["image", "text", "folder"]


@dataclass(frozen=True)
class AttachmentInfo:
    """A file sent with a message, as stored (its bytes are kept apart, once per ``sha256``).

    ``size`` is what is sent (an image after scaling, a folder's listing and texts);
    ``width`` and ``height`` an image's as sent; ``name`` is shown (a folder's ends in "/");
    ``note`` says what was done to it on the way ("4032×3024 → 2016×1512", "12 files, 2
    binary left out")."""

    sha256: str
    kind: AttachmentKind
    mime: str
    size: int
    name: str
    width: int | None = None
    height: int | None = None
    note: str = ""


HIGHLIGHT_START = "\x02"  # private markers, never shown: the UI turns them into styling
HIGHLIGHT_END = "\x03"
