"""The fake server does what tests/fake_server.py promises, over a real socket (plain httpx)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Iterator

import httpx
import pytest

from tests.fake_server import (
    HOSTILE_TEXT,
    MODEL_IDS,
    SCENARIOS,
    FakeServer,
    count_tokens,
    long_markdown,
    split_tokens,
)

AUTH = {"Authorization": "Bearer test-key"}


@pytest.fixture
def client(fake_server: FakeServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake_server.base_url, headers=AUTH, timeout=5) as c:
        yield c


def body(model: str, text: str = "hello there", stream: bool = True, **extra: Any) -> dict[str, Any]:
    req: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": text}],
        "stream": stream,
    }
    req.update(extra)
    return req


def parse_sse(raw: str) -> tuple[list[Any], list[str]]:
    """Return (data payloads, comment lines). [DONE] stays the string "[DONE]"; bad JSON → str."""
    events: list[Any] = []
    comments: list[str] = []
    for block in raw.split("\n\n"):
        data_lines = []
        for line in block.split("\n"):
            if line.startswith(":"):
                comments.append(line)
            elif line.startswith("data: "):
                data_lines.append(line[6:])
        if not data_lines:
            continue
        payload = "\n".join(data_lines)
        try:
            events.append(json.loads(payload) if payload != "[DONE]" else payload)
        except ValueError:
            events.append(payload)
    return events, comments


def stream_all(client: httpx.Client, model: str, text: str = "hello there", **extra: Any):
    with client.stream("POST", "/chat/completions", json=body(model, text, **extra)) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    return parse_sse(raw)


def content_of(events: list[Any], field: str = "content") -> str:
    out = []
    for e in events:
        if isinstance(e, dict) and e.get("choices"):
            out.append(e["choices"][0]["delta"].get(field) or "")
    return "".join(out)


# ---------------------------------------------------------------------------
# models and auth


def test_models_list(client: httpx.Client) -> None:
    r = client.get("/models")
    assert r.status_code == 200
    data = r.json()
    assert data["object"] == "list" and data["success"] is True
    ids = [m["id"] for m in data["data"]]
    assert len(ids) >= 430 and len(set(ids)) == len(ids)
    assert ids == MODEL_IDS
    for wanted in ("gpt-4o", "claude-sonnet-4-20250514", "gemini-2.5-pro", "deepseek-reasoner", "grok-3"):
        assert wanted in ids
    assert set(SCENARIOS) <= set(ids)
    by_id = {m["id"]: m for m in data["data"]}
    assert all(by_id[s]["owned_by"] == "apertis-test" for s in SCENARIOS)
    assert any("supported_endpoint_types" in m for m in data["data"])
    assert any("permission" in m and "root" in m and "parent" in m for m in data["data"])
    assert any("owned_by" not in m for m in data["data"])
    assert any("created" not in m for m in data["data"])


def test_missing_key_is_401(fake_server: FakeServer) -> None:
    r = httpx.get(fake_server.base_url + "/models")
    assert r.status_code == 401
    err = r.json()["error"]
    assert err["code"] == "invalid_api_key" and err["message"].startswith("Invalid token")


def test_wrong_key_is_401_with_masked_prefix(fake_server: FakeServer) -> None:
    wrong = "sk-abcdefghijklmnop1234"
    r = httpx.post(
        fake_server.base_url + "/chat/completions",
        json=body("gpt-4o"),
        headers={"Authorization": f"Bearer {wrong}"},
    )
    assert r.status_code == 401
    msg = r.json()["error"]["message"]
    assert "sk-abcde****" in msg and wrong not in msg
    assert fake_server.requests[-1]["headers"]["authorization"] == f"Bearer {wrong}"


# ---------------------------------------------------------------------------
# normal answers


def test_normal_stream(client: httpx.Client, fake_server: FakeServer) -> None:
    events, _ = stream_all(client, "gpt-4o", stream_options={"include_usage": True})
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "gpt-4o" for c in chunks)
    assert all(c["id"].startswith("chatcmpl-") for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = content_of(chunks)
    assert text.startswith("**gpt-4o** got 1 messages. You said: hello there")
    assert "## " in text and "\n- " in text and "```python" in text
    finish = chunks[-2]
    assert finish["choices"][0]["finish_reason"] == "stop" and finish["choices"][0]["delta"] == {}
    usage = chunks[-1]
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == count_tokens(text)
    u = usage["usage"]
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]
    # one token (a word with its leading space) per content event
    tokens = [c["choices"][0]["delta"]["content"] for c in chunks[1:-2]]
    assert tokens == split_tokens(text)


def test_no_usage_unless_asked(client: httpx.Client) -> None:
    events, _ = stream_all(client, "gpt-4o")
    assert not any(isinstance(e, dict) and "usage" in e for e in events)
    assert events[-1] == "[DONE]"


def test_non_streaming_and_history(client: httpx.Client, fake_server: FakeServer) -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "second"}]},
    ]
    r = client.post("/chat/completions", json={"model": "deepseek-chat", "messages": messages})
    assert r.status_code == 200
    obj = r.json()
    assert obj["object"] == "chat.completion" and obj["model"] == "deepseek-chat"
    msg = obj["choices"][0]["message"]
    assert msg["role"] == "assistant"
    assert msg["content"].startswith("**deepseek-chat** got 4 messages. You said: second")
    assert obj["choices"][0]["finish_reason"] == "stop"
    assert obj["usage"]["completion_tokens"] == count_tokens(msg["content"])
    rec = fake_server.requests[-1]
    assert rec["method"] == "POST" and rec["path"] == "/v1/chat/completions"
    assert rec["json"]["model"] == "deepseek-chat" and rec["json"]["messages"] == messages
    assert rec["headers"]["content-type"] == "application/json"
    assert fake_server.chat_requests == [rec]
    fake_server.reset()
    assert fake_server.requests == []


def test_echo(client: httpx.Client) -> None:
    events, _ = stream_all(client, "gpt-4o-mini", "echo:exactly *this*\nand that")
    assert content_of(events) == "exactly *this*\nand that"


def test_unknown_model_is_503(client: httpx.Client) -> None:
    for stream in (True, False):
        r = client.post("/chat/completions", json=body("no-such-model", stream=stream))
        assert r.status_code == 503
        err = r.json()["error"]
        assert err["code"] == "model_not_found" and "no-such-model" in err["message"]


def test_rate_paces_and_batches(client: httpx.Client, fake_server: FakeServer) -> None:
    fake_server.rate = 400  # 40 tokens ≈ 0.1 s
    text = "echo:" + " ".join(f"w{i}" for i in range(40))
    t0 = time.monotonic()
    events, _ = stream_all(client, "gpt-4o", text)
    elapsed = time.monotonic() - t0
    assert content_of(events) == text[5:]
    assert 0.08 <= elapsed < 1.0


def test_slow_is_20_per_second(client: httpx.Client) -> None:
    with client.stream("POST", "/chat/completions", json=body("test/slow")) as r:
        stamps = []
        for line in r.iter_lines():
            if line.startswith("data: ") and '"content": "' in line and '"role"' not in line:
                stamps.append(time.monotonic())
                if len(stamps) == 4:
                    break
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert all(0.03 < g < 0.2 for g in gaps), gaps


# ---------------------------------------------------------------------------
# stream quirks


def test_long_markdown() -> None:
    text = long_markdown()
    assert count_tokens(text) == 20000
    assert long_markdown() == text  # deterministic
    for marker in ("\n# ", "\n## ", "\n### ", "\n- ", "\n1. ", "\n| ", "\n> ", "```python", "```rust", "```sql"):
        assert marker in "\n" + text, marker
    assert text.count("```") % 2 == 0
    assert count_tokens(long_markdown(2000)) == 2000


def test_long_with_override(client: httpx.Client) -> None:
    events, _ = stream_all(client, "test/long", "tokens=300")
    assert events[-1] == "[DONE]"
    assert content_of(events) == long_markdown(300)


@pytest.mark.parametrize("model,field", [("test/reasoning", "reasoning_content"), ("test/reasoning-alt", "reasoning")])
def test_reasoning(client: httpx.Client, model: str, field: str) -> None:
    events, _ = stream_all(client, model, stream_options={"include_usage": True})
    reasoning = content_of(events, field)
    answer = content_of(events)
    assert len(reasoning.split(". ")) >= 3 and answer.startswith(f"**{model}**")
    # all reasoning arrives before the first answer token
    kinds = [
        "r" if e["choices"][0]["delta"].get(field) else "c"
        for e in events
        if isinstance(e, dict) and e.get("choices") and (e["choices"][0]["delta"].get(field) or e["choices"][0]["delta"].get("content"))
    ]
    assert "".join(kinds) == "r" * kinds.count("r") + "c" * kinds.count("c")
    assert events[-1] == "[DONE]"


def test_tools(client: httpx.Client) -> None:
    events, _ = stream_all(client, "test/tools")
    assert events[-1] == "[DONE]"
    calls: dict[int, dict[str, str]] = {}
    order = []
    for e in events[:-1]:
        for tc in e["choices"][0]["delta"].get("tool_calls") or []:
            order.append(tc["index"])
            slot = calls.setdefault(tc["index"], {"id": "", "name": "", "arguments": ""})
            if "id" in tc:
                assert slot["id"] == ""  # only the first fragment has the id and name
                slot["id"] = tc["id"]
                slot["name"] = tc["function"]["name"]
                assert tc["function"]["arguments"] == "" and tc["type"] == "function"
            else:
                assert set(tc) == {"index", "function"} and set(tc["function"]) == {"arguments"}
                slot["arguments"] += tc["function"]["arguments"]
    assert calls[0]["name"] == "get_weather" and json.loads(calls[0]["arguments"])["city"] == "Paris"
    assert calls[1]["name"] == "get_time" and json.loads(calls[1]["arguments"])
    assert "0101" in "".join(map(str, order))  # interleaved
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"
    # after the tool results, a normal answer
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": calls[0]["id"], "type": "function", "function": {"name": "get_weather", "arguments": calls[0]["arguments"]}}]},
        {"role": "tool", "tool_call_id": calls[0]["id"], "content": "18 C"},
    ]
    r = client.post("/chat/completions", json={"model": "test/tools", "messages": messages})
    assert r.json()["choices"][0]["message"]["content"].startswith("**test/tools** got 3 messages")


def test_comments(client: httpx.Client) -> None:
    events, comments = stream_all(client, "test/comments")
    assert {": keep-alive", ": PING", ": OPENROUTER PROCESSING"} <= set(comments)
    assert content_of(events).startswith("**test/comments**")
    assert events[-1] == "[DONE]"


def test_usage_shapes(client: httpx.Client) -> None:
    events, _ = stream_all(client, "test/usage-shapes")  # include_usage not asked
    usages = [e for e in events if isinstance(e, dict) and "usage" in e]
    shapes = [repr(e.get("choices", "missing")) for e in usages]
    assert shapes == ["[]", "None", "'missing'", "[{'index': 0, 'delta': {}}]"]
    true = usages[-1]["usage"]
    assert true["completion_tokens"] == count_tokens(content_of(events))
    assert all(u["usage"]["completion_tokens"] < true["completion_tokens"] for u in usages[:-1])
    assert events[-1] == "[DONE]"


def test_no_done(client: httpx.Client) -> None:
    events, _ = stream_all(client, "test/no-done")  # clean end of body: no exception
    assert "[DONE]" not in events
    assert events[-1]["choices"][0]["finish_reason"] == "stop"


def test_cut(client: httpx.Client) -> None:
    got = []
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        with client.stream("POST", "/chat/completions", json=body("test/cut")) as r:
            for line in r.iter_lines():
                got.append(line)
    events, _ = parse_sse("\n".join(got))
    assert "[DONE]" not in events and len(events) > 3
    # the server still answers afterwards
    assert client.get("/models").status_code == 200


def test_cut_non_streaming(client: httpx.Client) -> None:
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post("/chat/completions", json=body("test/cut", stream=False))


def test_midstream_error(client: httpx.Client) -> None:
    events, _ = stream_all(client, "test/midstream-error")
    assert events[-1] == {"error": {"message": "Upstream provider overloaded", "type": "upstream_error", "code": "502"}}
    assert content_of(events[:-1])
    assert "[DONE]" not in events


def test_changing_id(client: httpx.Client) -> None:
    events, _ = stream_all(client, "test/changing-id")
    ids = [e["id"] for e in events if isinstance(e, dict)]
    assert len(set(ids)) == 2 and ids[0] != ids[-1]
    assert content_of(events).startswith("**test/changing-id**")


def test_bad_json(client: httpx.Client) -> None:
    events, _ = stream_all(client, "test/bad-json")
    assert "{not json" in events
    i = events.index("{not json")
    assert content_of(events[:i]) and content_of(events[i + 1 :])
    assert events[-1] == "[DONE]"


def test_stall_releases(client: httpx.Client, fake_server: FakeServer) -> None:
    lines: list[str] = []
    with client.stream("POST", "/chat/completions", json=body("test/stall")) as r:
        it = r.iter_lines()
        while not any('"content": "' in l and '"role"' not in l for l in lines):
            lines.append(next(it))
        threading.Timer(0.2, fake_server.stall_release.set).start()
        t0 = time.monotonic()
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            for line in it:
                lines.append(line)
        assert 0.15 < time.monotonic() - t0 < 2
    fake_server.reset()
    assert not fake_server.stall_release.is_set()


def test_stall_ends_on_stop() -> None:
    server = FakeServer(key="k").start()
    with httpx.Client(timeout=5) as c:
        with c.stream("POST", server.base_url + "/chat/completions", json=body("test/stall"), headers={"Authorization": "Bearer k"}) as r:
            it = r.iter_lines()
            next(it)
            threading.Timer(0.1, server.stop).start()
            t0 = time.monotonic()
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                for _ in it:
                    pass
            assert time.monotonic() - t0 < 2


def test_hostile_arrives_as_real_control_characters(client: httpx.Client) -> None:
    with client.stream("POST", "/chat/completions", json=body("test/hostile")) as r:
        raw = r.read()
    assert b"\x1b" not in raw and b"\\u001b" in raw  # JSON escapes on the wire
    events, _ = parse_sse(raw.decode())
    text = content_of(events)
    assert text == HOSTILE_TEXT
    for needle in ("[bold]x[/bold]", "[/]", "[@click=app.quit]click[/]", "\x1b[31mred\x1b[0m",
                   "\x1b]52;c;aGVsbG8=\x07", "\x1b]0;pwned\x07", "\x1b[2J", "\x9b", "\u200b", "\u202e", "\r\n"):
        assert needle in text


# ---------------------------------------------------------------------------
# errors before the stream


ERRORS = {
    "test/err-401": (401, "invalid_api_key"),
    "test/err-402": (402, "insufficient_user_quota"),
    "test/err-403-quota": (403, "insufficient_user_quota"),
    "test/err-403": (403, "access_denied"),
    "test/err-404": (404, "model_not_found"),
    "test/err-503-model": (503, "model_not_found"),
    "test/err-429": (429, "rate_limit_exceeded"),
    "test/err-500": (500, "internal_error"),
    "test/err-400": (400, "invalid_value"),
}


@pytest.mark.parametrize("stream", [True, False])
def test_error_scenarios(client: httpx.Client, stream: bool) -> None:
    for model, (status, code) in ERRORS.items():
        r = client.post("/chat/completions", json=body(model, stream=stream))
        assert r.status_code == status, model
        err = r.json()["error"]
        assert err["code"] == code and err["message"], model
    r = client.post("/chat/completions", json=body("test/err-403-quota", stream=stream))
    assert r.json()["error"]["message"] == "user quota is not enough"
    r = client.post("/chat/completions", json=body("test/err-404", stream=stream))
    assert r.json()["error"]["message"].startswith("The model `test/err-404` does not exist")
    r = client.post("/chat/completions", json=body("test/err-400", stream=stream))
    assert r.json()["error"]["param"] == "temperature"
    r = client.post("/chat/completions", json=body("test/err-429", stream=stream))
    assert r.headers["retry-after"] == "7"
    r = client.post("/chat/completions", json=body("test/err-429-empty", stream=stream))
    assert r.status_code == 429 and r.content == b"" and "retry-after" not in r.headers
    r = client.post("/chat/completions", json=body("test/err-502-html", stream=stream))
    assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
    assert "<center>nginx" in r.text


# ---------------------------------------------------------------------------
# robustness


def test_client_disconnect_is_quiet(client: httpx.Client, fake_server: FakeServer, capfd: pytest.CaptureFixture[str]) -> None:
    with client.stream("POST", "/chat/completions", json=body("test/slow")) as r:
        it = r.iter_lines()
        next(it)
        next(it)
    time.sleep(0.25)  # the server writes a few more tokens into a closed socket
    assert client.get("/models").status_code == 200
    out, err = capfd.readouterr()
    assert "Traceback" not in err and "Error" not in err


def test_context_manager_and_script_line(capsys: pytest.CaptureFixture[str]) -> None:
    with FakeServer(key="k", rate=10) as s:
        assert s.base_url == f"http://127.0.0.1:{s.port}/v1" and s.rate == 10 and s.key == "k"
        assert httpx.get(s.base_url + "/models", headers={"Authorization": "Bearer k"}).status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(s.base_url + "/models", timeout=1)
