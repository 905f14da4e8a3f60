"""A chat as a file: Markdown to read, JSON to process. No Textual here.

Every message goes in, failed ones too, with its role, model, time, status, usage, measured
cost and reasoning: an export is the record, not the pretty view. JSON holds the whole tree (each
message with its parent, and which leaf is current); Markdown is the current path, with the
other versions of each turn folded under it. The API key never goes in: it is not in the
history, and the text is scrubbed of it anyway in case someone pasted it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ... import APP_NAME, __version__
from ..spend import CostRow, Spent, reply_cost_text, spent
from ..text import clean, one_line, redact
from ..types import Chat, Message
from ..web import describe_search, host_of
from .export_files import attachment_lines, files_folder, json_files, message_attachments, write_chat_files
from .opening import now_iso

if TYPE_CHECKING:
    from . import History

__all__ = [
    "FORMATS",
    "ExportError",
    "ExportExists",
    "ExportFormat",
    "chat_to_json",
    "chat_to_markdown",
    "default_path",
    "export_chat",
    "export_to_file",
    "format_for_path",
    "render",
    "write_export",
]

ExportFormat = Literal["md", "json"]
FORMATS: tuple[ExportFormat, ...] = ("md", "json")
JSON_FORMAT = "apertis-tui.chat"
JSON_VERSION = 2  # 2: messages carry parent_id, the chat its current_id (the tree)


class ExportError(Exception):
    """The export could not be made; ``str(error)`` is a sentence for the user."""


class ExportExists(ExportError):
    """The target file exists and overwriting was not asked for."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} already exists.")
        self.path = path


# ---------------------------------------------------------------------------
# Markdown


def _status_text(message: Message) -> str:
    return {
        "interrupted": "interrupted (the app closed while it arrived)",
        "stopped": "stopped (by the user)",
    }.get(message.status, message.status)


def _usage_text(message: Message) -> str:
    parts = []
    if message.prompt_tokens is not None or message.completion_tokens is not None:
        parts.append(f"{message.prompt_tokens or 0} prompt + {message.completion_tokens or 0} completion tokens")
    if message.ttft_ms is not None:
        parts.append(f"first token {message.ttft_ms} ms")
    parts += _server_timing_texts(message)
    if message.duration_ms is not None:
        parts.append(f"{message.duration_ms / 1000:.1f} s")
    if message.cost_usd is not None:
        parts.append(f"cost {reply_cost_text(message.cost_usd, message.cost_replies)}")
    return " · ".join(parts)


def _spent(messages: Sequence[Message]) -> Spent | None:
    """What the chat's replies cost (every branch), each group of overlapping requests once."""
    return spent(CostRow(m.id, m.cost_usd, m.cost_group, m.cost_replies) for m in messages if m.cost_usd is not None)
def _server_timing_texts(message: Message) -> list[str]:
    """The server's own timings, said beside the ones measured here."""
    timings = message.server_timings
    if timings is None:
        return []
    named = (("server first token", timings.service_ttft_ms), ("engine first token", timings.engine_ttft_ms),
             ("engine last token", timings.engine_ttlt_ms), ("server total", timings.total_duration_ms))
    return [f"{name} {value:g} ms" for name, value in named if value is not None]


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


def _sources_markdown(message: Message) -> list[str]:
    """A reply's web search, and its sources as a numbered list of links (the titles are the
    server's text: escaped, so they cannot make links or markup of their own)."""
    said = describe_search(message.web_search, len(message.sources))
    out = [f"*{said}*", ""] if said else []
    if message.sources:
        out += ["Sources:", ""]
        for number, source in enumerate(message.sources, start=1):
            title = _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(source.title, 300))
            if source.url:
                out.append(f"{number}. [{title}](<{source.url}>) — {host_of(source.url)}")
            else:
                out.append(f"{number}. {title}")
        out.append("")
    return out


def _fallback_text(fallback: dict[str, str]) -> str:
    """A fallback's facts: the model that failed and why (the message's model answered)."""
    failed = fallback.get("from") or "the model asked for"
    reason = fallback.get("reason")
    return f"fallback: {failed} failed" + (f" ({reason})" if reason else "")


def _fence(text: str, info: str = "") -> str:
    """A fenced block that the text inside cannot close early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text}\n{ticks}"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def chat_to_markdown(chat: Chat, messages: Sequence[Message], *, secret: str | None = None,
                     files_dir: str | None = None) -> str:
    """The chat as a Markdown document: a header with the chat's facts, then each message.
    Attachments are linked into ``files_dir`` (beside the export; None: named only)."""
    out: list[str] = [f"# {one_line(chat.title, 200) or 'Untitled chat'}", ""]
    facts = [
        ("Chat", str(chat.id)),
        ("Created", chat.created_at),
        ("Last activity", chat.updated_at),
        ("Model for the next turn", chat.model),
    ]
    params = chat.params.as_dict()
    if params:
        facts.append(("Parameters", ", ".join(f"{k}={v!r}" if isinstance(v, list) else f"{k}={v}"
                                              for k, v in params.items())))
    if chat.archived:
        facts.append(("Archived", "yes"))
    if chat.web:
        facts.append(("Web search", "on"))
    path, versions = _current_path(chat, messages)
    count = f"{len(path)}" if len(path) == len(messages) else f"{len(path)} on this branch, {len(messages)} in all"
    facts.append(("Messages", count))
    total = _spent(messages)
    if total is not None:
        shared = " (part of it was measured together with replies of other chats)" if total.shared else ""
        facts.append(("Spent", f"{total.text()}, measured over {total.replies} "
                               f"{'reply' if total.replies == 1 else 'replies'}{shared}"))
    facts.append(("Exported", f"{now_iso()} by {APP_NAME} {__version__}"))
    out += [f"- **{name}:** {one_line(value, 400)}" for name, value in facts]
    if chat.system_prompt and chat.system_prompt.strip():
        out += ["", "## System prompt", "", _quote(clean(chat.system_prompt))]
    out += ["", "---"]
    for message in path:
        out += _message_markdown(message, "##", after=out[-1], files_dir=files_dir)
        others = versions.get(message.id, [])
        if others:
            out += ["<details>", f"<summary>Other versions of this turn ({len(others)})</summary>"]
            for other in others:
                out += _message_markdown(other, "###", after=out[-1], files_dir=files_dir)
            out += ["</details>", ""]
    return redact("\n".join(out).rstrip("\n") + "\n", secret)


def _current_path(chat: Chat, messages: Sequence[Message]) -> tuple[list[Message], dict[int, list[Message]]]:
    """The messages from the root to the chat's current leaf, and for each of them its other
    versions (same parent)."""
    by_id = {m.id: m for m in messages}
    path: list[Message] = []
    at = by_id.get(chat.current_id) if chat.current_id is not None else (messages[-1] if messages else None)
    while at is not None:
        path.append(at)
        at = by_id.get(at.parent_id) if at.parent_id is not None else None
    path.reverse()
    children: dict[int | None, list[Message]] = {}
    for m in messages:
        children.setdefault(m.parent_id, []).append(m)
    versions = {m.id: [o for o in children.get(m.parent_id, []) if o.id != m.id] for m in path}
    return path, versions


def _message_markdown(message: Message, heading: str, *, after: str, files_dir: str | None = None) -> list[str]:
    """One message as a section; ``after``: the line it follows (a blank one is not doubled)."""
    tool = f"Tool result: {message.model or 'a tool'} ({message.tool_call_id or 'no call id'})"
    who = {"user": "You", "tool": tool}.get(message.role, message.model or message.role)
    out = ([""] if after else []) + [f"{heading} {one_line(who, 120)}", ""]
    meta = [message.role]
    if message.model and message.role != "tool":
        meta.append(f"model {message.model}")
    if message.fallback:
        meta.append(_fallback_text(message.fallback))
    if message.role == "tool" and message.duration_ms is not None:
        meta.append(f"{message.duration_ms} ms")
    meta.append(message.created_at)
    meta.append(_status_text(message))
    usage = _usage_text(message)
    if usage:
        meta.append(usage)
    out += [f"*{one_line(' · '.join(meta), 400)}*", ""]
    if message.reasoning.strip():
        out += ["<details>", "<summary>Reasoning</summary>", "", clean(message.reasoning).strip("\n"), "",
                "</details>", ""]
    if message.content and message.role == "tool":  # a tool's output is data, not Markdown of ours
        out += [_fence(clean(message.content).strip("\n"), "text"), ""]
    elif message.content:
        out += [clean(message.content).strip("\n"), ""]
    out += attachment_lines(message, files_dir)
    if message.tool_calls:
        out += ["Tool calls:", "", _fence(json.dumps(message.tool_calls, indent=2, ensure_ascii=False), "json"), ""]
    out += _sources_markdown(message)
    if message.error:
        out += [_quote(f"**Error:** {clean(message.error)}"), ""]
    return out


# ---------------------------------------------------------------------------
# JSON


def _scrub(value: Any, secret: str | None) -> Any:
    if isinstance(value, str):
        return redact(value, secret)
    if isinstance(value, list):
        return [_scrub(v, secret) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, secret) for k, v in value.items()}
    return value


def _message_record(message: Message) -> dict[str, Any]:
    usage = None
    if message.prompt_tokens is not None or message.completion_tokens is not None:
        usage = {
            "prompt_tokens": message.prompt_tokens,
            "completion_tokens": message.completion_tokens,
            "total_tokens": (message.prompt_tokens or 0) + (message.completion_tokens or 0),
        }
    record = {
        "id": message.id,
        "parent_id": message.parent_id,
        "role": message.role,
        "model": message.model,
        "status": message.status,
        "created_at": message.created_at,
        "finished_at": message.finished_at,
        "content": message.content,
        "reasoning": message.reasoning,
        "error": message.error,
        "usage": usage,
        "ttft_ms": message.ttft_ms,
        "duration_ms": message.duration_ms,
        "tool_calls": message.tool_calls,
        "tool_call_id": message.tool_call_id,
        "cost_usd": message.cost_usd,  # measured; for cost_replies replies together when cost_group is set
        "cost_group": message.cost_group,
        "cost_replies": message.cost_replies,
        "sources": [source.as_dict() for source in message.sources],
        "web_search": message.web_search.as_dict() if message.web_search is not None else None,
        "server_timings": message.server_timings.as_dict() if message.server_timings is not None else None,
        "fallback": message.fallback,  # {"from", "reason"} when a fallback model wrote it
    }
    if message.attachments:  # by hash; the bytes are in the export's "attachments", once each
        record["attachments"] = message_attachments(message)
    return record


def chat_to_json(chat: Chat, messages: Sequence[Message], *, secret: str | None = None,
                 files: dict[str, Any] | None = None) -> str:
    """The chat as one JSON object: ``{"format", "version", "exported_at", "chat", "messages"}``;
    every message of every branch, each with its ``parent_id``; ``chat.current_id`` is the leaf
    of the branch that is shown and sent. ``files`` (``export_files.json_files``): the bytes of
    the attachments, base64, by hash, as ``"attachments"``."""
    total = _spent(messages)
    record = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "exported_at": now_iso(),
        "exported_by": f"{APP_NAME} {__version__}",
        "chat": {
            "id": chat.id,
            "title": chat.title,
            "model": chat.model,
            "system_prompt": chat.system_prompt,
            "params": chat.params.as_dict(),
            "archived": chat.archived,
            "created_at": chat.created_at,
            "updated_at": chat.updated_at,
            "current_id": chat.current_id,
            "spent_usd": total.total if total is not None else None,  # each group once, whole
            "spent_is_upper_bound": total.shared if total is not None else False,
            "web": chat.web,
        },
        "messages": [_message_record(m) for m in messages],
    }
    scrubbed = _scrub(record, secret)
    if files:
        scrubbed["attachments"] = files  # (bytes, not text: nothing to scrub)
    return json.dumps(scrubbed, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------
# From the store to a file


def render(chat: Chat, messages: Sequence[Message], fmt: ExportFormat, *, secret: str | None = None,
           files: dict[str, Any] | None = None, files_dir: str | None = None) -> str:
    if fmt == "json":
        return chat_to_json(chat, messages, secret=secret, files=files)
    if fmt == "md":
        return chat_to_markdown(chat, messages, secret=secret, files_dir=files_dir)
    raise ExportError(f"Unknown export format {fmt!r}: use md or json.")


def export_chat(store: History, chat_id: int, fmt: ExportFormat, *, secret: str | None = None,
                files_dir: str | None = None) -> str:
    """The text of chat ``chat_id`` in ``fmt``; ExportError if there is no such chat. JSON
    carries the attachments' bytes; Markdown links them into ``files_dir`` (see
    ``export_to_file``, which writes them there)."""
    chat = store.get_chat(chat_id)
    if chat is None:
        raise ExportError(f"There is no chat {chat_id} in the history.")
    messages = store.messages(chat_id)
    files = json_files(store, messages) if fmt == "json" and any(m.attachments for m in messages) else None
    return render(chat, messages, fmt, secret=secret, files=files, files_dir=files_dir)


def export_to_file(store: History, chat_id: int, fmt: ExportFormat, target: str | Path, *,
                   secret: str | None = None, overwrite: bool = False) -> Path:
    """Write chat ``chat_id`` to ``target`` (as ``write_export``); a Markdown export's
    attachments go into the folder beside it (``chat.files/``)."""
    target = Path(target).expanduser()
    folder = files_folder(target) if fmt == "md" else None
    written = write_export(target, export_chat(store, chat_id, fmt, secret=secret, files_dir=folder),
                           overwrite=overwrite)
    if folder is not None:
        try:
            write_chat_files(store, chat_id, written)
        except OSError as exc:
            raise ExportError(f"Wrote {written}, but not its attachments: {exc.strerror or exc}.") from exc
    return written


def default_path(chat_id: int, fmt: ExportFormat, home: Path | None = None) -> Path:
    """``~/apertis-chat-<id>.<md|json>``."""
    return (home or Path.home()) / f"apertis-chat-{chat_id}.{fmt}"


def format_for_path(path: str | Path, fallback: ExportFormat = "md") -> ExportFormat:
    """The format a file name asks for: ``.json`` is JSON, ``.md``/``.markdown`` Markdown."""
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in {".md", ".markdown"}:
        return "md"
    return fallback


def write_export(path: str | Path, text: str, *, overwrite: bool = False) -> Path:
    """Write ``text`` to ``path`` (``~`` expanded). Refuses to replace a file unless
    ``overwrite``; a replaced file is swapped in whole (temp file, then rename)."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise ExportError(f"{target} is a folder: give a file name.")
    if not target.parent.is_dir():
        raise ExportError(f"The folder {target.parent} does not exist.")
    data = text.encode("utf-8")
    try:
        if not overwrite:
            # "x": the check and the creation are one step, so nothing slips in between.
            try:
                with open(target, "xb") as f:
                    f.write(data)
            except FileExistsError:
                raise ExportExists(target) from None
            return target
        from apertis_tui.core.atomic import atomic_write  # absolute: holds wherever this module lives

        atomic_write(target, data, mode=None)  # the umask's mode, as for a new export
    except OSError as exc:
        raise ExportError(f"Could not write {target}: {exc.strerror or exc}.") from exc
    return target

