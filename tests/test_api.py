"""ApertisClient (core/api.py): error mapping, redaction, and every scenario of the fake server
end to end over a real loopback socket. The pure SSE/chunk parsers are in test_sse.py."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable

import httpx
import pytest

from apertis_tui.core.api import USER_AGENT, ApertisClient
from apertis_tui.core.errors import error_from_exception, error_from_response
from apertis_tui.core.events import (
    Completion,
    ContentDelta,
    Finish,
    ModelInfo,
    ReasoningDelta,
    StreamError,
    StreamEvent,
    ToolCallDelta,
    Usage,
    UsageEvent,
)
from apertis_tui.core.types import ApiError, ChatParams
from tests.fake_server import (
    _REASONING_TEXT,
    HOSTILE_TEXT,
    MODEL_IDS,
    MODELS,
    FakeServer,
    _Handler,
    count_tokens,
    normal_answer,
    split_tokens,
)

KEY = "test-key"
SECRET = "sk-live-ABCDEFGH12345678"  # a realistic key, for the redaction tests
USER_TEXT = "hello there"
MESSAGES = [{"role": "user", "content": USER_TEXT}]


def answer(model: str, messages: list[dict[str, Any]] = MESSAGES) -> str:
    return normal_answer(model, messages)


def server_usage(messages: list[dict[str, Any]], completion: int) -> Usage:
    prompt = sum(count_tokens(m["content"]) + 4 for m in messages)
    return Usage(prompt, completion, prompt + completion)


def first_half(text: str) -> str:
    toks = split_tokens(text)
    return "".join(toks[: max(1, len(toks) // 2)])


def content(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ContentDelta))


def reasoning(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ReasoningDelta))


def last_error(events: list[StreamEvent]) -> ApiError:
    assert events, "no events"
    assert isinstance(events[-1], StreamError), f"last event is {events[-1]!r}"
    assert sum(isinstance(e, (StreamError, Finish)) for e in events) == 1
    return events[-1].error


def assert_finished(events: list[StreamEvent], reason: str | None = "stop") -> None:
    assert events and events[-1] == Finish(reason), f"last event is {events[-1]!r}"
    assert sum(isinstance(e, (StreamError, Finish)) for e in events) == 1


def assert_key_hidden(err: ApiError, key: str = SECRET) -> None:
    for text in (err.sentence, err.message, err.hint, err.detail, str(err), repr(err)):
        assert key[:8] not in text, text


async def collect(client: ApertisClient, model: str, messages: list[dict[str, Any]] = MESSAGES,
                  params: ChatParams | None = None, **kw: Any) -> list[StreamEvent]:
    return [e async for e in client.stream_chat(model, messages, params, **kw)]


@asynccontextmanager
async def make_client(base_url: str, key: str | None = KEY, **kw: Any) -> AsyncIterator[ApertisClient]:
    kw.setdefault("connect_timeout", 2.0)
    kw.setdefault("read_timeout", 5.0)
    client = ApertisClient(base_url, key, **kw)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def client(fake_server: FakeServer) -> AsyncIterator[ApertisClient]:
    async with make_client(fake_server.base_url) as c:
        yield c


def mock(handler: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request] | None = None
         ) -> httpx.MockTransport:
    def wrapped(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    return httpx.MockTransport(wrapped)


def closed_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def err_body(message: str, type_: str = "invalid_request_error", code: Any = None, param: Any = None) -> bytes:
    return json.dumps({"error": {"message": message, "type": type_, "code": code, "param": param}}).encode()


H = httpx.Headers


# ---------------------------------------------------------------------------
# error_from_response


def test_401_is_auth() -> None:
    err = error_from_response(401, err_body("Invalid token (request id: 1)", code="invalid_api_key"), H())
    assert (err.kind, err.status) == ("auth", 401)
    assert err.sentence == ("Your API key was rejected (401). "
                            "Set it in Settings (f2) or in APERTIS_API_KEY / STIMA_API_KEY.")
    assert err.detail == "Invalid token (request id: 1)"
    assert not err.retryable


def test_402_is_quota() -> None:
    err = error_from_response(402, err_body("Insufficient balance", "new_api_error", "insufficient_user_quota"), H())
    assert (err.kind, err.status) == ("quota", 402)
    assert err.sentence == ("Your account has run out of credit (402): Insufficient balance. "
                            "Top up your balance, or pick a cheaper model with ctrl+o.")


def test_402_without_body_is_quota() -> None:
    assert error_from_response(402, b"", H()).kind == "quota"


def test_403_insufficient_user_quota_is_quota() -> None:
    err = error_from_response(403, err_body("user quota is not enough", "new_api_error", "insufficient_user_quota"),
                              H())
    assert (err.kind, err.status) == ("quota", 403)
    assert err.detail == "user quota is not enough"


def test_403_other_is_forbidden() -> None:
    err = error_from_response(403, err_body("access denied for this group", "new_api_error", "access_denied"), H())
    assert (err.kind, err.status) == ("forbidden", 403)
    assert err.sentence == ("The server refused the request (403): access denied for this group. "
                            "Check that your key may use this model.")


def test_429_insufficient_quota_openai_style_is_quota() -> None:
    # api.openai.com reports an empty balance as 429 insufficient_quota: waiting will not help
    body = err_body("You exceeded your current quota, please check your plan and billing details.",
                    "insufficient_quota", "insufficient_quota")
    err = error_from_response(429, body, H())
    assert (err.kind, err.status) == ("quota", 429)


def test_429_with_quota_in_a_rate_limit_message_stays_rate_limited() -> None:
    body = err_body("Quota exceeded for requests per minute.", "rate_limit_error", "rate_limit_exceeded")
    assert error_from_response(429, body, H({"Retry-After": "3"})).kind == "rate_limited"


def test_404_model_not_found() -> None:
    body = err_body("The model `gpt-9` does not exist or you do not have access to it.", code="model_not_found")
    err = error_from_response(404, body, H(), model="gpt-9")
    assert (err.kind, err.status) == ("model_not_found", 404)
    assert err.sentence == ("Model gpt-9 is not available with your key (404): The model `gpt-9` does not exist "
                            "or you do not have access to it. Pick another with ctrl+o.")


def test_503_model_not_found() -> None:
    body = err_body("No available channel for model x/y under group default (distributor)", "new_api_error",
                    "model_not_found")
    err = error_from_response(503, body, H(), model="x/y")
    assert (err.kind, err.status) == ("model_not_found", 503)
    assert "x/y" in err.message


def test_429_with_retry_after() -> None:
    body = err_body("Rate limit reached for requests per min.", "rate_limit_error", "rate_limit_exceeded")
    err = error_from_response(429, body, H({"Retry-After": "7"}))
    assert (err.kind, err.status, err.retry_after) == ("rate_limited", 429, 7)
    assert err.hint == "Wait 7 s, then retry."
    assert "7 s" in err.sentence
    assert err.retryable


def test_429_empty_body() -> None:
    err = error_from_response(429, b"", H())
    assert (err.kind, err.status, err.retry_after) == ("rate_limited", 429, None)
    assert err.detail == ""
    assert err.sentence == ("Too many requests: the server is rate-limiting you (429). "
                            "Wait a moment, then retry.")


def test_429_http_date_retry_after() -> None:
    from email.utils import format_datetime
    from datetime import datetime, timedelta, timezone

    past = error_from_response(429, b"", H({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    assert past.retry_after is None and past.hint == "Wait a moment, then retry."
    soon = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=90), usegmt=True)
    err = error_from_response(429, b"", H({"Retry-After": soon}))
    assert err.retry_after is not None and 85 <= err.retry_after <= 90
    assert err.hint == f"Wait {err.retry_after:g} s, then retry."
    assert error_from_response(429, b"", H({"Retry-After": "soon-ish"})).retry_after is None


def test_500_json() -> None:
    err = error_from_response(500, err_body("The server had an error (request id: 9)", "server_error",
                                            "internal_error"), H())
    assert (err.kind, err.status) == ("server", 500)
    assert err.sentence == "The server had a problem (500): The server had an error (request id: 9). Retry in a moment."


def test_502_html_never_shows_the_html() -> None:
    html = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")
    err = error_from_response(502, html, H({"content-type": "text/html"}))
    assert (err.kind, err.status) == ("server", 502)
    for text in (err.sentence, err.detail):
        assert "<html" not in text.lower() and "<" not in text
    assert err.sentence == ("The server had a problem (502): it answered with an HTML page, not JSON. "
                            "Retry in a moment.")


def test_502_doctype_html() -> None:
    err = error_from_response(502, b"\n  <!DOCTYPE html><html><body>Bad</body></html>", H())
    assert "<" not in err.sentence


def test_400_with_param() -> None:
    body = err_body("Invalid 'temperature': decimal above maximum value. Expected a value <= 2.",
                    "invalid_request_error", "invalid_value", "temperature")
    err = error_from_response(400, body, H())
    assert (err.kind, err.status) == ("bad_request", 400)
    assert err.sentence == ("The server rejected the request (400): Invalid 'temperature': decimal above maximum "
                            "value. Expected a value <= 2. Check the model and the parameters in Settings (f2).")


def test_plain_text_body_is_the_detail() -> None:
    err = error_from_response(500, b"upstream connect error\r\nor disconnect", H())
    assert err.detail == "upstream connect error or disconnect"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"error": "just a string"}, "just a string"),
        ({"detail": "FastAPI style"}, "FastAPI style"),
        ({"message": "flat message"}, "flat message"),
        ({"error": {"msg": "msg field"}}, "msg field"),
    ],
)
def test_other_error_body_shapes(body: Any, detail: str) -> None:
    assert error_from_response(400, json.dumps(body).encode(), H()).detail == detail


def test_long_detail_is_trimmed() -> None:
    err = error_from_response(500, err_body("x" * 5000), H())
    assert len(err.detail) == 300 and err.detail.endswith("…")


def test_error_body_controls_are_removed() -> None:
    err = error_from_response(500, err_body("bad\x1b]52;c;aGk=\x07 thing\x9b"), H())
    assert not any(ch in err.sentence for ch in "\x1b\x07\x9b")


# ---------------------------------------------------------------------------
# Redaction


@pytest.mark.parametrize(
    "message",
    [
        f"Incorrect API key provided: {SECRET}",
        f"Incorrect API key provided: {SECRET[:8]}****",
        f"Incorrect API key provided: {SECRET[:12]}**** (request id: 3)",
        f"key={SECRET} and again {SECRET[:9]}…",
    ],
)
@pytest.mark.parametrize("status", [400, 401, 403, 429, 500, 503])
def test_key_is_redacted_from_error_responses(status: int, message: str) -> None:
    err = error_from_response(status, err_body(message), H(), key=SECRET)
    assert_key_hidden(err)
    assert "[redacted]" in err.detail


def test_key_is_redacted_from_plain_text_error_body() -> None:
    err = error_from_response(502, f"proxy saw Bearer {SECRET}".encode(), H(), key=SECRET)
    assert_key_hidden(err)
    assert err.detail == "proxy saw Bearer [redacted]"


def test_short_fragments_of_the_key_are_not_redacted() -> None:
    # fewer than 8 characters is not an identifying prefix (and "sk-live" is in every key)
    err = error_from_response(400, err_body("expected sk-live keys"), H(), key=SECRET)
    assert err.detail == "expected sk-live keys"


# ---------------------------------------------------------------------------
# error_from_exception

TIMEOUTS = httpx.Timeout(connect=3.0, read=0.5, write=0.5, pool=3.0)
BASE = "https://api.example.test/v1"


@pytest.mark.parametrize(
    ("exc", "started", "kind", "sentence"),
    [
        (httpx.ConnectTimeout("t"), False, "connect",
         "Could not reach api.example.test: no answer within 3 s. Check your network and the base URL in Settings (f2)."),
        (httpx.ConnectError("refused"), False, "connect",
         "Could not reach api.example.test. Check your network and the base URL in Settings (f2)."),
        (httpx.UnsupportedProtocol("ftp"), False, "connect",
         "Could not reach api.example.test. Check your network and the base URL in Settings (f2)."),
        (httpx.ReadTimeout("t"), True, "timeout",
         "api.example.test went silent for 0.5 s in the middle of the answer. "
         "Retry; for slow models raise the read timeout in Settings (f2)."),
        (httpx.ReadTimeout("t"), False, "timeout",
         "api.example.test went silent for 0.5 s before the answer began. "
         "Retry; for slow models raise the read timeout in Settings (f2)."),
        (httpx.RemoteProtocolError("incomplete chunked read"), True, "cut",
         "The connection closed in the middle of the answer. The text so far is kept; retry for a full answer."),
        (httpx.ReadError("reset"), True, "cut",
         "The connection closed in the middle of the answer. The text so far is kept; retry for a full answer."),
        (httpx.RemoteProtocolError("server disconnected"), False, "connect",
         "The connection to api.example.test failed before an answer arrived. Check your network, then retry."),
        (httpx.DecodingError("bad gzip"), False, "bad_response",
         "The request to api.example.test failed (DecodingError). Retry in a moment."),
    ],
)
def test_error_from_exception(exc: Exception, started: bool, kind: str, sentence: str) -> None:
    err = error_from_exception(exc, BASE, TIMEOUTS, started=started)
    assert err.kind == kind
    assert err.sentence == sentence
    assert err.status is None


def test_error_from_exception_never_shows_the_exception_text() -> None:
    err = error_from_exception(httpx.ConnectError(f"failed for {SECRET}"), BASE, TIMEOUTS, started=False)
    assert_key_hidden(err)


# ---------------------------------------------------------------------------
# Streaming, end to end: the normal answer and the request we send


async def test_normal_stream(client: ApertisClient, fake_server: FakeServer) -> None:
    model = "gpt-4o"
    events = await collect(client, model)
    text = answer(model)
    assert content(events) == text
    kinds = [type(e) for e in events]
    assert set(kinds[:-2]) == {ContentDelta}
    assert kinds[-2:] == [UsageEvent, Finish]
    assert events[-2] == UsageEvent(server_usage(MESSAGES, count_tokens(text)))
    assert_finished(events, "stop")
    # one token per event, as the server sent them
    assert [e.text for e in events if isinstance(e, ContentDelta)] == split_tokens(text)


async def test_stream_request_body_and_headers(client: ApertisClient, fake_server: FakeServer) -> None:
    await collect(client, "gpt-4o", params=ChatParams(temperature=0.3))
    [req] = fake_server.requests
    assert req["method"] == "POST"
    assert req["path"] == "/v1/chat/completions"
    assert req["json"] == {
        "model": "gpt-4o",
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.3,
    }
    headers = req["headers"]
    assert headers["authorization"] == "Bearer test-key"
    assert headers["user-agent"].startswith("apertis-tui/")
    assert headers["user-agent"] == USER_AGENT
    assert headers["accept"] == "text/event-stream"
    assert headers["content-type"] == "application/json"


async def test_stream_without_params_sends_no_sampling_params(client: ApertisClient, fake_server: FakeServer) -> None:
    await collect(client, "gpt-4o", params=None)
    await collect(client, "gpt-4o", params=ChatParams())
    for req in fake_server.chat_requests:
        assert set(req["json"]) == {"model", "messages", "stream", "stream_options"}


async def test_stream_sends_every_set_param(client: ApertisClient, fake_server: FakeServer) -> None:
    params = ChatParams(temperature=0.0, top_p=0.9, max_tokens=64, frequency_penalty=-0.5,
                        presence_penalty=0.25, stop=["END", "STOP"])
    events = await collect(client, "gpt-4o", params=params)
    assert_finished(events)
    sent = fake_server.chat_requests[-1]["json"]
    assert {k: sent[k] for k in ("temperature", "top_p", "max_tokens", "frequency_penalty", "presence_penalty",
                                 "stop")} == {"temperature": 0.0, "top_p": 0.9, "max_tokens": 64,
                                              "frequency_penalty": -0.5, "presence_penalty": 0.25,
                                              "stop": ["END", "STOP"]}


async def test_stream_sends_the_whole_history(client: ApertisClient, fake_server: FakeServer) -> None:
    history = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "two"},
        {"role": "user", "content": "three"},
    ]
    events = await collect(client, "gpt-4o", history)
    assert content(events) == answer("gpt-4o", history)
    assert fake_server.chat_requests[-1]["json"]["messages"] == history


async def test_trailing_slash_in_base_url(fake_server: FakeServer) -> None:
    async with make_client(fake_server.base_url + "/") as c:
        events = await collect(c, "gpt-4o")
    assert_finished(events)
    assert fake_server.chat_requests[-1]["path"] == "/v1/chat/completions"


async def test_one_client_streams_concurrently(client: ApertisClient) -> None:
    a, b = await asyncio.gather(
        collect(client, "gpt-4o", [{"role": "user", "content": "echo:first"}]),
        collect(client, "test/reasoning", [{"role": "user", "content": "echo:second"}]),
    )
    assert content(a) == "first" and content(b) == "second"
    assert_finished(a)
    assert_finished(b)


# ---------------------------------------------------------------------------
# Streaming, end to end: one test per quirk scenario


@pytest.mark.parametrize("model", ["test/reasoning", "test/reasoning-alt"])
async def test_reasoning_stream(client: ApertisClient, model: str) -> None:
    events = await collect(client, model)
    assert reasoning(events) == _REASONING_TEXT
    assert content(events) == answer(model)
    first_content = next(i for i, e in enumerate(events) if isinstance(e, ContentDelta))
    last_reasoning = max(i for i, e in enumerate(events) if isinstance(e, ReasoningDelta))
    assert last_reasoning < first_content
    assert isinstance(events[0], ReasoningDelta)
    assert_finished(events)
    usage = [e for e in events if isinstance(e, UsageEvent)]
    assert usage == [UsageEvent(server_usage(MESSAGES, count_tokens(answer(model)) + count_tokens(_REASONING_TEXT)))]


TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}},
]


async def test_tool_calls_stream(client: ApertisClient, fake_server: FakeServer) -> None:
    events = await collect(client, "test/tools", tools=TOOLS, tool_choice="auto")
    calls: dict[int, dict[str, Any]] = {}
    for e in events:
        if isinstance(e, ToolCallDelta):
            call = calls.setdefault(e.index, {"id": None, "name": None, "arguments": ""})
            if e.id is not None:
                assert call["id"] is None, "the id came twice"
                call["id"] = e.id
            if e.name is not None:
                assert call["name"] is None, "the name came twice"
                call["name"] = e.name
            call["arguments"] += e.arguments
    assert calls == {
        i: {"id": cid, "name": name, "arguments": args} for i, (cid, name, args) in enumerate(_Handler._TOOL_CALLS)
    }
    for call in calls.values():
        json.loads(call["arguments"])
    # the fragments really were interleaved
    order = [e.index for e in events if isinstance(e, ToolCallDelta)]
    assert order != sorted(order)
    assert content(events) == ""
    assert_finished(events, "tool_calls")
    sent = fake_server.chat_requests[-1]["json"]
    assert sent["tools"] == TOOLS and sent["tool_choice"] == "auto"


async def test_tool_choice_without_tools_is_not_sent(client: ApertisClient, fake_server: FakeServer) -> None:
    await collect(client, "gpt-4o", tool_choice="auto")
    sent = fake_server.chat_requests[-1]["json"]
    assert "tools" not in sent and "tool_choice" not in sent


async def test_tools_then_tool_result_gives_an_answer(client: ApertisClient) -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_fake_weather_0", "type": "function",
             "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_fake_weather_0", "content": "sunny"},
    ]
    events = await collect(client, "test/tools", messages, tools=TOOLS)
    assert content(events) == normal_answer("test/tools", messages)
    assert_finished(events)


async def test_comments_stream(client: ApertisClient) -> None:
    events = await collect(client, "test/comments")
    assert content(events) == answer("test/comments")
    assert_finished(events)


async def test_usage_shapes_stream(client: ApertisClient) -> None:
    model = "test/usage-shapes"
    events = await collect(client, model)
    text = answer(model)
    assert content(events) == text
    usage = [e.usage for e in events if isinstance(e, UsageEvent)]
    assert len(usage) == 4  # choices [], null, missing, [{index 0, empty delta}]
    assert usage[-1] == server_usage(MESSAGES, count_tokens(text))
    assert all(u != usage[-1] for u in usage[:-1])
    assert_finished(events, "stop")


async def test_no_done_stream(client: ApertisClient) -> None:
    events = await collect(client, "test/no-done")
    assert content(events) == answer("test/no-done")
    assert_finished(events, "stop")


async def test_cut_stream(client: ApertisClient) -> None:
    events = await collect(client, "test/cut")
    err = last_error(events)
    assert err.kind == "cut"
    assert err.sentence == ("The connection closed in the middle of the answer. "
                            "The text so far is kept; retry for a full answer.")
    assert content(events) == first_half(answer("test/cut"))
    assert content(events)


async def test_midstream_error(client: ApertisClient) -> None:
    events = await collect(client, "test/midstream-error")
    err = last_error(events)
    assert err.kind == "stream_error"
    assert err.detail == "Upstream provider overloaded"
    assert "Upstream provider overloaded" in err.sentence
    assert err.status is None
    assert content(events) == first_half(answer("test/midstream-error"))
    assert all(isinstance(e, ContentDelta) for e in events[:-1])


async def test_changing_id_stream(client: ApertisClient) -> None:
    events = await collect(client, "test/changing-id")
    assert content(events) == answer("test/changing-id")
    assert_finished(events)


async def test_bad_json_stream(client: ApertisClient) -> None:
    events = await collect(client, "test/bad-json")
    err = last_error(events)
    assert err.kind == "bad_response"
    assert err.sentence == ("The server sent a piece of the answer that is not valid JSON, so words may be missing. "
                            "The text so far is kept; retry for a full answer.")
    assert content(events) == first_half(answer("test/bad-json"))


async def test_stall_times_out(fake_server: FakeServer) -> None:
    model = "test/stall"
    try:
        async with make_client(fake_server.base_url, read_timeout=0.5) as c:
            start = time.monotonic()
            events = await collect(c, model)
            elapsed = time.monotonic() - start
    finally:
        fake_server.stall_release.set()
    err = last_error(events)
    assert err.kind == "timeout"
    assert err.message == f"127.0.0.1:{fake_server.port} went silent for 0.5 s in the middle of the answer."
    assert events[:-1] == [ContentDelta(split_tokens(answer(model))[0])]
    assert 0.4 < elapsed < 3.0


async def test_hostile_stream(client: ApertisClient) -> None:
    events = await collect(client, "test/hostile")
    text = content(events)
    expected = HOSTILE_TEXT.replace("\r\n", "\n")
    for ch in ("\x1b", "\x07", "\x9b", "\x00", "\x08", "\u202e", "\u202c"):
        expected = expected.replace(ch, "")
    assert text == expected
    for ch in ("\x1b", "\x07", "\x9b", "\x00", "\x08", "\r", "\u202e", "\u202c"):
        assert ch not in text
    for kept in ("[bold]x[/bold]", "a stray [/] and", "[@click=app.quit]", "Zero\u200bwidth", "right-to-left evil.exe",
                 "tab\there", "[click me](javascript:alert(1))"):
        assert kept in text
    assert text.count("\n") == HOSTILE_TEXT.count("\r\n")
    assert_finished(events)


# ---------------------------------------------------------------------------
# Streaming, end to end: errors

ERROR_SCENARIOS = [
    ("test/err-401", "auth", 401, None),
    ("test/err-402", "quota", 402, None),
    ("test/err-403-quota", "quota", 403, None),
    ("test/err-403", "forbidden", 403, None),
    ("test/err-404", "model_not_found", 404, None),
    ("test/err-503-model", "model_not_found", 503, None),
    ("test/err-429", "rate_limited", 429, 7),
    ("test/err-429-empty", "rate_limited", 429, None),
    ("test/err-500", "server", 500, None),
    ("test/err-502-html", "server", 502, None),
    ("test/err-400", "bad_request", 400, None),
    ("test/err-403-cloudflare", "forbidden", 403, None),
    ("test/err-context", "context_length", 400, None),
    ("test/err-402-balance", "quota", 402, None),
    ("test/err-402-expired", "quota", 402, None),
]


def test_every_error_scenario_is_covered() -> None:
    from tests.fake_server import SCENARIOS

    assert {m for m in SCENARIOS if m.startswith("test/err-")} == {m for m, *_ in ERROR_SCENARIOS}


@pytest.mark.parametrize(("model", "kind", "status", "retry_after"), ERROR_SCENARIOS)
async def test_stream_error_statuses(client: ApertisClient, model: str, kind: str, status: int,
                                     retry_after: float | None) -> None:
    events = await collect(client, model)
    assert len(events) == 1
    err = last_error(events)
    assert (err.kind, err.status, err.retry_after) == (kind, status, retry_after)
    assert err.sentence and err.hint
    assert "<html" not in err.sentence.lower()
    assert "Traceback" not in err.sentence
    if kind == "model_not_found":
        assert model in err.message
    if retry_after is not None:
        assert f"{retry_after:g} s" in err.hint
    if model == "test/err-400":
        assert "'temperature'" in err.sentence


async def test_wrong_key_is_auth_and_redacted(fake_server: FakeServer) -> None:
    async with make_client(fake_server.base_url, SECRET) as c:
        events = await collect(c, "gpt-4o")
    err = last_error(events)
    assert (err.kind, err.status) == ("auth", 401)
    assert_key_hidden(err)
    assert err.detail.startswith("Incorrect API key provided: [redacted]****")
    assert fake_server.requests[-1]["headers"]["authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize("key", [None, ""])
async def test_no_key_sends_nothing(fake_server: FakeServer, key: str | None) -> None:
    async with make_client(fake_server.base_url, key) as c:
        assert c.has_key is False
        events = await collect(c, "gpt-4o")
        with pytest.raises(ApiError) as complete_err:
            await c.complete("gpt-4o", MESSAGES)
        with pytest.raises(ApiError) as models_err:
            await c.list_models()
    err = last_error(events)
    assert len(events) == 1
    assert err.kind == "auth" and err.status is None
    assert err.sentence == "No API key is set. Add one in Settings (f2) or set APERTIS_API_KEY / STIMA_API_KEY."
    assert complete_err.value.kind == "auth" and models_err.value.kind == "auth"
    assert fake_server.requests == []


async def test_connection_refused() -> None:
    port = closed_port()
    async with make_client(f"http://127.0.0.1:{port}/v1") as c:
        events = await collect(c, "gpt-4o")
        with pytest.raises(ApiError) as complete_err:
            await c.complete("gpt-4o", MESSAGES)
        with pytest.raises(ApiError) as models_err:
            await c.list_models()
    err = last_error(events)
    assert len(events) == 1
    assert err.kind == "connect"
    assert err.sentence == (f"Could not reach 127.0.0.1:{port}. "
                            "Check your network and the base URL in Settings (f2).")
    assert complete_err.value.kind == "connect" and models_err.value.kind == "connect"


async def test_unknown_model(client: ApertisClient) -> None:
    events = await collect(client, "no-such/model-x")
    err = last_error(events)
    assert (err.kind, err.status) == ("model_not_found", 503)
    assert err.sentence.startswith("Model no-such/model-x is not available with your key (503): ")
    assert err.sentence.endswith(" Pick another with ctrl+o.")


async def test_wrong_path_on_the_server_is_an_error_not_a_crash(fake_server: FakeServer) -> None:
    base = fake_server.base_url.rsplit("/", 1)[0] + "/v2"
    async with make_client(base) as c:
        events = await collect(c, "gpt-4o")
    err = last_error(events)
    assert (err.kind, err.status) == ("bad_request", 404)
    assert "Invalid URL" in err.detail


# ---------------------------------------------------------------------------
# Streaming over a mock transport: wire shapes the fake server does not produce


def sse_response(body: bytes, status: int = 200, content_type: str = "text/event-stream") -> Callable[
        [httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, content=body, headers={"content-type": content_type})


def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    return b"data: " + json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}).encode()


async def mock_stream(body: bytes, **kw: Any) -> list[StreamEvent]:
    async with make_client("http://mock.test/v1", transport=mock(sse_response(body, **kw))) as c:
        return await collect(c, "m")


async def test_mock_final_event_without_blank_line() -> None:
    events = await mock_stream(chunk({"content": "a"}) + b"\n\n" + chunk({"content": "b"}, "stop"))
    assert events == [ContentDelta("a"), ContentDelta("b"), Finish("stop")]


async def test_mock_done_without_blank_line() -> None:
    events = await mock_stream(chunk({"content": "a"}) + b"\n\ndata: [DONE]")
    assert events == [ContentDelta("a"), Finish(None)]


async def test_mock_crlf_line_ends_and_no_space_after_data() -> None:
    body = (b": hi\r\n\r\n" + chunk({"content": "a"}).replace(b"data: ", b"data:") + b"\r\n\r\n"
            + chunk({}, "stop") + b"\r\n\r\ndata: [DONE]\r\n\r\n")
    assert await mock_stream(body) == [ContentDelta("a"), Finish("stop")]


async def test_mock_nothing_after_done_is_read() -> None:
    body = chunk({"content": "a"}) + b"\n\ndata: [DONE]\n\n" + chunk({"content": "late"}) + b"\n\n"
    assert await mock_stream(body) == [ContentDelta("a"), Finish(None)]


async def test_mock_clean_end_without_finish_or_done_is_cut() -> None:
    events = await mock_stream(chunk({"content": "a"}) + b"\n\n")
    assert events[:-1] == [ContentDelta("a")]
    err = last_error(events)
    assert err.kind == "cut"
    assert err.sentence == ("The answer ended before the server said it was finished. "
                            "The text so far is kept; retry for a full answer.")


async def test_mock_chunk_that_is_a_list_is_bad_response() -> None:
    events = await mock_stream(chunk({"content": "a"}) + b"\n\ndata: [1, 2]\n\n" + chunk({"content": "b"}) + b"\n\n")
    assert events[:-1] == [ContentDelta("a")]
    assert last_error(events).kind == "bad_response"


async def test_mock_error_event_after_200_redacts_the_key() -> None:
    body = chunk({"content": "a"}) + b"\n\n" + b"data: " + err_body(f"upstream rejected {SECRET}") + b"\n\n"
    async with make_client("http://mock.test/v1", SECRET, transport=mock(sse_response(body))) as c:
        events = await collect(c, "m")
    err = last_error(events)
    assert err.kind == "stream_error"
    assert_key_hidden(err)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<!doctype html><html><body>Welcome to our website</body></html>\n", "text/html"),
        (b'{"status": "ok", "service": "something else"}', "application/json"),
        (b"", "text/event-stream"),
    ],
    ids=["html", "other-json", "empty"],
)
async def test_mock_200_that_is_not_sse_is_bad_response(body: bytes, content_type: str) -> None:
    events = await mock_stream(body, content_type=content_type)
    assert len(events) == 1
    err = last_error(events)
    assert err.kind == "bad_response"
    assert err.sentence == ("mock.test did not answer like an OpenAI-compatible API. "
                            "Check the base URL in Settings (f2); it usually ends in /v1.")


# ---------------------------------------------------------------------------
# complete() (non-streaming)


async def test_complete_normal(client: ApertisClient, fake_server: FakeServer) -> None:
    model = "gpt-4o"
    result = await client.complete(model, MESSAGES, ChatParams(max_tokens=100))
    text = answer(model)
    assert result == Completion(content=text, reasoning="", tool_calls=None,
                                usage=server_usage(MESSAGES, count_tokens(text)), finish_reason="stop")
    [req] = fake_server.requests
    assert req["json"] == {"model": model, "messages": MESSAGES, "stream": False, "max_tokens": 100}
    assert "stream_options" not in req["json"]
    assert req["headers"]["authorization"] == "Bearer test-key"
    assert req["headers"]["accept"] == "application/json"
    assert req["headers"]["user-agent"].startswith("apertis-tui/")


@pytest.mark.parametrize("model", ["test/reasoning", "test/reasoning-alt"])
async def test_complete_reasoning(client: ApertisClient, model: str) -> None:
    result = await client.complete(model, MESSAGES)
    assert result.reasoning == _REASONING_TEXT
    assert result.content == answer(model)
    assert result.finish_reason == "stop"


async def test_complete_tools(client: ApertisClient) -> None:
    result = await client.complete("test/tools", MESSAGES, tools=TOOLS)
    assert result.content == ""
    assert result.finish_reason == "tool_calls"
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in result.tool_calls or []] == [
        tuple(t) for t in _Handler._TOOL_CALLS
    ]


async def test_complete_hostile_is_cleaned(client: ApertisClient) -> None:
    result = await client.complete("test/hostile", MESSAGES)
    assert "\x1b" not in result.content and "\r" not in result.content and "\x9b" not in result.content
    assert "[bold]x[/bold]" in result.content


@pytest.mark.parametrize(("model", "kind", "status", "retry_after"), ERROR_SCENARIOS)
async def test_complete_error_statuses(client: ApertisClient, model: str, kind: str, status: int,
                                       retry_after: float | None) -> None:
    with pytest.raises(ApiError) as info:
        await client.complete(model, MESSAGES)
    err = info.value
    assert (err.kind, err.status, err.retry_after) == (kind, status, retry_after)
    assert "<html" not in err.sentence.lower()


async def test_complete_wrong_key(fake_server: FakeServer) -> None:
    async with make_client(fake_server.base_url, SECRET) as c:
        with pytest.raises(ApiError) as info:
            await c.complete("gpt-4o", MESSAGES)
    assert info.value.kind == "auth"
    assert_key_hidden(info.value)


async def test_complete_unknown_model(client: ApertisClient) -> None:
    with pytest.raises(ApiError) as info:
        await client.complete("no-such/model-x", MESSAGES)
    assert info.value.kind == "model_not_found"
    assert "no-such/model-x" in info.value.message


async def test_complete_truncated_json_is_bad_response(client: ApertisClient) -> None:
    with pytest.raises(ApiError) as info:
        await client.complete("test/bad-json", MESSAGES)
    assert info.value.kind == "bad_response"


async def test_complete_cut_body(client: ApertisClient) -> None:
    with pytest.raises(ApiError) as info:
        await client.complete("test/cut", MESSAGES)
    assert info.value.kind == "connect"
    assert info.value.retryable


async def test_complete_stall_times_out(fake_server: FakeServer) -> None:
    try:
        async with make_client(fake_server.base_url, read_timeout=0.3) as c:
            start = time.monotonic()
            with pytest.raises(ApiError) as info:
                await c.complete("test/stall", MESSAGES)
            elapsed = time.monotonic() - start
    finally:
        fake_server.stall_release.set()
    assert info.value.kind == "timeout"
    assert "before the answer began" in info.value.message
    assert elapsed < 3.0


async def test_complete_midstream_error_scenario_is_a_server_error(client: ApertisClient) -> None:
    with pytest.raises(ApiError) as info:
        await client.complete("test/midstream-error", MESSAGES)
    assert (info.value.kind, info.value.status) == ("server", 502)
    assert info.value.detail == "Upstream provider overloaded"


def complete_mock(payload: Any) -> httpx.MockTransport:
    return mock(lambda request: httpx.Response(200, json=payload))


@pytest.mark.parametrize(
    "payload",
    [
        {"status": "ok"},
        [],
        {"choices": []},
        {"choices": ["x"]},
        {"choices": [{"message": "just text"}]},
        {"choices": [{"message": ["x"]}]},
    ],
    ids=["other-json", "list", "no-choices", "choice-not-dict", "message-str", "message-list"],
)
async def test_complete_odd_shapes_are_bad_response(payload: Any) -> None:
    async with make_client("http://mock.test/v1", transport=complete_mock(payload)) as c:
        with pytest.raises(ApiError) as info:
            await c.complete("m", MESSAGES)
    assert info.value.kind == "bad_response"


async def test_complete_error_in_a_200_body() -> None:
    payload = {"error": {"message": f"upstream said no to {SECRET}", "type": "upstream_error"}}
    async with make_client("http://mock.test/v1", SECRET, transport=complete_mock(payload)) as c:
        with pytest.raises(ApiError) as info:
            await c.complete("m", MESSAGES)
    assert info.value.kind == "stream_error"
    assert_key_hidden(info.value)


async def test_complete_null_content_and_missing_usage() -> None:
    payload = {"choices": [{"index": 0, "message": {"role": "assistant", "content": None}, "finish_reason": "stop"}]}
    async with make_client("http://mock.test/v1", transport=complete_mock(payload)) as c:
        result = await c.complete("m", MESSAGES)
    assert result == Completion(content="", reasoning="", tool_calls=None, usage=None, finish_reason="stop")


# ---------------------------------------------------------------------------
# list_models()


async def test_list_models(client: ApertisClient, fake_server: FakeServer) -> None:
    models = await client.list_models()
    assert len(models) >= 430
    assert all(isinstance(m, ModelInfo) for m in models)
    ids = [m.id for m in models]
    assert len(set(ids)) == len(ids)
    assert ids == MODEL_IDS
    by_id = {m.id: m for m in models}
    lacking_owner = [m["id"] for m in MODELS if "owned_by" not in m]
    lacking_created = [m["id"] for m in MODELS if "created" not in m]
    assert lacking_owner and lacking_created
    for mid in lacking_owner:
        assert by_id[mid].owned_by == ""
    for mid in lacking_created:
        assert by_id[mid].created is None
    assert by_id["gpt-4o"] == ModelInfo("gpt-4o", "openai", MODELS[0]["created"])
    [req] = fake_server.requests
    assert (req["method"], req["path"]) == ("GET", "/v1/models")
    assert req["headers"]["authorization"] == "Bearer test-key"
    assert req["headers"]["user-agent"].startswith("apertis-tui/")


async def test_list_models_wrong_key(fake_server: FakeServer) -> None:
    async with make_client(fake_server.base_url, SECRET) as c:
        with pytest.raises(ApiError) as info:
            await c.list_models()
    assert (info.value.kind, info.value.status) == ("auth", 401)
    assert_key_hidden(info.value)


async def test_list_models_wrong_path_says_check_the_base_url(fake_server: FakeServer) -> None:
    base = fake_server.base_url.rsplit("/", 1)[0] + "/v2"
    async with make_client(base) as c:
        with pytest.raises(ApiError) as info:
            await c.list_models()
    err = info.value
    assert (err.kind, err.status) == ("bad_response", 404)
    assert "base URL" in err.hint
    assert "this model" not in err.sentence


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<!doctype html><html><head><title>Apertis</title></head><body>hi</body></html>", "text/html"),
        (b'{"status": "ok", "version": "1.2"}', "application/json"),
        (b'{"data": {"models": []}}', "application/json"),
        (b'"models"', "application/json"),
    ],
    ids=["html", "other-json", "data-not-list", "json-string"],
)
async def test_list_models_not_openai_is_bad_response(body: bytes, content_type: str) -> None:
    transport = mock(lambda request: httpx.Response(200, content=body, headers={"content-type": content_type}))
    async with make_client("http://mock.test/v1", transport=transport) as c:
        with pytest.raises(ApiError) as info:
            await c.list_models()
    assert info.value.kind == "bad_response"
    assert info.value.sentence == ("mock.test did not answer like an OpenAI-compatible API. "
                                   "Check the base URL in Settings (f2); it usually ends in /v1.")


async def test_list_models_tolerates_odd_entries() -> None:
    payload = {"data": [
        {"id": "a", "owned_by": "x", "created": 5},
        {"id": "a", "owned_by": "duplicate"},
        {"id": "b"},
        {"id": "c", "owned_by": None, "created": "yesterday"},
        {"id": "d", "created": True},
        {"id": "evil\x1b]0;pwned\x07-model", "owned_by": "o\x1b[2Jwner"},
        {"id": ""},
        {"id": "   "},
        {"id": 7},
        {"name": "no id"},
        "a string",
        None,
    ]}
    seen: list[httpx.Request] = []
    transport = mock(lambda request: httpx.Response(200, json=payload), seen)
    async with make_client("http://mock.test/v1", transport=transport) as c:
        models = await c.list_models()
    assert models == [
        ModelInfo("a", "x", 5),
        ModelInfo("b", "", None),
        ModelInfo("c", "", None),
        ModelInfo("d", "", None),
        ModelInfo("evil]0;pwned-model", "o[2Jwner", None),
    ]
    assert str(seen[0].url) == "http://mock.test/v1/models"


async def test_list_models_bare_list_and_empty() -> None:
    for payload, expected in (([{"id": "x"}], [ModelInfo("x")]), ({"data": []}, [])):
        async with make_client("http://mock.test/v1", transport=mock(lambda r, p=payload: httpx.Response(200, json=p))
                               ) as c:
            assert await c.list_models() == expected


@pytest.mark.parametrize(("status", "kind"), [(402, "quota"), (429, "rate_limited"), (500, "server"), (502, "server")])
async def test_list_models_error_statuses(status: int, kind: str) -> None:
    transport = mock(lambda request: httpx.Response(status, content=b"<html>oops</html>"))
    async with make_client("http://mock.test/v1", transport=transport) as c:
        with pytest.raises(ApiError) as info:
            await c.list_models()
    assert (info.value.kind, info.value.status) == (kind, status)
    assert "<html" not in info.value.sentence


# ---------------------------------------------------------------------------
# A key that cannot be sent in a header


@pytest.mark.parametrize("key", ["sk-abc\u200bdef", "sk-ünïcode-key", "sk-abc\ndef"])
async def test_unsendable_key_is_an_auth_error_not_a_crash(key: str) -> None:
    seen: list[httpx.Request] = []
    transport = mock(lambda request: httpx.Response(200, json={"data": []}), seen)
    async with make_client("http://mock.test/v1", key, transport=transport) as c:
        events = await collect(c, "m")
        with pytest.raises(ApiError) as models_err:
            await c.list_models()
        with pytest.raises(ApiError) as complete_err:
            await c.complete("m", MESSAGES)
    err = last_error(events)
    assert err.kind == "auth" and models_err.value.kind == "auth" and complete_err.value.kind == "auth"
    assert "ASCII" in err.message
    assert key not in err.sentence
    assert seen == []


async def test_streamed_answers_reuse_one_connection(fake_server: FakeServer) -> None:
    # Reading the body to its end after [DONE] keeps the connection for the next request:
    # breaking off there made httpx drop it, and each request paid a new TCP (and TLS) set-up.
    async with make_client(fake_server.base_url) as c:
        for _ in range(5):
            events = await collect(c, "gpt-4o")
            assert isinstance(events[-1], Finish)
    assert fake_server.accepted == 1
