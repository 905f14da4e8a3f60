"""History (the core/store package) against real SQLite files."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlite_utils

from apertis_tui.core.store import (
    SCHEMA_VERSION,
    History,
    StoreCorrupt,
    StoreError,
    fts_query,
    migrate,
    now_iso,
    schema_version,
    set_aside,
)
from apertis_tui.core.types import HIGHLIGHT_END, HIGHLIGHT_START, ChatParams
from tests.store_helpers import fts_ok, list_chats, set_updated_at

# ---------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "apertis-tui" / "history.db"


@pytest.fixture
def history(db_path: Path):
    h = History(db_path)
    yield h
    h.close()


# ---------------------------------------------------------------------------
# opening and migrations


def test_new_file_gets_folders_wal_and_full_schema(db_path: Path) -> None:
    with History(db_path) as h:
        assert db_path.exists()
        assert h.db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert h.db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert h.db.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert h.db.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert schema_version(h.db) == SCHEMA_VERSION
        assert {"chats", "messages", "messages_fts", "chats_fts"} <= set(h.db.table_names())


def test_zero_byte_file_is_an_empty_database(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.touch()
    with History(db_path) as h:
        assert schema_version(h.db) == SCHEMA_VERSION


def test_reopening_applies_nothing_twice(db_path: Path) -> None:
    with History(db_path) as h:
        chat = h.create_chat("m", title="kept")
    with History(db_path) as h:
        assert h.get_chat(chat.id).title == "kept"
        names = [m.name for m in sqlite_utils.Migrations("apertis_tui.history").applied(h.db)]
        assert len(names) == len(set(names)) == SCHEMA_VERSION


@pytest.mark.parametrize("step", range(SCHEMA_VERSION))
def test_migrates_from_each_earlier_step(db_path: Path, step: int) -> None:
    db_path.parent.mkdir(parents=True)
    db = sqlite_utils.Database(sqlite3.connect(db_path), execute_plugins=False)
    migrate(db, upto=step)
    assert schema_version(db) == step
    if step >= 1:  # tables exist: put old rows in, written the way an old version would
        now = now_iso()
        db.execute(
            "INSERT INTO chats (id, title, model, params, created_at, updated_at) "
            "VALUES (1, 'Tomatoes', 'm', '{}', ?, ?)",
            (now, now),
        )
        db.execute(
            "INSERT INTO messages (chat_id, role, content, status, created_at) "
            "VALUES (1, 'user', 'how do I grow zucchini', 'complete', ?)",
            (now,),
        )
    db.close()

    with History(db_path) as h:
        assert schema_version(h.db) == SCHEMA_VERSION
        if step >= 1:
            assert [hit.message_id for hit in h.search("zucchin")] == [1]
            assert [hit.chat_id for hit in h.search("tomato")] == [1]
        h.create_chat("m", title="after the migration")
        assert h.search("migration")
    fts_ok(db_path)


# ---------------------------------------------------------------------------
# chats


def test_create_and_get_chat_round_trip(history: History) -> None:
    params = ChatParams(temperature=0.3, stop=["END"])
    chat = history.create_chat("gpt-x", title="T", system_prompt="be brief", params=params)
    got = history.get_chat(chat.id)
    assert got == chat
    assert got.params == params and got.system_prompt == "be brief" and not got.archived
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", got.created_at)
    assert history.get_chat(9999) is None


def test_list_chats_newest_activity_first_and_paging(history: History, db_path: Path) -> None:
    ids = [history.create_chat("m", title=f"c{i}").id for i in range(5)]
    for chat_id in ids:  # identical times: the id breaks the tie, newest first
        set_updated_at(db_path, chat_id, "2026-01-01T00:00:00.000Z")
    assert [c.id for c in list_chats(history)] == ids[::-1]

    history.add_message(ids[1], "user", "bump")
    listed = [c.id for c in list_chats(history)]
    assert listed[0] == ids[1]
    assert [c.id for c in list_chats(history, limit=2, offset=1)] == listed[1:3]
    assert list_chats(history, limit=2, offset=10) == []


def test_archived_chats_are_listed_and_counted_apart(history: History) -> None:
    a, b, c = (history.create_chat("m").id for _ in range(3))
    history.update_chat(b, archived=True)
    assert [x.id for x in list_chats(history)] == [c, a]
    assert [x.id for x in list_chats(history, archived=True)] == [b]
    assert {x.id for x in list_chats(history, archived=None)} == {a, b, c}
    assert history.count_chats() == 2
    assert history.count_chats(archived=True) == 1
    assert history.count_chats(archived=None) == 3


def test_update_chat_changes_only_given_fields(history: History, db_path: Path) -> None:
    chat = history.create_chat("m1", title="old", system_prompt="sys")
    set_updated_at(db_path, chat.id, "2000-01-01T00:00:00.000Z")

    archived = history.update_chat(chat.id, archived=True)
    assert archived.archived and archived.updated_at == "2000-01-01T00:00:00.000Z"  # no bump
    assert (archived.title, archived.model, archived.system_prompt) == ("old", "m1", "sys")

    changed = history.update_chat(chat.id, model="m1b")
    assert changed.model == "m1b" and changed.updated_at > "2000"  # a setting is activity
    assert (changed.title, changed.system_prompt) == ("old", "sys") and changed.archived
    with pytest.raises(TypeError):
        history.update_chat(chat.id, title="new")  # one way to set a title: rename_chat

    cleared = history.update_chat(chat.id, system_prompt=None, model="m2", params=ChatParams(top_p=0.5))
    assert cleared.system_prompt is None and cleared.model == "m2"
    assert cleared.params == ChatParams(top_p=0.5)
    assert history.update_chat(12345, model="x") is None


def test_delete_chat_removes_messages_and_search_entries(history: History, db_path: Path) -> None:
    keep = history.create_chat("m", title="keeper")
    gone = history.create_chat("m", title="doomed platypus")
    history.add_message(keep.id, "user", "platypus facts")
    history.add_message(gone.id, "user", "platypus eggs")
    history.delete_chat(gone.id)

    assert history.get_chat(gone.id) is None
    assert history.messages(gone.id) == []
    hits = history.search("platypus")
    assert [(h.chat_id, h.message_id is not None) for h in hits] == [(keep.id, True)]
    fts_ok(db_path)


# ---------------------------------------------------------------------------
# messages


def test_messages_come_back_in_order_with_every_field(history: History) -> None:
    chat = history.create_chat("m")
    user = history.add_message(chat.id, "user", "hi")
    reply = history.start_assistant(chat.id, "model-a")
    assert (reply.role, reply.status, reply.content, reply.model) == ("assistant", "streaming", "", "model-a")

    calls = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    done = history.finish_message(
        reply.id,
        content="hello",
        reasoning="thinking",
        status="complete",
        prompt_tokens=3,
        completion_tokens=4,
        ttft_ms=120,
        duration_ms=900,
        tool_calls=calls,
    )
    assert done.finished_at and done.tool_calls == calls
    assert (done.prompt_tokens, done.completion_tokens, done.ttft_ms, done.duration_ms) == (3, 4, 120, 900)
    third = history.add_message(chat.id, "user", "again")
    assert [m.id for m in history.messages(chat.id)] == [user.id, reply.id, third.id]
    assert history.messages(chat.id)[1] == done


def test_other_versions_of_a_turn_are_siblings_and_the_path_follows_the_current_leaf(history: History) -> None:
    chat = history.create_chat("m")
    q = history.add_message(chat.id, "user", "q")
    first = history.add_message(chat.id, "assistant", "first try")
    second = history.add_message(chat.id, "assistant", "second try", parent_id=q.id)
    assert (first.parent_id, second.parent_id, second.depth) == (q.id, q.id, 2)
    assert history.get_chat(chat.id).current_id == second.id  # a new message is the current leaf
    assert [m.id for m in history.path_to(second.id)] == [q.id, second.id]
    assert history.siblings(first) == [first.id, second.id]
    assert history.sibling_positions([q, first, second]) == {first.id: (1, 2), second.id: (2, 2)}
    follow = history.add_message(chat.id, "user", "more", parent_id=first.id)
    assert history.leaves(chat.id) == [second.id, follow.id]
    assert history.set_current(chat.id, first.id) == follow.id  # down to that branch's newest leaf
    assert history.get_chat(chat.id).current_id == follow.id
    assert [m.id for m in history.messages(chat.id)] == [q.id, first.id, second.id, follow.id]  # every branch
    other = history.create_chat("m")
    with pytest.raises(StoreError):
        history.add_message(other.id, "user", "x", parent_id=q.id)  # a parent from another chat
    with pytest.raises(StoreError):
        history.set_current(other.id, q.id)


def test_a_path_is_read_a_page_at_a_time_from_its_end(history: History) -> None:
    chat = history.create_chat("m")
    other = history.create_chat("m")
    ids = []
    for i in range(25):
        ids.append(history.add_message(chat.id, "user", f"m{i}").id)
        history.add_message(other.id, "user", "noise")
    history.add_message(chat.id, "assistant", "a side branch", parent_id=ids[10])
    leaf = ids[-1]
    last = history.path_to(leaf, limit=10)
    assert [m.id for m in last] == ids[-10:]
    middle = history.path_to(leaf, before_depth=last[0].depth, limit=10)
    assert [m.id for m in middle] == ids[5:15]
    first = history.path_to(leaf, before_depth=middle[0].depth, limit=10)
    assert [m.id for m in first] == ids[:5]
    assert history.path_to(leaf, before_depth=first[0].depth) == []
    assert history.path_ids(leaf) == ids and history.path_to(None) == []


def test_a_fork_copies_the_path_and_leaves_the_original_alone(history: History) -> None:
    chat = history.create_chat("m", system_prompt="terse")
    q = history.add_message(chat.id, "user", "q")
    a = history.add_message(chat.id, "assistant", "a", model="gpt")
    history.add_message(chat.id, "user", "later")
    before = history.messages(chat.id)
    fork = history.fork_chat(chat.id, a.id, "Fork of q")
    copied = history.messages(fork.id)
    assert [(m.role, m.content, m.model, m.depth) for m in copied] == [("user", "q", None, 1), ("assistant", "a", "gpt", 2)]
    assert copied[1].parent_id == copied[0].id and fork.current_id == copied[1].id
    assert (fork.title, fork.system_prompt) == ("Fork of q", "terse")
    assert history.messages(chat.id) == before and q.id not in [m.id for m in copied]


def test_message_for_a_missing_chat_is_a_store_error(history: History) -> None:
    with pytest.raises(StoreError):
        history.add_message(777, "user", "orphan")
    with pytest.raises(StoreError):
        history.start_assistant(777, "m")


def test_finishing_a_reply_whose_chat_was_deleted_is_harmless(history: History) -> None:
    chat = history.create_chat("m")
    reply = history.start_assistant(chat.id, "m")
    history.delete_chat(chat.id)
    history.flush_partial(reply.id, "late text")
    assert history.finish_message(reply.id, content="late text", status="stopped") is None


def test_context_sends_only_what_the_model_should_see(history: History) -> None:
    chat = history.create_chat("m", system_prompt="You are terse.")
    cid = chat.id
    q1 = history.add_message(cid, "user", "q1")
    history.add_message(cid, "assistant", "another version of the answer")
    a1 = history.add_message(cid, "assistant", "a1", parent_id=q1.id)
    history.add_message(cid, "user", "q2")
    failed = history.start_assistant(cid, "m")
    history.finish_message(failed.id, content="", status="error", error="401")
    stopped = history.start_assistant(cid, "m")
    history.finish_message(stopped.id, content="partial answ", status="stopped")
    history.add_message(cid, "user", "   ")  # empty after trimming
    history.add_message(cid, "system", "note for the UI, not the model")
    q3 = history.add_message(cid, "user", "q3")
    history.start_assistant(cid, "m")  # the reply now being streamed

    assert history.context(cid) == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "partial answ"},
        {"role": "user", "content": "q3"},
    ]
    assert history.context(cid, q3.id) == history.context(cid)  # up to a given message
    assert history.context(cid, a1.id)[-1] == {"role": "assistant", "content": "a1"}
    assert history.context(9999) == []


def test_context_keeps_interrupted_text_and_skips_missing_system_prompt(history: History) -> None:
    cid = history.create_chat("m").id
    history.add_message(cid, "user", "q")
    reply = history.start_assistant(cid, "m")
    history.flush_partial(reply.id, "half")
    history.recover_interrupted()
    assert history.context(cid) == [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "half"},
    ]


# ---------------------------------------------------------------------------
# durability and crash recovery


def test_flush_partial_is_visible_to_another_connection(history: History, db_path: Path) -> None:
    cid = history.create_chat("m").id
    reply = history.start_assistant(cid, "m")
    history.flush_partial(reply.id, "so far", "hmm")
    other = sqlite3.connect(db_path)
    try:
        row = other.execute("SELECT content, reasoning, status FROM messages WHERE id = ?", (reply.id,)).fetchone()
    finally:
        other.close()
    assert row == ("so far", "hmm", "streaming")


def test_partial_reply_survives_kill_9_and_comes_back_interrupted(db_path: Path) -> None:
    app_dir = Path(__file__).resolve().parents[1] / "app"
    script = f"""
import os, signal, sys
sys.path.insert(0, {str(app_dir)!r})
from apertis_tui.core.store import History
h = History({str(db_path)!r})
cid = h.create_chat("m").id
h.add_message(cid, "user", "tell me")
reply = h.start_assistant(cid, "m")
h.flush_partial(reply.id, "once upon a")
os.kill(os.getpid(), signal.SIGKILL)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30)
    assert result.returncode == -9, result.stderr.decode()

    with History(db_path) as h:
        assert h.recovered == 1
        chat = list_chats(h)[0]
        reply = h.messages(chat.id)[-1]
        assert (reply.content, reply.status) == ("once upon a", "interrupted")
        assert reply.finished_at is not None


def test_recover_interrupted_touches_only_streaming_rows(db_path: Path) -> None:
    with History(db_path) as h:
        cid = h.create_chat("m").id
        done = h.add_message(cid, "user", "q")
        a = h.start_assistant(cid, "m")
        b = h.start_assistant(cid, "m")
        h.flush_partial(a.id, "partial")
    with History(db_path) as h:
        assert h.recovered == 2
        statuses = {m.id: m.status for m in h.messages(cid)}
        assert statuses == {done.id: "complete", a.id: "interrupted", b.id: "interrupted"}
        assert h.recover_interrupted() == 0


def test_two_histories_writing_from_threads_lose_nothing(db_path: Path) -> None:
    first, second = History(db_path), History(db_path)
    rounds = 60
    errors: list[BaseException] = []

    def writer(h: History, tag: str) -> None:
        try:
            cid = h.create_chat("m", title=tag).id
            for i in range(rounds):
                h.add_message(cid, "user", f"{tag} question {i}")
                reply = h.start_assistant(cid, "m")
                h.flush_partial(reply.id, "part")
                h.finish_message(reply.id, content=f"{tag} answer {i}", status="complete")
                list_chats(h)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(first, "alpha")),
        threading.Thread(target=writer, args=(second, "beta")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert not errors, errors
        for h in (first, second):
            assert h.count_chats() == 2
            for chat in list_chats(h):
                assert len(h.messages(chat.id)) == 2 * rounds
        assert len(first.search("alpha answer")) == 50  # the default limit; all rows indexed
    finally:
        first.close()
        second.close()
    fts_ok(db_path)


# ---------------------------------------------------------------------------
# search


@pytest.fixture
def searchable(history: History) -> History:
    rust = history.create_chat("m", title="Rust lifetimes").id
    db = history.create_chat("m", title="Database tuning").id
    history.add_message(rust, "user", "Why does the borrow checker complain about my lifetimes?")
    history.add_message(db, "user", "Is sqlite3 fast enough for a million rows?")
    history.add_message(db, "assistant", "SQLite handles millions of rows; add an index on the column you filter.")
    history.add_message(db, "user", "Ça marche au café?")
    return history


def test_search_matches_word_prefixes(searchable: History) -> None:
    hits = searchable.search("sqlite")
    assert {h.snippet.count(HIGHLIGHT_START) for h in hits} == {1}
    assert len([h for h in hits if h.message_id]) == 2  # "sqlite3" and "SQLite"
    assert searchable.search("milli") and searchable.search("MILLION")


def test_search_ands_several_words(searchable: History) -> None:
    hits = searchable.search("sqlite index")
    assert len(hits) == 1 and "index" in hits[0].snippet
    assert searchable.search("sqlite lifetimes") == []


def test_search_finds_chat_titles(searchable: History) -> None:
    hits = searchable.search("tuning")
    assert len(hits) == 1
    assert hits[0].message_id is None and hits[0].chat_title == "Database tuning"
    assert hits[0].snippet == f"Database {HIGHLIGHT_START}tuning{HIGHLIGHT_END}"


def test_search_snippet_marks_the_match(searchable: History) -> None:
    [hit] = searchable.search("borrow")
    assert f"{HIGHLIGHT_START}borrow{HIGHLIGHT_END}" in hit.snippet
    assert hit.chat_title == "Rust lifetimes"


def test_search_snippet_is_short_for_long_messages(history: History) -> None:
    cid = history.create_chat("m").id
    history.add_message(cid, "user", " ".join(["filler"] * 200 + ["needle"] + ["filler"] * 200))
    [hit] = history.search("needle")
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert len(hit.snippet.split()) <= 12


def test_search_ignores_diacritics(searchable: History) -> None:
    assert searchable.search("cafe") and searchable.search("ca")
    assert searchable.search("CAFÉ")


def test_search_newest_first_and_limited(history: History) -> None:
    cid = history.create_chat("m").id
    ids = [history.add_message(cid, "user", f"kiwi number {i}").id for i in range(10)]
    hits = history.search("kiwi", limit=4)
    assert [h.message_id for h in hits] == ids[::-1][:4]


def test_search_follows_edits(history: History, db_path: Path) -> None:
    cid = history.create_chat("m", title="first name").id
    reply = history.start_assistant(cid, "m")
    history.flush_partial(reply.id, "draft walrus")
    history.finish_message(reply.id, content="final narwhal", status="complete")
    history.rename_chat(cid, "second name")
    assert history.search("walrus") == []
    assert [h.message_id for h in history.search("narwhal")] == [reply.id]
    assert history.search("first") == [] and history.search("second")
    fts_ok(db_path)


HOSTILE = [
    "",
    "   ",
    '"',
    '""',
    "*",
    "-",
    ":",
    "(",
    ")",
    "^",
    "+",
    ".",
    "AND",
    "OR",
    "NOT",
    "NEAR(",
    "NEAR(a b, 2)",
    "a AND",
    "OR b",
    "-sqlite",
    "content:sqlite",
    "col:",
    '"unterminated',
    "sql*ite",
    "{a b}",
    "!@#$%^&*()_+=[]{}|;',./<>?`~",
    "\x00\x01\x02",
    "\u200b",
    "'; DROP TABLE messages; --",
    "x" * 5000,
    " ".join(["word"] * 300),
]


@pytest.mark.parametrize("query", HOSTILE)
def test_search_never_raises(searchable: History, query: str) -> None:
    assert isinstance(searchable.search(query), list)


@pytest.mark.parametrize("query", ["", "  ", "-", "*:()", "\"'", "___", "…"])
def test_search_without_words_finds_nothing(searchable: History, query: str) -> None:
    assert fts_query(query) == ""
    assert searchable.search(query) == []


def test_fts_query_quotes_every_word() -> None:
    assert fts_query('sqlite AND "x" c++') == '"sqlite"* "AND"* "x" "c"'


def test_single_characters_match_whole_words_only(history: History) -> None:
    cid = history.create_chat("m").id
    c_lang = history.add_message(cid, "user", "I write C daily")
    history.add_message(cid, "user", "cats and capybaras")
    assert [h.message_id for h in history.search("c")] == [c_lang.id]
    assert len(history.search("ca")) == 1


def test_search_treats_operators_as_words(history: History) -> None:
    cid = history.create_chat("m").id
    history.add_message(cid, "user", "NEAR the OR gate, AND NOT beyond")
    assert len(history.search("near or")) == 1
    assert len(history.search("NOT")) == 1


# ---------------------------------------------------------------------------
# damaged and unwritable files


def test_corrupt_file_raises_store_corrupt_and_set_aside_keeps_it(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    junk = b"this is not sqlite " * 500
    db_path.write_bytes(junk)
    Path(f"{db_path}-wal").write_bytes(b"old wal")

    with pytest.raises(StoreCorrupt) as caught:
        History(db_path)
    assert "history.db" in str(caught.value) and "damaged" in str(caught.value)
    assert caught.value.path == db_path

    moved = set_aside(caught.value.path)
    assert moved.name.startswith("history.db.corrupt-")
    assert moved.read_bytes() == junk
    assert Path(f"{moved}-wal").read_bytes() == b"old wal"
    assert not db_path.exists() and not Path(f"{db_path}-wal").exists()

    with History(db_path) as h:  # a fresh history can start in its place
        assert h.count_chats() == 0
    db_path.write_bytes(junk)
    with pytest.raises(StoreCorrupt):
        History(db_path)
    assert set_aside(db_path) != moved  # a second damaged file never overwrites the first


def test_damaged_pages_behind_a_valid_header_raise_store_corrupt(db_path: Path) -> None:
    with History(db_path) as h:
        h.add_message(h.create_chat("m", title="x").id, "user", "hello")
    data = bytearray(db_path.read_bytes())
    data[100:4096] = b"\xff" * 3996  # the rest of page 1: the schema
    db_path.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupt) as caught:
        History(db_path)
    assert "damaged" in str(caught.value)


def test_parent_that_is_a_file_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "apertis-tui"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError) as caught:
        History(blocker / "history.db")
    assert "history.db" in str(caught.value)
    assert blocker.read_text() == "not a folder"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_a_store_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(StoreError) as caught:
            History(folder / "history.db")
        assert "writable" in str(caught.value)
    finally:
        folder.chmod(0o700)


def test_now_iso_is_utc_with_milliseconds() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", now_iso())


def test_streaming_text_enters_the_index_when_it_stops(tmp_path):
    """Saves while streaming do not re-index; the finished text is searchable, exactly once."""
    with History(tmp_path / "h.db") as store:
        chat = store.create_chat("m", title="t")
        store.add_message(chat.id, "user", "question")
        reply = store.start_assistant(chat.id, "m")
        store.flush_partial(reply.id, "partial zebra")
        assert store.search("zebra") == []  # not while it streams
        store.flush_partial(reply.id, "partial zebra giraffe")
        store.finish_message(reply.id, content="final zebra giraffe okapi", status="complete")
        assert [h.message_id for h in store.search("okapi")] == [reply.id]
        assert [h.message_id for h in store.search("zebra")] == [reply.id]
        # Edits of a finished message re-index it; integrity-check proves the index matches.
        store.finish_message(reply.id, content="replaced text", status="complete")
        assert store.search("okapi") == [] and store.search("replaced")
        store.db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
        # An answer cut by a crash becomes searchable once recovered.
        crashed = store.start_assistant(chat.id, "m")
        store.flush_partial(crashed.id, "half an armadillo")
    with History(tmp_path / "h.db") as store:
        assert store.recovered == 1
        assert [h.message_id for h in store.search("armadillo")] == [crashed.id]
        store.delete_chat(chat.id)
        assert store.search("armadillo") == []
        store.db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")


def test_an_answer_another_running_instance_streams_is_not_taken_for_a_crash(tmp_path):
    import subprocess

    other = subprocess.Popen(["sleep", "30"])
    try:
        with History(tmp_path / "h.db") as store:
            chat = store.create_chat("m", title="t")
            live = store.start_assistant(chat.id, "m")
            dead = store.start_assistant(chat.id, "m")
            store.db.execute("UPDATE messages SET writer_pid = ? WHERE id = ?", [other.pid, live.id])
            store.db.conn.commit()
            store.db.execute("UPDATE messages SET writer_pid = ? WHERE id = ?", [2**22 + 12345, dead.id])
            store.db.conn.commit()
        with History(tmp_path / "h.db") as store:
            assert store.recovered == 1
            statuses = {m.id: m.status for m in store.messages(chat.id)}
            assert statuses == {live.id: "streaming", dead.id: "interrupted"}
    finally:
        other.kill()
        other.wait()


def _call(call_id: str, name: str = "add", arguments: str = '{"a": 1}') -> dict:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def test_context_sends_tool_calls_with_their_results_in_order(history: History) -> None:
    chat = history.create_chat("m")
    cid = chat.id
    history.add_message(cid, "user", "add things")
    calling = history.start_assistant(cid, "m")
    history.finish_message(calling.id, content="", status="complete", tool_calls=[_call("c1"), _call("c2")])
    history.add_tool_result(cid, "c1", "2")
    second = history.add_tool_result(cid, "c2", "", status="error", error="refused",)
    assert (second.role, second.tool_call_id, second.error) == ("tool", "c2", "refused")
    answer = history.start_assistant(cid, "m")
    history.finish_message(answer.id, content="Both done.", status="complete")
    assert history.context(cid) == [
        {"role": "user", "content": "add things"},
        {"role": "assistant", "content": None, "tool_calls": [_call("c1"), _call("c2")]},
        {"role": "tool", "tool_call_id": "c1", "content": "2"},
        {"role": "tool", "tool_call_id": "c2", "content": ""},
        {"role": "assistant", "content": "Both done."},
    ]
    fork = history.fork_chat(cid, answer.id, "fork")  # the ids that tie them together are copied too
    assert history.context(fork.id) == history.context(cid)


def test_context_leaves_out_unanswered_calls_and_results_that_answer_nothing(history: History) -> None:
    chat = history.create_chat("m")
    cid = chat.id
    history.add_message(cid, "user", "go")
    calling = history.start_assistant(cid, "m")
    history.finish_message(calling.id, content="Looking.", status="stopped", tool_calls=[_call("c1"), _call("c2")])
    history.add_tool_result(cid, "c2", "only the second ran")
    history.add_tool_result(cid, "c9", "answers no call")
    history.add_message(cid, "user", "and now?")
    assert history.context(cid) == [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": "Looking.", "tool_calls": [_call("c2")]},
        {"role": "tool", "tool_call_id": "c2", "content": "only the second ran"},
        {"role": "user", "content": "and now?"},
    ]
    bare = history.create_chat("m")
    history.add_message(bare.id, "user", "go")
    cut = history.start_assistant(bare.id, "m")  # stopped before any call ran: no calls are sent
    history.finish_message(cut.id, content="", status="stopped", tool_calls=[_call("c1")])
    history.add_message(bare.id, "user", "again")
    assert history.context(bare.id) == [{"role": "user", "content": "go"}, {"role": "user", "content": "again"}]
