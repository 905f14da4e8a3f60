"""The pure parsers of core/api.py: SSEDecoder (lines -> payloads) and ChunkInterpreter
(chunk objects -> stream events). No socket, no event loop."""

from __future__ import annotations

from typing import Any

import pytest

from apertis_tui.core.chunks import ChunkInterpreter
from apertis_tui.core.sse import SSEDecoder, SSEEvent
from apertis_tui.core.events import ContentDelta, ReasoningDelta, StreamError, ToolCallDelta, Usage, UsageEvent
from apertis_tui.core.types import ApiError


def decode(lines: list[str], *, flush: bool = False) -> list[str]:
    """Every payload the decoder dispatches for ``lines`` (and for the end of input)."""
    decoder = SSEDecoder()
    out = [p.data for p in (decoder.feed(line) for line in lines) if p is not None]
    if flush:
        last = decoder.flush()
        if last is not None:
            out.append(last.data)
    return out


def events(*chunks: Any, key: str | None = None) -> tuple[list[Any], ChunkInterpreter]:
    interp = ChunkInterpreter(key)
    out: list[Any] = []
    for chunk in chunks:
        out.extend(interp.events(chunk))
    return out, interp


def choice(delta: Any, finish: str | None = None) -> dict[str, Any]:
    return {"id": "c1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


# ---------------------------------------------------------------------------
# SSEDecoder


def test_sse_blank_line_dispatches_one_event() -> None:
    assert decode(['data: {"a":1}', "", 'data: {"b":2}', ""]) == ['{"a":1}', '{"b":2}']


def test_sse_nothing_is_dispatched_before_the_blank_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed('data: {"a":1}') is None
    assert decoder.feed("") == SSEEvent('{"a":1}')
    assert decoder.feed("") is None  # a second blank line is not an empty event


def test_sse_comment_lines_are_skipped_between_and_inside_events() -> None:
    lines = [
        ": OPENROUTER PROCESSING",
        "",
        ": keep-alive",
        'data: {"x":1}',
        ": PING",
        "",
        ":",
        "",
    ]
    assert decode(lines) == ['{"x":1}']


def test_sse_multi_line_data_is_joined_with_newlines() -> None:
    assert decode(["data: first", "data: second", "data:third", ""]) == ["first\nsecond\nthird"]


def test_sse_data_with_and_without_the_space() -> None:
    assert decode(["data:{\"a\":1}", "", "data: {\"a\":1}", ""]) == ['{"a":1}', '{"a":1}']
    # only ONE leading space is part of the syntax; the rest is data
    assert decode(["data:  two spaces", ""]) == [" two spaces"]


def test_sse_other_fields_are_ignored() -> None:
    lines = ["event: message", "id: 7", "retry: 1000", 'data: {"a":1}', ""]
    assert decode(lines) == ['{"a":1}']
    assert decode(["event: ping", "id: 8", ""]) == []  # an event without data dispatches nothing


def test_sse_bare_data_field_is_an_empty_line_of_data() -> None:
    assert decode(["data", "data: x", ""]) == ["\nx"]


def test_sse_done_marker_is_just_a_payload() -> None:
    assert decode(["data: [DONE]", ""]) == ["[DONE]"]


def test_sse_final_event_without_its_blank_line_comes_out_of_flush() -> None:
    assert decode(['data: {"a":1}', "", 'data: {"last":true}']) == ['{"a":1}']
    assert decode(['data: {"a":1}', "", 'data: {"last":true}'], flush=True) == ['{"a":1}', '{"last":true}']
    decoder = SSEDecoder()
    assert decoder.flush() is None
    decoder.feed(": only a comment")
    assert decoder.flush() is None


# ---------------------------------------------------------------------------
# ChunkInterpreter: content, finish, usage


def test_content_and_finish_reason() -> None:
    out, interp = events(
        choice({"role": "assistant", "content": ""}),
        choice({"content": "Hel"}),
        choice({"content": "lo"}),
        choice({}, "stop"),
    )
    assert out == [ContentDelta("Hel"), ContentDelta("lo")]
    assert interp.finish_reason == "stop"
    assert interp.saw_any is True


def test_role_only_and_empty_content_yield_nothing() -> None:
    out, interp = events(choice({"role": "assistant", "content": ""}), choice({"content": None}))
    assert out == []
    assert interp.saw_any is False
    assert interp.finish_reason is None


USAGE = {"prompt_tokens": 11, "completion_tokens": 22, "total_tokens": 33}


@pytest.mark.parametrize(
    "chunk",
    [
        {"id": "c", "choices": [], "usage": USAGE},
        {"id": "c", "choices": None, "usage": USAGE},
        {"id": "c", "usage": USAGE},
        {"id": "c", "choices": [{"index": 0, "delta": {}}], "usage": USAGE},
    ],
    ids=["choices-empty", "choices-null", "choices-missing", "empty-delta"],
)
def test_usage_only_chunk_shapes(chunk: dict[str, Any]) -> None:
    out, interp = events(chunk)
    assert out == [UsageEvent(Usage(11, 22, 33))]
    assert interp.finish_reason is None
    assert interp.saw_any is False


def test_usage_null_or_without_numbers_is_not_an_event() -> None:
    out, _ = events(
        {"choices": [{"index": 0, "delta": {"content": "a"}}], "usage": None},
        {"choices": [], "usage": {}},
        {"choices": [], "usage": {"prompt_tokens": "12"}},
        {"choices": [], "usage": "lots"},
    )
    assert out == [ContentDelta("a")]


def test_usage_partial_numbers_and_bools_are_not_numbers() -> None:
    out, _ = events({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": True, "total_tokens": "9"}})
    assert out == [UsageEvent(Usage(5, None, None))]


def test_usage_in_the_same_chunk_as_content_comes_after_it() -> None:
    out, interp = events(
        {"choices": [{"index": 0, "delta": {"content": "end"}, "finish_reason": "length"}], "usage": USAGE}
    )
    assert out == [ContentDelta("end"), UsageEvent(Usage(11, 22, 33))]
    assert interp.finish_reason == "length"


def test_later_empty_choice_does_not_erase_finish_reason() -> None:
    _, interp = events(choice({}, "stop"), {"choices": [{"index": 0, "delta": {}}], "usage": USAGE})
    assert interp.finish_reason == "stop"


def test_only_the_first_choice_is_used() -> None:
    chunk = {"choices": [{"index": 0, "delta": {"content": "A"}}, {"index": 1, "delta": {"content": "B"}}]}
    assert events(chunk)[0] == [ContentDelta("A")]


# ---------------------------------------------------------------------------
# ChunkInterpreter: reasoning


def test_reasoning_content_field() -> None:
    out, interp = events(choice({"reasoning_content": "think"}), choice({"content": "answer"}))
    assert out == [ReasoningDelta("think"), ContentDelta("answer")]
    assert interp.saw_any is True


def test_reasoning_field() -> None:
    out, _ = events(choice({"reasoning": "think"}), choice({"content": "answer"}))
    assert out == [ReasoningDelta("think"), ContentDelta("answer")]


def test_reasoning_in_both_fields_is_not_doubled() -> None:
    out, _ = events(choice({"reasoning_content": "once", "reasoning": "once"}))
    assert out == [ReasoningDelta("once")]


def test_empty_reasoning_content_falls_back_to_reasoning() -> None:
    out, _ = events(choice({"reasoning_content": "", "reasoning": "alt", "content": ""}))
    assert out == [ReasoningDelta("alt")]


def test_reasoning_and_content_in_one_delta_reasoning_first() -> None:
    out, _ = events(choice({"content": "B", "reasoning_content": "A"}))
    assert out == [ReasoningDelta("A"), ContentDelta("B")]


def test_non_string_reasoning_is_ignored() -> None:
    out, _ = events(choice({"reasoning_content": {"text": "x"}, "reasoning": None, "content": "ok"}))
    assert out == [ContentDelta("ok")]


# ---------------------------------------------------------------------------
# ChunkInterpreter: tool calls


def test_tool_call_fragments_keep_their_index() -> None:
    out, interp = events(
        choice({"role": "assistant", "content": None}),
        choice({"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                                "function": {"name": "get_weather", "arguments": ""}}]}),
        choice({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
        choice({"tool_calls": [{"index": 1, "id": "call_b", "type": "function",
                                "function": {"name": "get_time", "arguments": '{"tz"'}}]}),
        choice({"tool_calls": [{"index": 0, "function": {"arguments": ' "Paris"}'}}]}),
        choice({"tool_calls": [{"index": 1, "function": {"arguments": ': "UTC"}'}}]}),
        choice({}, "tool_calls"),
    )
    assert out == [
        ToolCallDelta(0, "call_a", "get_weather", ""),
        ToolCallDelta(0, None, None, '{"city":'),
        ToolCallDelta(1, "call_b", "get_time", '{"tz"'),
        ToolCallDelta(0, None, None, ' "Paris"}'),
        ToolCallDelta(1, None, None, ': "UTC"}'),
    ]
    assert interp.finish_reason == "tool_calls"
    assert interp.saw_any is True
    calls: dict[int, str] = {}
    for e in out:
        calls[e.index] = calls.get(e.index, "") + e.arguments
    assert calls == {0: '{"city": "Paris"}', 1: '{"tz": "UTC"}'}


def test_tool_call_without_index_has_none() -> None:
    out, _ = events(choice({"tool_calls": [
        {"id": "a", "function": {"name": "f", "arguments": "{}"}},
        {"id": "b", "function": {"name": "g", "arguments": "{}"}},
    ]}))
    assert out == [ToolCallDelta(None, "a", "f", "{}"), ToolCallDelta(None, "b", "g", "{}")]


def test_malformed_tool_call_fragments_are_tolerated() -> None:
    out, _ = events(choice({"tool_calls": [
        "junk",
        {"index": 2, "function": "not a dict"},
        {"index": 3, "id": 5, "function": {"name": 7, "arguments": None}},
    ]}))
    assert out == [ToolCallDelta(2, None, None, ""), ToolCallDelta(3, None, None, "")]


def test_tool_calls_not_a_list_is_ignored() -> None:
    assert events(choice({"tool_calls": {"index": 0}}))[0] == []


# ---------------------------------------------------------------------------
# ChunkInterpreter: odd shapes


@pytest.mark.parametrize("delta", ["text", 5, ["content"], True])
def test_delta_that_is_not_a_dict_is_skipped_but_finish_is_kept(delta: Any) -> None:
    out, interp = events({"choices": [{"index": 0, "delta": delta, "finish_reason": "stop"}]})
    assert out == []
    assert interp.finish_reason == "stop"


def test_null_delta_falls_back_to_message() -> None:
    out, _ = events({"choices": [{"index": 0, "delta": None, "message": {"content": "whole"}}]})
    assert out == [ContentDelta("whole")]


@pytest.mark.parametrize("bad_choice", [None, "x", 3, []])
def test_choice_that_is_not_a_dict_is_skipped(bad_choice: Any) -> None:
    assert events({"choices": [bad_choice]})[0] == []


@pytest.mark.parametrize("chunk", [[{"choices": []}], "text", 42, None])
def test_chunk_that_is_not_an_object_is_bad_response(chunk: Any) -> None:
    interp = ChunkInterpreter()
    with pytest.raises(ApiError) as info:
        list(interp.events(chunk))
    assert info.value.kind == "bad_response"
    assert info.value.sentence == (
        "The server sent a piece of the answer in a shape this app does not know. "
        "Retry; if it keeps happening, the server is not OpenAI-compatible."
    )


def test_error_chunk_becomes_stream_error_and_stops() -> None:
    out, _ = events({"error": {"message": "Upstream provider overloaded", "type": "upstream_error",
                               "code": "502"}, "choices": [{"index": 0, "delta": {"content": "never"}}]})
    assert len(out) == 1 and isinstance(out[0], StreamError)
    err = out[0].error
    assert err.kind == "stream_error"
    assert err.detail == "Upstream provider overloaded"
    assert err.sentence == (
        "The answer broke off with an error from the server: Upstream provider overloaded. "
        "The text so far is kept. Retry, or pick another model with ctrl+o."
    )


@pytest.mark.parametrize(
    ("error", "detail"),
    [
        ("plain string error", "plain string error"),
        ({"code": "overloaded"}, "overloaded"),
        ({"type": "server_error"}, "server_error"),
    ],
)
def test_error_chunk_shapes(error: Any, detail: str) -> None:
    out, _ = events({"error": error})
    assert [type(e) for e in out] == [StreamError]
    assert out[0].error.kind == "stream_error"
    assert out[0].error.detail == detail


def test_error_null_is_not_an_error() -> None:
    assert events({"error": None, "choices": [{"index": 0, "delta": {"content": "x"}}]})[0] == [ContentDelta("x")]


def test_error_chunk_redacts_the_key() -> None:
    key = "sk-live-ABCDEFGH12345678"
    out, _ = events({"error": {"message": f"key {key} or {key[:10]}**** is bad"}}, key=key)
    err = out[0].error
    for text in (err.sentence, err.detail, str(err), err.message):
        assert key[:8] not in text
    assert err.detail == "key [redacted] or [redacted]**** is bad"


def test_text_is_cleaned_of_controls() -> None:
    out, _ = events(
        choice({"reasoning_content": "r\x1b]0;t\x07\r\n", "content": "a\x1b[2J\x9b1m\x00b\r\nc\t[bold]\u200b"}),
    )
    assert out == [ReasoningDelta("r]0;t\n"), ContentDelta("a[2J1mb\nc\t[bold]\u200b")]


@pytest.mark.parametrize("reason", ["", None, 0])
def test_empty_or_non_string_finish_reason_is_not_a_finish(reason: Any) -> None:
    _, interp = events({"choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": reason}]})
    assert interp.finish_reason is None
