"""core.models: the cached model list, favourites and recents, and the picker's ranking."""

from __future__ import annotations

import json
import socket
import time

import pytest
from textual.fuzzy import FuzzySearch

from apertis_tui.core import models as core_models
from apertis_tui.core.api import ApertisClient
from apertis_tui.core.models import (
    CACHE_MAX_AGE,
    EXACT,
    FAVOURITE,
    OTHER,
    RECENT,
    RECENT_LIMIT,
    TYPED,
    ModelPrefs,
    ago,
    cache_path,
    fetch_models,
    is_offline,
    load_cache,
    prefs_path,
    rank,
    record_used,
    save_cache,
)
from apertis_tui.core.events import ModelInfo
from apertis_tui.core.types import ApiError
from tests.conftest import TEST_KEY
from tests.fake_server import MODEL_IDS, MODELS

URL = "http://127.0.0.1:9/v1"
MODELS_INFO = [ModelInfo("gpt-4o", "openai"), ModelInfo("gpt-4o-mini", "openai"),
               ModelInfo("claude-sonnet-4-20250514", "anthropic"), ModelInfo("qwen-max", "alibaba"),
               ModelInfo("o3-mini", "openai")]


def ids(rows):
    return [row.id for row in rows]


def match():
    return FuzzySearch().match


# ---------------------------------------------------------------------------
# The cache


def test_cache_round_trip_keeps_models_and_fetch_time(tmp_path):
    saved = save_cache(URL, MODELS_INFO, fetched_at=1_700_000_000.5, folder=tmp_path)
    loaded = load_cache(URL, tmp_path)
    assert loaded == saved
    assert loaded.models == tuple(MODELS_INFO) and loaded.fetched_at == 1_700_000_000.5
    assert json.loads(cache_path(URL, tmp_path).read_text())["base_url"] == URL


def test_cache_is_per_server_and_defaults_to_the_cache_dir(tmp_path):
    save_cache(URL, MODELS_INFO)
    assert cache_path(URL).parent == core_models.cache_dir()
    assert cache_path(URL).is_file()
    assert load_cache("http://other.example/v1") is None
    assert cache_path(URL) != cache_path("http://other.example/v1")


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"version": 99, "fetched_at": 1, "models": []}',
                                  '{"version": 1, "fetched_at": "yesterday", "models": []}',
                                  '{"version": 1, "fetched_at": 1, "models": {}}'])
def test_a_damaged_cache_is_no_cache(tmp_path, text):
    cache_path(URL, tmp_path).write_text(text)
    assert load_cache(URL, tmp_path) is None


def test_cache_entries_are_cleaned_and_odd_ones_skipped(tmp_path):
    cache_path(URL, tmp_path).write_text(json.dumps({"version": 1, "fetched_at": 5, "models": [
        {"id": "a\x1b]0;x\x07b", "owned_by": "o\x9bk"}, {"id": 7}, "nope", {"id": "  "}, {"id": "a\x1b]0;x\x07b"},
        {"id": "c", "created": True}]}))
    loaded = load_cache(URL, tmp_path)
    assert [(m.id, m.owned_by, m.created) for m in loaded.models] == [("a]0;xb", "ok", None), ("c", "", None)]


def test_staleness_and_age():
    listing = save_cache(URL, MODELS_INFO, fetched_at=1000.0)
    assert listing.age(now=1000.0 + 60) == 60
    assert not listing.is_stale(now=1000.0 + CACHE_MAX_AGE)
    assert listing.is_stale(now=1000.0 + CACHE_MAX_AGE + 1)


async def test_fetch_models_reads_the_server_and_writes_the_cache(fake_server, tmp_path):
    client = ApertisClient(fake_server.base_url, TEST_KEY)
    try:
        before = time.time()
        listing = await fetch_models(client, fake_server.base_url, folder=tmp_path)
    finally:
        await client.aclose()
    assert listing.ids == MODEL_IDS  # all 546, sparse entries (no owned_by / created) included
    sparse = [m for m in MODELS if "owned_by" not in m]
    assert sparse and all(listing.models[MODEL_IDS.index(m["id"])].owned_by == "" for m in sparse)
    assert listing.fetched_at >= before
    assert load_cache(fake_server.base_url, tmp_path) == listing
    assert TEST_KEY not in cache_path(fake_server.base_url, tmp_path).read_text()  # the key is never cached


async def test_fetch_offline_raises_and_keeps_the_old_cache(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    old = save_cache(url, MODELS_INFO, fetched_at=1000.0, folder=tmp_path)
    client = ApertisClient(url, TEST_KEY, connect_timeout=2)
    try:
        with pytest.raises(ApiError) as caught:
            await fetch_models(client, url, folder=tmp_path)
    finally:
        await client.aclose()
    assert is_offline(caught.value)
    assert "Could not reach 127.0.0.1" in caught.value.sentence
    assert load_cache(url, tmp_path) == old


def test_ago_in_words():
    assert ago(0) == "just now"
    assert ago(59) == "just now"
    assert ago(60) == "1 minute ago"
    assert ago(150) == "2 minutes ago"
    assert ago(3600) == "1 hour ago"
    assert ago(3 * 86400 + 5) == "3 days ago"
    assert ago(-5) == "just now"


def test_is_offline_only_for_unreachable():
    assert is_offline(ApiError("connect", "x"))
    assert is_offline(ApiError("timeout", "x"))
    assert not is_offline(ApiError("auth", "x"))


# ---------------------------------------------------------------------------
# Favourites and recents


def test_prefs_round_trip(tmp_path):
    path = tmp_path / "prefs" / "model-prefs.json"
    prefs = ModelPrefs.load(path)
    assert (prefs.favourites, prefs.recents) == ([], [])
    assert prefs.toggle_favourite("gpt-4o") is True
    assert prefs.toggle_favourite("qwen-max") is True
    assert prefs.toggle_favourite("gpt-4o") is False
    prefs.used("a")
    prefs.used("b")
    prefs.used("a")
    assert prefs.save()
    again = ModelPrefs.load(path)
    assert again.favourites == ["qwen-max"]
    assert again.recents == ["a", "b"]
    assert again.is_favourite("qwen-max") and not again.is_favourite("gpt-4o")


def test_recents_are_capped_newest_first(tmp_path):
    prefs = ModelPrefs.load(tmp_path / "p.json")
    for n in range(RECENT_LIMIT + 5):
        prefs.used(f"m{n}")
    assert len(prefs.recents) == RECENT_LIMIT
    assert prefs.recents[0] == f"m{RECENT_LIMIT + 4}"


def test_record_used_goes_through_the_file_in_the_data_dir():
    record_used("gpt-4o")
    record_used("qwen-max")
    assert prefs_path().parent == core_models.data_dir()
    assert json.loads(prefs_path().read_text())["recents"] == ["qwen-max", "gpt-4o"]


@pytest.mark.parametrize("text", ["garbage", "[1, 2]", '{"favourites": "gpt-4o", "recents": [1, null, "ok", "ok"]}'])
def test_a_damaged_prefs_file_gives_what_it_can(tmp_path, text):
    path = tmp_path / "p.json"
    path.write_text(text)
    prefs = ModelPrefs.load(path)
    assert prefs.favourites == []
    assert prefs.recents == (["ok"] if "ok" in text else [])


def test_prefs_that_cannot_be_saved_say_so(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    prefs = ModelPrefs.load(blocker / "p.json")  # its folder is a file
    prefs.toggle_favourite("x")
    assert prefs.save() is False


# ---------------------------------------------------------------------------
# Ranking


def test_no_query_lists_favourites_then_recents_then_the_rest_by_id():
    rows = rank(MODELS_INFO, "", match(), favourites=["qwen-max", "gpt-4o"], recents=["o3-mini", "gpt-4o"])
    assert ids(rows) == ["qwen-max", "gpt-4o", "o3-mini", "claude-sonnet-4-20250514", "gpt-4o-mini"]
    assert [r.group for r in rows] == [FAVOURITE, FAVOURITE, RECENT, OTHER, OTHER]
    assert rows[1].favourite and rows[1].recent
    assert [r.owner for r in rows[:3]] == ["alibaba", "openai", "openai"]


def test_a_query_keeps_only_matches_best_first_and_offers_the_typed_id():
    rows = rank(MODELS_INFO, "4o", match())
    assert ids(rows) == ["gpt-4o", "gpt-4o-mini", "4o"]
    assert rows[-1].group == TYPED
    assert rows[0].offsets == (4, 5)  # the matched letters, for the highlight
    assert ids(rank(MODELS_INFO, "zzz", match())) == ["zzz"]


def test_favourites_and_recents_come_first_among_matches():
    rows = rank(MODELS_INFO, "m", match(), favourites=["o3-mini"], recents=["qwen-max"])
    assert ids(rows) == ["o3-mini", "qwen-max", "gpt-4o-mini", "m"]
    assert ids(rows)[:2] == ["o3-mini", "qwen-max"]
    assert [r.group for r in rows[:2]] == [FAVOURITE, RECENT]


def test_an_exact_id_comes_before_favourites_and_is_not_offered_as_typed():
    rows = rank(MODELS_INFO, "gpt-4o", match(), favourites=["gpt-4o-mini"])
    assert ids(rows) == ["gpt-4o", "gpt-4o-mini"]
    assert rows[0].group == EXACT
    rows = rank(MODELS_INFO, "GPT-4O", match(), favourites=["gpt-4o-mini"])
    assert ids(rows) == ["gpt-4o", "gpt-4o-mini", "GPT-4O"]  # ids are case-sensitive on the server


def test_favourites_and_recents_missing_from_the_list_still_show():
    rows = rank([], "", match(), favourites=["my/local"], recents=["other/custom"])
    assert ids(rows) == ["my/local", "other/custom"]
    assert ids(rank([], "local", match(), favourites=["my/local"])) == ["my/local", "local"]


def test_the_typed_entry_is_one_clean_line():
    rows = rank(MODELS_INFO, "  my\x1b[31m model  ", match())
    assert rows[-1].group == TYPED and rows[-1].id == "my[31m model"
    assert rank(MODELS_INFO, "   ", match())[0].group != TYPED


def test_ranking_the_full_fake_list_is_fast():
    infos = [ModelInfo(m["id"], m.get("owned_by", "")) for m in MODELS]
    search = FuzzySearch()
    started = time.perf_counter()
    for query in ("c", "cl", "cla", "clau", "claud", "claude", "claude3", "claude35"):
        rank(infos, query, search.match, MODEL_IDS[:5], MODEL_IDS[10:20])
    assert (time.perf_counter() - started) / 8 < 0.05  # benchmarks/picker_filter.py measures properly
