"""What the API client returns: the models list's entries, the events stream_chat() yields,
a non-streaming request's result, token usage.

Apart from ``core.types`` because only a request needs them: each dataclass costs its module
~0.3 ms to create, and the app's start does not make a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from .types import ApiError
from .web import ServerTimings, WebSearch, WebSource


@dataclass(frozen=True)
class ModelInfo:
    """One entry of GET /v1/models. Servers add fields freely; we keep the few we show."""

    id: str
    owned_by: str = ""
    created: int | None = None


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


# ---------------------------------------------------------------------------
# Stream events yielded by ApertisClient.stream_chat()


@dataclass(frozen=True)
class ContentDelta:
    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A fragment of a tool call. ``ReplyAccumulator`` joins them: by ``id``, then by ``index``
    (None where the server sends none)."""

    index: int | None = None
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True)
class UsageEvent:
    usage: Usage


@dataclass(frozen=True)
class FallbackUsed:
    """A fallback model answered instead of the one asked for (the response's headers, cleaned;
    see ``core.fallback``). Comes before the answer's first words. ``actual`` is None when the
    server did not name the model that answered."""

    actual: str | None
    failed: str
    reason: str

    def record(self) -> dict[str, str]:
        """As stored with the message (``Message.fallback``); the actual model is its ``model``."""
        return {"from": self.failed, "reason": self.reason}


@dataclass(frozen=True)
class Finish:
    """The stream ended normally. ``reason`` is the last ``finish_reason`` seen (may be None)."""

    reason: str | None = None


@dataclass(frozen=True)
class StreamError:
    """The stream failed; always the last event. ``error`` carries the user-facing sentence."""

    error: ApiError


@dataclass(frozen=True)
class WebSearching:
    """The server is searching the web (Apertis's indicator chunk): a status, not the answer."""


@dataclass(frozen=True)
class WebSources:
    """Sources of a web search (``web_sources``), cleaned; more may follow."""

    sources: tuple[WebSource, ...]


@dataclass(frozen=True)
class WebSearchInfo:
    """What the response's ``X-Web-Search-*`` headers say; comes first, before any text."""

    search: WebSearch


@dataclass(frozen=True)
class ServerTimingsEvent:
    """``usage.latency_checkpoint``: the server's own timings of this reply."""

    timings: ServerTimings


@dataclass(frozen=True)
class Completion:
    """The result of a non-streaming request."""

    content: str
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] | None = None
    usage: Usage | None = None
    finish_reason: str | None = None
    sources: tuple[WebSource, ...] = ()


StreamEvent = Union[ContentDelta, ReasoningDelta, ToolCallDelta, UsageEvent, FallbackUsed, Finish, StreamError,
                    WebSearching, WebSources, WebSearchInfo, ServerTimingsEvent]
#: The events of a web search and the server's timings: rare, so the chat pane's loop looks
#: for them last, after the text.
WEB_EVENTS = (WebSearching, WebSources, WebSearchInfo, ServerTimingsEvent)
