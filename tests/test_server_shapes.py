"""One small test per class of real-server behaviour the client must read right (issue 14),
including the ones the recorded corpus does not show. Narrow ones through httpx.MockTransport;
those that need a socket through the fake server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from apertis_tui.core.api import USER_AGENT, ApertisClient
from apertis_tui.core.chunks import ChunkInterpreter
from apertis_tui.core.settings.file import ConfigError, Settings, load_settings, save_settings
from apertis_tui.core.settings.resolve import resolve_user_agent
from apertis_tui.core.errors import error_from_response
from apertis_tui.core.events import ContentDelta, Finish, ReasoningDelta, StreamError
from apertis_tui.core.reply import ReplyAccumulator
from tests.conftest import TEST_KEY

MESSAGES = [{"role": "user", "content": "hi"}]


def fold(*chunks: Any) -> ReplyAccumulator:
    interp = ChunkInterpreter()
    reply = ReplyAccumulator()
    for chunk in chunks:
        for event in interp.events(chunk):
            reply.feed(event)
    return reply


def delta(d: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": d, "finish_reason": finish}], **extra}


def sse(*chunks: Any, tail: str = "data: [DONE]\n\n") -> bytes:
    return ("".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + tail).encode()


async def mock_reply(body: bytes, *, status: int = 200, content_type: str = "text/event-stream",
                     stream: bool = True, headers: dict[str, str] | None = None) -> ReplyAccumulator:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": content_type, **(headers or {})})

    client = ApertisClient("http://mock.test/v1", "sk-shapes-0123456789", transport=httpx.MockTransport(handler))
    try:
        reply = ReplyAccumulator()
        async for event in client.chat("m", MESSAGES, stream=stream):
            reply.feed(event)
        return reply
    finally:
        await client.aclose()


def H(headers: dict[str, str] | None = None) -> httpx.Headers:
    return httpx.Headers(headers or {})


# ---------------------------------------------------------------------------
# Chunk shapes


def test_an_empty_delta_beside_a_message_that_repeats_the_answer_adds_nothing() -> None:
    reply = fold(delta({"content": "Hello"}), delta({"content": " world"}),
                 {"choices": [{"index": 0, "delta": {}, "message": {"content": "Hello world"}, "finish_reason": "stop"}]})
    assert reply.content == "Hello world"


def test_a_message_without_a_delta_is_read() -> None:
    assert fold({"choices": [{"index": 0, "message": {"content": "whole"}}]}).content == "whole"


def test_content_blocks_thinking_goes_to_reasoning_text_to_the_answer() -> None:
    reply = fold(
        delta({"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "Let me see."}]}]}),
        delta({"content": [{"type": "thinking", "thinking": " Yes."}, {"type": "text", "text": "Four"}]}),
        delta({"content": "."}, "stop"),
    )
    assert (reply.reasoning, reply.content) == ("Let me see. Yes.", "Four.")


def test_tool_calls_without_index_in_one_list_are_two_calls_with_their_names_set() -> None:
    reply = fold(delta({"tool_calls": [
        {"id": "a", "function": {"name": "read", "arguments": '{"p": 1}'}},
        {"id": "b", "function": {"name": "write", "arguments": '{"p": 2}'}},
    ]}, "tool_calls"))
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in reply.tool_calls] == [
        ("a", "read", '{"p": 1}'), ("b", "write", '{"p": 2}')]


def test_a_new_id_at_the_same_index_starts_a_new_call_and_a_repeated_name_is_not_doubled() -> None:
    reply = fold(
        delta({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": "{"}}]}),
        delta({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": "}"}}]}),
        delta({"tool_calls": [{"index": 0, "id": "b", "function": {"name": "g", "arguments": "{}"}}]}),
        delta({"tool_calls": [{"function": {"arguments": ""}}]}, "tool_calls"),
    )
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in reply.tool_calls] == [
        ("a", "f", "{}"), ("b", "g", "{}")]
    assert all(c["type"] == "function" for c in reply.tool_calls)


def test_fragments_without_id_follow_their_index() -> None:
    reply = fold(
        delta({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": ""}},
                              {"index": 1, "id": "b", "function": {"name": "g", "arguments": ""}}]}),
        delta({"tool_calls": [{"index": 1, "function": {"arguments": "[2]"}}]}),
        delta({"tool_calls": [{"index": 0, "function": {"arguments": "[1]"}}]}),
    )
    assert [c["function"]["arguments"] for c in reply.tool_calls] == ["[1]", "[2]"]


def test_usage_beside_an_error_is_kept() -> None:
    reply = fold(delta({"content": "Hi"}),
                 {"error": {"code": 400, "message": "Token limit reached"},
                  "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}})
    assert reply.usage is not None and reply.usage.total_tokens == 7
    assert reply.error is not None and "Token limit reached" in reply.error.sentence


@pytest.mark.parametrize("empty", [
    {"message": "", "type": "", "param": "", "code": None},
    {"message": None, "code": None},
    {},
])
def test_an_error_object_with_nothing_in_it_is_not_an_error(empty: dict[str, Any]) -> None:
    reply = fold(delta({"content": "Fine."}, "stop", error=empty))
    assert reply.error is None and reply.content == "Fine."


# ---------------------------------------------------------------------------
# SSE framing


async def test_an_event_error_frame_is_an_error_even_when_done_follows() -> None:
    body = sse(delta({"content": "maybe"}), tail=(
        'event: error\ndata: {"error": {"message": "Tool choice is required", "code": "tool_use_failed"}}\n\n'
        "data: [DONE]\n\n"))
    reply = await mock_reply(body)
    assert reply.content == "maybe"
    assert isinstance(reply.end, StreamError) and "Tool choice is required" in reply.end.error.sentence


async def test_an_event_error_frame_with_plain_text_says_the_text() -> None:
    reply = await mock_reply(b"event: error\ndata: upstream exploded\n\ndata: [DONE]\n\n")
    assert isinstance(reply.end, StreamError) and "upstream exploded" in reply.end.error.sentence


async def test_the_legacy_error_field_is_an_error_with_the_servers_words() -> None:
    reply = await mock_reply(b'error: {"code": 500, "message": "slot unavailable", "type": "server_error"}\n\n'
                             b"data: [DONE]\n\n")
    assert isinstance(reply.end, StreamError)
    assert "slot unavailable" in reply.end.error.sentence


# ---------------------------------------------------------------------------
# A 200 whose body is JSON, not SSE


async def test_a_200_json_error_body_says_the_servers_words() -> None:
    body = json.dumps({"error": {"message": "upstream timeout after 30 s", "type": "upstream_error"}}).encode()
    reply = await mock_reply(body, content_type="application/json")
    assert isinstance(reply.end, StreamError) and "upstream timeout after 30 s" in reply.end.error.sentence


async def test_a_200_base_resp_with_a_nonzero_status_is_an_error() -> None:
    body = json.dumps({"id": "", "choices": None,
                       "base_resp": {"status_code": 1008, "status_msg": "insufficient balance"}}).encode()
    reply = await mock_reply(body, content_type="application/json")
    assert isinstance(reply.end, StreamError)
    assert reply.end.error.kind == "quota" and "insufficient balance" in reply.end.error.sentence


async def test_a_200_base_resp_with_status_zero_is_not_an_error() -> None:
    body = json.dumps({"choices": [{"index": 0, "message": {"content": "ok"}, "finish_reason": "stop"}],
                       "base_resp": {"status_code": 0, "status_msg": "success"}}).encode()
    reply = await mock_reply(body, content_type="application/json")
    assert reply.content == "ok" and isinstance(reply.end, Finish) and reply.end.reason == "stop"


async def test_a_whole_completion_instead_of_a_stream_is_shown() -> None:
    body = json.dumps({"object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "All at once.", "reasoning": "Thought."}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}).encode()
    reply = await mock_reply(body, content_type="application/json")
    assert (reply.content, reply.reasoning, reply.usage.total_tokens) == ("All at once.", "Thought.", 7)
    assert isinstance(reply.end, Finish)


@pytest.mark.parametrize("body", [b'{"status": "ok"}', b"<html><body>Welcome</body></html>", b"hello"])
async def test_a_200_body_that_is_neither_is_not_openai_compatible(body: bytes) -> None:
    reply = await mock_reply(body, content_type="text/html")
    assert isinstance(reply.end, StreamError)
    assert reply.end.error.kind == "bad_response" and "OpenAI-compatible" in reply.end.error.sentence


# ---------------------------------------------------------------------------
# Error bodies and statuses


def test_an_array_error_body_is_unwrapped() -> None:
    err = error_from_response(429, b'[{"error": {"code": 429, "message": "Resource has been exhausted"}}]', H())
    assert err.kind == "rate_limited" and "Resource has been exhausted" in err.sentence


def test_a_401_that_says_the_quota_is_used_up_is_the_credit_sentence_with_its_words() -> None:
    err = error_from_response(401, b'{"error": {"message": "token quota is used up (request id: 7)"}}', H())
    assert err.kind == "quota" and "token quota is used up" in err.sentence
    assert "key was rejected" not in err.sentence


def test_a_plain_401_still_says_the_key_was_rejected() -> None:
    err = error_from_response(401, b'{"error": {"message": "invalid token", "code": "invalid_api_key"}}', H())
    assert err.kind == "auth" and err.message == "Your API key was rejected (401)."


@pytest.mark.parametrize(("status", "body"), [
    (400, {"error": {"message": "too long", "code": "context_length_exceeded"}}),
    (400, {"object": "error", "message": "This model's maximum context length is 1600 tokens."}),
    (500, {"error": {"code": 500, "message": "the request exceeds the available context size"}}),
])
def test_context_too_long_has_its_own_sentence_and_remedies(status: int, body: Any) -> None:
    err = error_from_response(status, json.dumps(body).encode(), H(), model="tiny-model")
    assert err.kind == "context_length" and not err.retryable
    assert err.message.startswith("The conversation is too long for tiny-model")
    assert "new chat (ctrl+n)" in err.hint and "longer context (ctrl+o)" in err.hint
    assert "fork a shorter one from an earlier message (ctrl+up, then f)" in err.hint


def test_context_too_long_inside_a_stream() -> None:
    reply = fold({"error": {"message": "This model's maximum context length is 4096 tokens"}})
    assert reply.error is not None and reply.error.kind == "context_length"


@pytest.mark.parametrize(("code", "start", "hint"), [
    ("quota_exceeded", "This key's quota is used up (402)", "Raise the key's quota"),
    ("insufficient_balance", "Your balance is too low for this request (402)", "Top up your balance"),
    ("subscription_expired", "Your subscription has expired (402)", "Renew it"),
])
def test_apertis_402_codes_each_have_their_remedy(code: str, start: str, hint: str) -> None:
    err = error_from_response(402, json.dumps({"error": {"message": "no", "code": code}}).encode(), H())
    assert err.kind == "quota" and err.message.startswith(start) and err.hint.startswith(hint)


def test_cloudflare_1010_is_not_a_bad_key_and_names_the_user_agent_setting() -> None:
    err = error_from_response(403, b"error code: 1010", H({"server": "cloudflare"}), host="api.stima.tech")
    assert err.kind == "forbidden"
    assert err.message.startswith("Cloudflare, in front of api.stima.tech, refused this client (403, error code 1010)")
    assert "user_agent" in err.hint and "APERTIS_USER_AGENT" in err.hint
    assert "key" not in err.hint


def test_cloudflare_html_block_page() -> None:
    page = b"<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body>blocked</body></html>"
    err = error_from_response(403, page, H({"server": "cloudflare", "content-type": "text/html"}))
    assert err.kind == "forbidden" and err.message.startswith("Cloudflare refused this client (403, a block page)")
    assert "<html" not in err.sentence.lower()


def test_a_403_from_the_service_itself_is_not_cloudflares() -> None:
    err = error_from_response(403, b'{"error": {"message": "access denied for this group"}}',
                              H({"server": "cloudflare"}))
    assert err.message == "The server refused the request (403): access denied for this group."


@pytest.mark.parametrize("message", [
    "no available channel for model gpt-5 in group vip",
    "当前分组 default 下对于模型 gpt-5 无可用渠道",
])
def test_no_channel_for_a_model_is_model_not_available(message: str) -> None:
    err = error_from_response(503, json.dumps({"error": {"message": message, "type": "one_api_error"}}).encode(),
                              H(), model="gpt-5")
    assert err.kind == "model_not_found" and not err.retryable
    assert err.message.startswith("Model gpt-5 is not available with your key (503): ")


# ---------------------------------------------------------------------------
# The non-streamed path reads the same


async def test_not_streamed_reads_content_blocks_reasoning_and_empty_errors() -> None:
    body = json.dumps({"choices": [{"index": 0, "finish_reason": "stop", "message": {"content": [
        {"type": "thinking", "thinking": "Hmm."}, {"type": "text", "text": "Yes."}]}}],
        "error": {"message": "", "type": "", "param": "", "code": None}}).encode()
    reply = await mock_reply(body, content_type="application/json", stream=False)
    assert (reply.content, reply.reasoning, reply.error) == ("Yes.", "Hmm.", None)


async def test_not_streamed_error_shapes_share_the_mapping() -> None:
    reply = await mock_reply(b'[{"error": {"code": 400, "message": "API key not valid."}}]', status=400,
                             content_type="application/json", stream=False)
    assert reply.error is not None and reply.error.kind == "auth" and "API key not valid" in reply.error.sentence


# ---------------------------------------------------------------------------
# Through the fake server: Cloudflare, the User-Agent setting, a JSON answer to a stream


async def test_json_answer_to_a_streamed_request_through_a_socket(fake_server) -> None:
    client = ApertisClient(fake_server.base_url, TEST_KEY)
    try:
        events = [e async for e in client.chat("test/json-answer", MESSAGES)]
    finally:
        await client.aclose()
    reply = ReplyAccumulator.of(events)
    assert reply.content and reply.reasoning and isinstance(reply.end, Finish)
    assert any(isinstance(e, ContentDelta) for e in events) and any(isinstance(e, ReasoningDelta) for e in events)


async def test_user_agent_default_and_setting_reach_the_server(fake_server) -> None:
    for agent, expected in ((None, USER_AGENT), ("curl/8.5.0", "curl/8.5.0")):
        client = ApertisClient(fake_server.base_url, TEST_KEY, user_agent=agent)
        try:
            [e async for e in client.chat("gpt-4o", MESSAGES)]
        finally:
            await client.aclose()
        assert fake_server.chat_requests[-1]["headers"]["user-agent"] == expected
    assert USER_AGENT.startswith("apertis-tui/")


def test_user_agent_from_the_file_and_the_environment(tmp_path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('user_agent = "my-client/1.0"\n')
    settings = load_settings(path)
    assert resolve_user_agent(settings, {}) == ("my-client/1.0", "config")
    assert resolve_user_agent(settings, {"APERTIS_USER_AGENT": "env-agent/2"}) == ("env-agent/2", "APERTIS_USER_AGENT")
    assert resolve_user_agent(Settings(), {}) == (None, "default")
    save_settings(settings, path)
    assert load_settings(path).user_agent == "my-client/1.0"


def test_a_user_agent_that_cannot_be_sent_is_refused_with_its_line(tmp_path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "textual-dark"\nuser_agent = "caf\\u00e9/1"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert "user_agent may hold only printable ASCII characters" in str(info.value)
    assert info.value.line == 2
    # and a bad one from the environment is ignored rather than breaking every request
    assert resolve_user_agent(Settings(), {"APERTIS_USER_AGENT": "bad\nagent"}) == (None, "default")
