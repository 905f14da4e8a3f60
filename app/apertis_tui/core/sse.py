"""Server-sent events: the lines of a streamed body -> the events in it.

Only what OpenAI-compatible servers use: ``data:`` lines (joined with newlines when an event
has several), the ``event:`` name (Groq ends a 200 stream with ``event: error``), comment
lines (``: keep-alive``, ``: OPENROUTER PROCESSING``), skipped. Old llama.cpp servers send a
failure as a non-standard ``error:`` field; it is kept as an event named ``error``, because a
spec-only parser drops it and then sees ``[DONE]``, so the user would get an empty answer.
"""

from __future__ import annotations

from typing import NamedTuple


class SSEEvent(NamedTuple):
    data: str
    event: str = "message"  # the SSE default; "error" for error frames

    @property
    def is_error(self) -> bool:
        return self.event == "error"


class SSEDecoder:
    """Feed it lines (without their line ends); it hands back each event when its blank line comes."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = "message"

    def feed(self, line: str) -> SSEEvent | None:
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value.strip() or "message"
        elif name == "error":  # llama.cpp before 2026: ``error: {json}``, then ``data: [DONE]``
            self._event = "error"
            self._data.append(value)
        return None

    def flush(self) -> SSEEvent | None:
        """The event gathered so far, if it has data (also at the end of the body: a last
        event may come without its blank line)."""
        event, self._event = self._event, "message"
        if not self._data:
            return None
        data = "\n".join(self._data)
        self._data = []
        return SSEEvent(data, event)
