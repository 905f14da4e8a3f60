"""ReplyAccumulator: the fold of one answer's events, without a terminal or a socket."""

from __future__ import annotations

from apertis_tui.core.events import (
    ContentDelta, Finish, ReasoningDelta, StreamError, ToolCallDelta, Usage, UsageEvent,
)
from apertis_tui.core.reply import ReplyAccumulator
from apertis_tui.core.types import ApiError


def test_text_reasoning_usage_and_finish_fold_into_one_reply() -> None:
    reply = ReplyAccumulator()
    assert (reply.content, reply.reasoning, reply.tool_calls, reply.end) == ("", "", None, None)
    for event in (ReasoningDelta("Think"), ReasoningDelta("ing."), ContentDelta("Hel"), ContentDelta("lo"),
                  UsageEvent(Usage(3, 2, 5)), Finish("stop")):
        reply.feed(event)
        assert reply.content in ("", "Hel", "Hello")  # readable at any point while it arrives
    assert (reply.content, reply.reasoning, reply.usage, reply.finish_reason) == ("Hello", "Thinking.",
                                                                                  Usage(3, 2, 5), "stop")
    assert reply.error is None
    completion = reply.completion()
    assert (completion.content, completion.finish_reason, completion.usage.total_tokens) == ("Hello", "stop", 5)


def test_an_error_ends_the_reply_and_keeps_what_arrived() -> None:
    error = ApiError("cut", "The connection closed in the middle of the answer.")
    reply = ReplyAccumulator.of([ContentDelta("partial"), StreamError(error)])
    assert (reply.content, reply.error, reply.finish_reason) == ("partial", error, None)


def test_tool_calls_come_out_in_openai_shape_in_the_order_they_began() -> None:
    reply = ReplyAccumulator.of([
        ToolCallDelta(1, "b", "second", ""),
        ToolCallDelta(0, "a", "first", '{"x":'),
        ToolCallDelta(1, None, None, "{}"),
        ToolCallDelta(0, None, None, " 1}"),
    ])
    assert reply.tool_calls == [
        {"id": "b", "type": "function", "function": {"name": "second", "arguments": "{}"}},
        {"id": "a", "type": "function", "function": {"name": "first", "arguments": '{"x": 1}'}},
    ]


def test_a_fragment_with_neither_id_nor_index_continues_the_last_call() -> None:
    reply = ReplyAccumulator.of([ToolCallDelta(None, "a", "f", "{"), ToolCallDelta(None, None, None, "}")])
    assert reply.tool_calls == [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
