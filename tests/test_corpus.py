"""Every recorded stream and error body in ``../shared/sse-corpus`` reads right.

Each case is served on a real loopback socket twice — whole, and in random 1-24-byte pieces
with chunked transfer encoding — through the client's real streaming path and the
``ReplyAccumulator`` fold the chat pane uses, and compared with what the case says a correct
client ends up with. Error bodies (status >= 400) go through the non-streamed path too.
The recordings are other projects' data and do not ship with the app: without the folder
these tests skip, saying why.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from apertis_tui.core.api import ApertisClient
from apertis_tui.core.events import Finish, StreamError
from apertis_tui.core.reply import ReplyAccumulator
from apertis_tui.core.types import ApiError
from tests.replay_server import Recording, ReplayServer

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "sse-corpus"
CASES = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []
KEY = "sk-corpus-replay-0123456789"
MESSAGES = [{"role": "user", "content": "hi"}]

if not CASES:
    pytest.skip(f"the recorded corpus is not here ({CORPUS} is missing or empty): nothing to replay",
                allow_module_level=True)


def load(case_file: Path) -> tuple[dict[str, Any], Recording]:
    case = json.loads(case_file.read_text(encoding="utf-8"))
    body = case_file.with_suffix(".sse").read_bytes()
    headers = {k: v for k, v in (case.get("headers") or {}).items()
               if k.lower() not in {"content-length", "transfer-encoding", "connection", "content-type"}}
    return case, Recording(body, case["http_status"], case.get("content_type") or "text/event-stream", headers)


async def replay(recording: Recording, *, pieces: bool, seed: str, stream: bool = True) -> ReplyAccumulator:
    async with ReplayServer(recording, pieces=pieces, seed=seed) as server:
        client = ApertisClient(server.base_url, KEY, connect_timeout=5, read_timeout=10)
        try:
            reply = ReplyAccumulator()
            async for event in client.chat("corpus/model", MESSAGES, stream=stream):
                reply.feed(event)
        finally:
            await client.aclose()
    assert server.requests, "the client sent no request"
    return reply


def check_error(error: ApiError, end: dict[str, Any], case: str) -> None:
    """The words the case names must be in the sentence; where it names none, the kind counts
    (the corpus README: where there are such words, they are what counts)."""
    must_show = end.get("must_show") or []
    for words in must_show:
        assert words in error.sentence, f"{case}: {words!r} not in {error.sentence!r}"
    if not must_show:
        assert error.kind in end["kinds"], f"{case}: kind {error.kind} not in {end['kinds']}: {error.sentence}"
    assert KEY not in error.sentence and KEY not in error.detail
    assert "Traceback" not in error.sentence


def check(reply: ReplyAccumulator, case: dict[str, Any]) -> None:
    name, expect = case["case"], case["expect"]
    assert reply.content == expect["content"], name
    assert reply.reasoning == expect["reasoning"], name
    calls = reply.tool_calls
    got_calls = None if calls is None else [
        {"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]} for c in calls]
    assert got_calls == expect["tool_calls"], name
    if expect.get("usage") is not None:
        assert reply.usage is not None, f"{name}: usage lost"
        got = {k: getattr(reply.usage, k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
        assert got == expect["usage"], name
    end = expect["end"]
    assert reply.end is not None, f"{name}: no end event"
    if end["type"] == "finish":
        assert isinstance(reply.end, Finish), f"{name}: ended with {reply.end}"
        assert reply.end.reason == end["reason"], name
    else:
        assert isinstance(reply.end, StreamError), f"{name}: ended with {reply.end}, not an error"
        check_error(reply.end.error, end, name)


@pytest.mark.parametrize("pieces", [False, True], ids=["whole", "pieces"])
@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
async def test_replayed_case_reads_right(case_file: Path, pieces: bool) -> None:
    case, recording = load(case_file)
    check(await replay(recording, pieces=pieces, seed=case_file.stem), case)


ERROR_CASES = [c for c in CASES if json.loads(c.read_text(encoding="utf-8"))["http_status"] >= 400]


@pytest.mark.parametrize("case_file", ERROR_CASES, ids=[c.stem for c in ERROR_CASES])
async def test_error_bodies_read_the_same_without_streaming(case_file: Path) -> None:
    case, recording = load(case_file)
    reply = await replay(recording, pieces=False, seed=case_file.stem, stream=False)
    assert isinstance(reply.end, StreamError)
    check_error(reply.end.error, case["expect"]["end"], case["case"])


def test_the_corpus_has_streams_and_error_bodies() -> None:
    """Guard against a corpus folder that is there but holds nothing this test can read."""
    statuses = [json.loads(c.read_text(encoding="utf-8"))["http_status"] for c in CASES]
    assert statuses.count(200) >= 10 and len(ERROR_CASES) >= 5
    assert all(c.with_suffix(".sse").is_file() for c in CASES)
