"""Reading a web search's answer and the server's timings, without a terminal: the chunk
interpreter, the reply fold, and the client's real path on a loopback socket.

The shapes are the ones Apertis documents for its web search (its docs' streamed indicator
chunk and non-streamed body with ``web_sources`` and an empty ``error`` object; the headers
``X-Web-Search-*``), served whole and in 1-24-byte pieces; and every recording of
``../shared/sse-corpus`` (none of which searched the web) must come out with no sources, no web
search and no server timings, so the new reading never misfires on another server's stream.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from apertis_tui.core.api import ApertisClient
from apertis_tui.core.chunks import ChunkInterpreter
from apertis_tui.core.events import (ContentDelta, Finish, ServerTimingsEvent, StreamError, WebSearching,
                                     WebSources)
from apertis_tui.core.reply import ReplyAccumulator
from apertis_tui.core.web import ServerTimings, WebOptions, WebSearch, WebSource, parse_timings, safe_url, search_report
from tests.replay_server import Recording, ReplayServer

KEY = "sk-web-replay-0123456789"
MESSAGES = [{"role": "user", "content": "What is the weather in Tokyo today?"}]

# As Apertis's docs show a streamed web search: the indicator (its own id, no model), then the
# model's chunks under another id; here with sources on a chunk half-way and all of them, again,
# beside the finish and an empty error object, and the server's timings in the usage.
INDICATOR = {"id": "web-search", "object": "chat.completion.chunk", "created": 1768287477, "model": "",
             "choices": [{"index": 0, "delta": {"role": "assistant", "content": "🔍 Web searching...\n\n"}}]}
SOURCES = [
    {"title": "Tokyo weather today", "url": "https://weather.example.jp/tokyo", "snippet": "Sunny, 14°C"},
    {"title": "Japan Meteorological Agency", "url": "https://www.jma.go.jp/", "snippet": "Forecasts"},
]
TIMINGS = {"engine_ttft_ms": 120.5, "engine_ttlt_ms": 640, "service_ttft_ms": 181, "total_duration_ms": 702}


def chunk(delta: dict, cid: str = "chatcmpl-xxx", **extra) -> dict:
    return {"id": cid, "object": "chat.completion.chunk", "created": 1768287475, "model": "gpt-4.1-mini",
            "choices": [{"index": 0, "delta": delta}], **extra}


STREAM = [
    INDICATOR,
    chunk({"role": "assistant", "content": ""}),
    chunk({"content": "The"}),
    chunk({"content": " weather"}, web_sources=SOURCES[:1]),
    chunk({"content": " in"}, cid="chatcmpl-yyy"),  # the id changes mid-stream
    chunk({"content": " Tokyo"}, cid="chatcmpl-yyy"),
    {**chunk({}, cid="chatcmpl-yyy"), "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
     "web_sources": SOURCES, "error": {"message": "", "type": "", "param": "", "code": None}},
    {**chunk({}, cid="chatcmpl-yyy"), "choices": [],
     "usage": {"prompt_tokens": 1265, "completion_tokens": 4, "total_tokens": 1269, "latency_checkpoint": TIMINGS}},
]
STREAM_BODY = "".join(f"data: {json.dumps(c, ensure_ascii=False)}\n\n" for c in STREAM).encode() + b"data: [DONE]\n\n"
WEB_HEADERS = {"X-Web-Search-Used": "true", "X-Web-Search-Count": "2", "X-Web-Search-Status": "success"}

# As Apertis's docs show a whole (non-streamed) web search answer.
WHOLE = {
    "model": "gpt-4.1-mini", "system_fingerprint": "fp_f97eff32c5",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "As of today it is sunny in Tokyo [1]."}}],
    "usage": {"prompt_tokens": 1265, "completion_tokens": 43, "total_tokens": 1308},
    "web_sources": SOURCES,
    "error": {"message": "", "type": "", "param": "", "code": None},
}


async def replay(recording: Recording, *, pieces: bool, stream: bool = True,
                 web: WebOptions | None = WebOptions()) -> tuple[ReplyAccumulator, list[bytes]]:
    async with ReplayServer(recording, pieces=pieces, seed="web") as server:
        client = ApertisClient(server.base_url, KEY, connect_timeout=5, read_timeout=10)
        try:
            reply = ReplyAccumulator()
            async for event in client.chat("gpt-4.1-mini", MESSAGES, stream=stream, web=web):
                reply.feed(event)
        finally:
            await client.aclose()
    return reply, server.requests


# ---------------------------------------------------------------------------
# Chunk by chunk


def test_the_indicator_chunk_is_a_status_not_text():
    interpreter = ChunkInterpreter()
    assert list(interpreter.events(INDICATOR)) == [WebSearching()]
    assert not interpreter.saw_any  # the answer has not begun (a timeout now is "before the answer")


def test_sources_on_any_chunk_and_the_empty_error_beside_the_finish():
    interpreter = ChunkInterpreter()
    events = [e for c in STREAM for e in interpreter.events(c)]
    assert not any(isinstance(e, StreamError) for e in events)
    assert "".join(e.text for e in events if isinstance(e, ContentDelta)) == "The weather in Tokyo"
    sources = [e for e in events if isinstance(e, WebSources)]
    assert [len(e.sources) for e in sources] == [1, 2]
    assert [e for e in events if isinstance(e, ServerTimingsEvent)] == [ServerTimingsEvent(ServerTimings(**TIMINGS))]
    assert interpreter.finish_reason == "stop"


def test_the_fold_numbers_each_source_once_and_knows_when_the_search_is_over():
    reply = ReplyAccumulator()
    interpreter = ChunkInterpreter()
    for event in interpreter.events(INDICATOR):
        reply.feed(event)
    assert reply.searching and reply.content == ""
    for c in STREAM[1:]:
        for event in interpreter.events(c):
            reply.feed(event)
    assert not reply.searching
    assert reply.sources == [WebSource("Tokyo weather today", "https://weather.example.jp/tokyo", "Sunny, 14°C"),
                             WebSource("Japan Meteorological Agency", "https://www.jma.go.jp/", "Forecasts")]
    assert reply.completion().sources == tuple(reply.sources)


@pytest.mark.parametrize(("value", "expected"), [
    (TIMINGS, ServerTimings(**TIMINGS)),
    ({"service_ttft_ms": 90}, ServerTimings(service_ttft_ms=90)),
    ({"engine_ttft_ms": "90", "service_ttft_ms": True, "engine_ttlt_ms": -1, "total_duration_ms": math.nan}, None),
    ({"unknown": 3}, None),
    ("not an object", None),
])
def test_latency_checkpoint_keeps_only_plain_numbers(value, expected):
    assert parse_timings(value) == expected


def test_the_server_ttft_is_the_service_one_else_the_engine_one():
    assert ServerTimings(engine_ttft_ms=100, service_ttft_ms=140).ttft_ms == 140
    assert ServerTimings(engine_ttft_ms=100).ttft_ms == 100


@pytest.mark.parametrize(("headers", "expected"), [
    (WEB_HEADERS, WebSearch(True, 2, "success")),
    ({"X-Web-Search-Used": "false", "X-Web-Search-Count": "0", "X-Web-Search-Status": "no_results"},
     WebSearch(False, 0, "no_results")),
    ({"X-Web-Search-Status": "FAILED\x1b[2J", "X-Web-Search-Count": "many"}, WebSearch(None, None, "failed[2j")),
    ({}, None),
])
def test_the_web_search_headers(headers, expected):
    import httpx

    assert search_report(httpx.Headers(headers)) == expected


@pytest.mark.parametrize(("url", "expected"), [
    ("https://www.sqlite.org/wal.html", "https://www.sqlite.org/wal.html"),
    ("HTTP://Example.COM/Path?q=1#f", "http://example.com/Path?q=1#f"),
    ("https://bücher.example/straße", "https://xn--bcher-kva.example/stra%C3%9Fe"),
    ("https://e.example/\x1b]8;;https://x\x1b\\", ""),  # would end our hyperlink and start theirs
    ("https://e.example/a b", ""),
    ("javascript:alert(1)", ""), ("file:///etc/passwd", ""), ("https://", ""),
    ("https://user:pw@bank.example.evil/", ""),  # shown by its host, it would mislead
    ('https://e.example/"<>`{}|^', "https://e.example/%22%3C%3E%60%7B%7D%7C%5E"),
    (42, ""), (None, ""),
])
def test_only_plain_http_addresses_become_links(url, expected):
    assert safe_url(url) == expected


# ---------------------------------------------------------------------------
# The client's real path, on a socket


@pytest.mark.parametrize("pieces", [False, True], ids=["whole", "pieces"])
async def test_a_documented_stream_reads_right(pieces):
    reply, requests = await replay(Recording(STREAM_BODY, headers=WEB_HEADERS), pieces=pieces)
    body = json.loads(requests[0].split(b"\r\n\r\n", 1)[1])
    assert body["model"] == "gpt-4.1-mini:web"
    assert body["web_results_count"] == 5 and body["web_content_length"] == "medium"
    assert reply.content == "The weather in Tokyo"  # no indicator in it
    assert isinstance(reply.end, Finish) and reply.end.reason == "stop"
    assert [s.url for s in reply.sources] == [s["url"] for s in SOURCES]
    assert reply.web_search == WebSearch(True, 2, "success")
    assert reply.server_timings == ServerTimings(**TIMINGS)
    assert reply.usage is not None and reply.usage.prompt_tokens == 1265


async def test_a_documented_whole_answer_reads_right():
    recording = Recording(json.dumps(WHOLE).encode(), content_type="application/json", headers=WEB_HEADERS)
    reply, _ = await replay(recording, pieces=False, stream=False)
    assert reply.content == "As of today it is sunny in Tokyo [1]."
    assert isinstance(reply.end, Finish) and reply.error is None  # the empty error object is not an error
    assert len(reply.sources) == 2 and reply.web_search == WebSearch(True, 2, "success")


async def test_headers_without_a_web_request_are_not_a_web_search():
    reply, requests = await replay(Recording(STREAM_BODY, headers=WEB_HEADERS), pieces=False, web=None)
    assert b":web" not in requests[0] and b"web_results_count" not in requests[0]
    assert reply.web_search is None  # it did not ask; the sources that came are still kept
    assert reply.content == "The weather in Tokyo"


# ---------------------------------------------------------------------------
# Every other server's recordings: no web search read into them

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "sse-corpus"
CASES = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not CASES, reason=f"the recorded corpus is not here ({CORPUS}): nothing to replay")
@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
async def test_no_corpus_recording_reads_as_a_web_search(case_file):
    case = json.loads(case_file.read_text(encoding="utf-8"))
    headers = {k: v for k, v in (case.get("headers") or {}).items()
               if k.lower() not in {"content-length", "transfer-encoding", "connection", "content-type"}}
    recording = Recording(case_file.with_suffix(".sse").read_bytes(), case["http_status"],
                          case.get("content_type") or "text/event-stream", headers)
    reply, _ = await replay(recording, pieces=True, web=None)
    assert reply.sources == [] and reply.web_search is None and reply.server_timings is None
    assert not reply.searching
    assert reply.content == case["expect"]["content"]  # and the text is what it was
