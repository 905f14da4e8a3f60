"""ReplyAccumulator: folds the events of one answer into the reply they make.

The one place that knows how a reply is put together: text, reasoning, tool calls (joined from
their fragments), usage, the fallback model that answered instead, web search sources and the
server's timings, and how it ended. The chat pane feeds it while it streams; tests and the
non-streamed path use it the same way, without a terminal.
"""

from __future__ import annotations

from typing import Any

from .events import (
    WEB_EVENTS,
    Completion,
    ContentDelta,
    FallbackUsed,
    Finish,
    ReasoningDelta,
    ServerTimingsEvent,
    StreamError,
    StreamEvent,
    ToolCallDelta,
    Usage,
    UsageEvent,
    WebSearchInfo,
    WebSearching,
    WebSources,
)
from .types import ApiError
from .web import ServerTimings, WebSearch, WebSource, merge_sources


class ReplyAccumulator:
    def __init__(self) -> None:
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._calls: list[dict[str, Any]] = []
        self._by_id: dict[str, dict[str, Any]] = {}
        self._by_index: dict[int, dict[str, Any]] = {}
        self.usage: Usage | None = None
        self.fallback: FallbackUsed | None = None  # a fallback model answered instead
        self.end: Finish | StreamError | None = None  # None while the answer is still arriving
        self.sources: list[WebSource] = []  # numbered from 1 in this order
        self.web_search: WebSearch | None = None  # None: the request did not ask for a search
        self.server_timings: ServerTimings | None = None
        self._searched = False  # the server said it was searching

    def feed(self, event: StreamEvent) -> None:
        if isinstance(event, ContentDelta):
            self._content.append(event.text)
        elif isinstance(event, ReasoningDelta):
            self._reasoning.append(event.text)
        elif isinstance(event, ToolCallDelta):
            self._tool_call(event)
        elif isinstance(event, UsageEvent):
            self.usage = event.usage
        elif isinstance(event, FallbackUsed):
            self.fallback = event
        elif isinstance(event, (Finish, StreamError)):
            self.end = event
        elif isinstance(event, WEB_EVENTS):
            self._web(event)

    def _web(self, event: StreamEvent) -> None:
        if isinstance(event, WebSearching):
            self._searched = True
        elif isinstance(event, WebSources):
            merge_sources(self.sources, event.sources)
        elif isinstance(event, WebSearchInfo):
            self.web_search = event.search
        elif isinstance(event, ServerTimingsEvent):
            self.server_timings = event.timings

    @classmethod
    def of(cls, events: "list[StreamEvent]") -> "ReplyAccumulator":
        reply = cls()
        for event in events:
            reply.feed(event)
        return reply

    # -- what it has gathered ------------------------------------------------

    @property
    def content(self) -> str:
        if len(self._content) > 1:  # join once, not at every read
            self._content[:] = ["".join(self._content)]
        return self._content[0] if self._content else ""

    @property
    def reasoning(self) -> str:
        if len(self._reasoning) > 1:
            self._reasoning[:] = ["".join(self._reasoning)]
        return self._reasoning[0] if self._reasoning else ""

    @property
    def tool_calls(self) -> list[dict[str, Any]] | None:
        """In OpenAI's shape, in the order they began: ``{"id", "type": "function", "function":
        {"name", "arguments"}}``."""
        return [
            {"id": call["id"], "type": "function",
             "function": {"name": call["function"]["name"], "arguments": "".join(call["function"]["arguments"])}}
            for call in self._calls
        ] or None

    @property
    def searching(self) -> bool:
        """The server said it is searching the web and no answer has come yet."""
        return self._searched and not self._content and not self._reasoning and not self._calls

    @property
    def error(self) -> ApiError | None:
        return self.end.error if isinstance(self.end, StreamError) else None

    @property
    def finish_reason(self) -> str | None:
        return self.end.reason if isinstance(self.end, Finish) else None

    def completion(self) -> Completion:
        return Completion(content=self.content, reasoning=self.reasoning, tool_calls=self.tool_calls,
                          usage=self.usage, finish_reason=self.finish_reason, sources=tuple(self.sources))

    # -- tool calls -----------------------------------------------------------

    def _tool_call(self, delta: ToolCallDelta) -> None:
        """Fragments join by id, then by index: a new id starts a new call (some servers send
        several calls with no index, or all with index 0); a fragment with neither continues
        the last call. A name is set, never appended to."""
        call = None
        if delta.id is not None:
            call = self._by_id.get(delta.id)
        elif delta.index is not None:
            call = self._by_index.get(delta.index)
        elif self._calls:
            call = self._calls[-1]
        if call is None:
            call = {"id": delta.id, "function": {"name": "", "arguments": []}}
            self._calls.append(call)
            if delta.id is not None:
                self._by_id[delta.id] = call
        if delta.index is not None:
            self._by_index[delta.index] = call
        if delta.name:
            call["function"]["name"] = delta.name
        if delta.arguments:
            call["function"]["arguments"].append(delta.arguments)
