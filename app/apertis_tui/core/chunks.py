"""Chunks -> stream events: the one place that knows every shape a chunk of an answer takes.

Real servers differ (see ``../shared/sse-corpus``): reasoning in ``reasoning_content`` or
``reasoning``, or as ``thinking`` blocks inside a ``content`` list (Mistral); a ``message`` that
repeats the whole answer beside an empty ``delta``; tool-call fragments with or without
``index``; ``usage`` on any chunk, even beside an ``error``; an ``error`` object with nothing in
it beside a good answer (Apertis's web search). A whole non-streamed completion is read by the
same code, its ``message`` standing for the one delta.

Apertis's web search adds a chunk whose ``id`` is "web-search" and whose text ("🔍 Web
searching...") says a search is under way: a status, never the answer's text. Its sources come
as ``web_sources`` beside a chunk (any chunk: the first, the last, or the whole body of a
non-streamed answer), and ``usage.latency_checkpoint`` carries the server's own timings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .errors import ErrorBody, error_in_answer, read_error
from .events import (ContentDelta, ReasoningDelta, ServerTimingsEvent, StreamError, StreamEvent, ToolCallDelta,
                     Usage, UsageEvent, WebSearching, WebSources)
from .text import clean
from .types import ApiError
from .web import INDICATOR_ID, parse_sources, parse_timings

_REASONING_FIELDS = ("reasoning_content", "reasoning")
_REASONING_BLOCKS = {"thinking", "reasoning"}


class ChunkInterpreter:
    """Turns parsed chunks into events. One per answer: it remembers the finish reason and
    whether any of the answer arrived."""

    def __init__(self, key: str | None = None, model: str | None = None) -> None:
        self.finish_reason: str | None = None
        self.saw_any = False
        self._key = key  # only to redact it from error text
        self._model = model

    def events(self, chunk: Any) -> Iterator[StreamEvent]:
        """The events of one chunk. An error it reports is its last event."""
        if not isinstance(chunk, dict):
            err = read_error(chunk)
            if err is None:
                raise ApiError("bad_response", "The server sent a piece of the answer in a shape this app does not know.",
                               "Retry; if it keeps happening, the server is not OpenAI-compatible.")
            yield self.error(err)
            return
        # Most chunks carry no error: look only where one can be (see errors.read_error).
        err = read_error(chunk) if ("error" in chunk or "base_resp" in chunk or "object" in chunk
                                    and chunk["object"] == "error") else None
        searching = chunk.get("id") == INDICATOR_ID
        if searching:  # its text only says a search is under way
            yield WebSearching()
        choices = chunk.get("choices")
        if isinstance(choices, list) and err is None and not searching:  # an error chunk's text is not the answer's
            for choice in choices[:1]:  # we never ask for n > 1
                yield from self._choice(choice)
        if "web_sources" in chunk:
            sources = parse_sources(chunk["web_sources"])
            if sources:
                yield WebSources(sources)
        usage = chunk.get("usage")
        if isinstance(usage, dict) and any(_count(usage, k) is not None for k in ("prompt_tokens", "completion_tokens", "total_tokens")):
            yield UsageEvent(Usage(_count(usage, "prompt_tokens"), _count(usage, "completion_tokens"),
                                   _count(usage, "total_tokens")))
        if isinstance(usage, dict) and "latency_checkpoint" in usage:
            timings = parse_timings(usage["latency_checkpoint"])
            if timings is not None:
                yield ServerTimingsEvent(timings)
        if err is not None:  # after the usage it may come with (OpenRouter sends both)
            yield self.error(err)

    def error(self, err: ErrorBody) -> StreamError:
        return StreamError(error_in_answer(err, model=self._model, key=self._key))

    def error_frame(self, data: Any, text: str) -> StreamError:
        """An SSE ``event: error`` frame (or llama.cpp's ``error:`` field): an error whatever it holds."""
        err = read_error(data, loose=True)
        return self.error(err or ErrorBody(text.strip() or "no details"))

    def _choice(self, choice: Any) -> Iterable[StreamEvent]:
        if not isinstance(choice, dict):
            return
        # ``message`` only where there is no ``delta``: some servers send both, the message
        # repeating the whole answer, and the text would be shown twice.
        delta = choice.get("delta")
        if delta is None:
            delta = choice.get("message")
        if isinstance(delta, dict):
            yield from self._delta(delta)
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            self.finish_reason = reason

    def _delta(self, delta: dict[str, Any]) -> Iterator[StreamEvent]:
        for field in _REASONING_FIELDS:
            text = delta.get(field)
            if isinstance(text, str) and text:
                yield from self._text(ReasoningDelta, text)
                break
        content = delta.get("content")
        if isinstance(content, str):
            yield from self._text(ContentDelta, content)
        elif isinstance(content, list):  # typed blocks: [{"type": "thinking", ...}, {"type": "text", ...}]
            for block in content:
                kind, text = _block(block)
                yield from self._text(ReasoningDelta if kind in _REASONING_BLOCKS else ContentDelta, text)
        tool_calls = delta.get("tool_calls")
        if isinstance(tool_calls, list):
            for call in tool_calls:
                event = _tool_call_delta(call)
                if event is not None:
                    self.saw_any = True
                    yield event

    def _text(self, kind: type[ContentDelta] | type[ReasoningDelta], text: str) -> Iterator[StreamEvent]:
        if text:
            self.saw_any = True
            if text := clean(text):
                yield kind(text)


def _count(usage: dict[str, Any], key: str) -> int | None:
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _block(block: Any) -> tuple[str, str]:
    """(type, text) of one content block; the text of nested blocks is joined."""
    if isinstance(block, str):
        return "text", block
    if not isinstance(block, dict):
        return "text", ""
    kind = block.get("type") if isinstance(block.get("type"), str) else "text"
    for field in ("text", "thinking", "reasoning", "content"):
        value = block.get(field)
        if isinstance(value, str):
            return kind, value
        if isinstance(value, list):
            return kind, "".join(_block(inner)[1] for inner in value)
    return kind, ""


def _tool_call_delta(call: Any) -> ToolCallDelta | None:
    if not isinstance(call, dict):
        return None
    index = call.get("index")
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    arguments = function.get("arguments")
    if isinstance(arguments, (dict, list)):  # a few servers send the arguments parsed
        import json

        arguments = json.dumps(arguments, ensure_ascii=False)
    return ToolCallDelta(
        index=index if isinstance(index, int) and not isinstance(index, bool) else None,
        id=call.get("id") if isinstance(call.get("id"), str) and call.get("id") else None,
        name=function.get("name") if isinstance(function.get("name"), str) and function.get("name") else None,
        arguments=arguments if isinstance(arguments, str) else "",
    )
