"""What a tool call gives back: ``ToolResult``, built from an MCP result's content parts, cleaned
and capped in UTF-8 bytes (what is sent back to the model must stay bounded)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..text import clean


@dataclass(frozen=True)
class ToolResult:
    """A finished call. ``text`` is safe to show and to send (cleaned, capped); ``is_error`` marks
    a failure the model is told about (the tool's own error, or the hub's sentence);
    ``cut_bytes`` is how much of the text was dropped (``truncated`` says whether any was)."""

    text: str
    is_error: bool = False
    cut_bytes: int = 0
    total_bytes: int = 0

    @property
    def truncated(self) -> bool:
        return self.cut_bytes > 0


def _size(nbytes: int) -> str:
    if nbytes < 1024:
        return f"{nbytes} B"
    if nbytes < 1024 * 1024:
        return f"{round(nbytes / 1024)} KB"
    return f"{nbytes / (1024 * 1024):.1f} MB"


def _base64_size(data: Any) -> int:
    if not isinstance(data, str):
        return 0
    return len(data) * 3 // 4 - data[-2:].count("=")


def _part_text(part: Any) -> str:
    """One content part as text: text as it is, anything else described in brackets."""
    kind = getattr(part, "type", None)
    if kind == "text":
        return str(getattr(part, "text", ""))
    if kind in ("image", "audio"):
        mime = getattr(part, "mime_type", None) or kind
        return f"[{mime}, {_size(_base64_size(getattr(part, 'data', '')))}]"
    if kind == "resource_link":
        return f"[resource link: {getattr(part, 'uri', '')}]"
    if kind == "resource":
        resource = getattr(part, "resource", None)
        text = getattr(resource, "text", None)
        if isinstance(text, str):
            return text
        mime = getattr(resource, "mime_type", None) or "data"
        return f"[{mime}, {_size(_base64_size(getattr(resource, 'blob', '')))}: {getattr(resource, 'uri', '')}]"
    return f"[{kind or 'unknown'} content]"


def cap(text: str, max_bytes: int) -> tuple[str, int, int]:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes on a character boundary, with a last
    line saying how much was cut; returns (text, bytes cut, total bytes)."""
    encoded = text.encode("utf-8")
    total = len(encoded)
    if total <= max_bytes:
        return text, 0, total
    # errors="ignore" drops the partial character the byte cut may have split.
    kept = encoded[:max_bytes].decode("utf-8", errors="ignore")
    cut = total - len(kept.encode("utf-8"))
    note = f"\n[… {cut:,} of {total:,} bytes cut: the result was longer than the {max_bytes:,}-byte limit]"
    return kept + note, cut, total


def from_call_result(result: Any, max_bytes: int) -> ToolResult:
    """A ``ToolResult`` from an ``mcp`` ``CallToolResult`` (content parts, structured content)."""
    parts = [_part_text(part) for part in (getattr(result, "content", None) or [])]
    if not parts and getattr(result, "structured_content", None) is not None:
        parts = [json.dumps(result.structured_content, ensure_ascii=False)]
    text = clean("\n".join(parts)) or ("(no output)" if not result.is_error else "The tool failed without a message.")
    capped, cut, total = cap(text, max_bytes)
    return ToolResult(capped, is_error=bool(result.is_error), cut_bytes=cut, total_bytes=total)


def failure(sentence: str) -> ToolResult:
    """A call that did not run or did not finish, as a sentence for the model and the user."""
    text = clean(sentence)
    return ToolResult(text, is_error=True, total_bytes=len(text.encode("utf-8")))
