"""The store methods behind the history screen: pages of chat summaries, lookups by id,
a chat from one message on, and the FTS prefix indexes (migration m003)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from apertis_tui.core.store import SCHEMA_VERSION, History, migrate, now_iso
from tests.store_helpers import fts_ok, list_chats, set_updated_at


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.db"


@pytest.fixture
def history(db_path: Path):
    h = History(db_path)
    yield h
    h.close()


def test_chat_page_matches_list_chats_page_after_page(history: History, db_path: Path) -> None:
    ids = [history.create_chat("m", title=f"c{i}").id for i in range(23)]
    for chat_id in ids[5:10]:  # ties on updated_at: the id decides, newest first
        set_updated_at(db_path, chat_id, "2030-01-01T00:00:00.000Z")
    history.update_chat(ids[3], archived=True)
    expected = [c.id for c in list_chats(history, limit=100)]
    seen, after = [], None
    while True:
        page = history.chat_page(after=after, limit=4)
        seen += [s.chat.id for s in page]
        if len(page) < 4:
            break
        after = (page[-1].chat.updated_at, page[-1].chat.id)
    assert seen == expected and ids[3] not in seen and len(seen) == 22
    assert [s.chat.id for s in history.chat_page(archived=True)] == [ids[3]]
    assert len(history.chat_page(archived=None, limit=100)) == 23


def test_summaries_count_messages_and_list_models_in_order_of_first_use(history: History) -> None:
    chat = history.create_chat("default-model", title="t")
    empty = history.create_chat("other", title="empty")
    q1 = history.add_message(chat.id, "user", "q1")
    for model in ("model-b", "model-a", "model-b"):
        reply = history.start_assistant(chat.id, model)
        history.finish_message(reply.id, content="a", status="complete")
    other = history.start_assistant(chat.id, "model-c", parent_id=q1.id)  # another version of the first reply
    history.finish_message(other.id, content="replaced", status="complete")
    history.set_current(chat.id, reply.id)
    summaries = history.chat_summaries([chat.id, empty.id, 999])
    assert set(summaries) == {chat.id, empty.id}
    assert summaries[chat.id].message_count == 4  # the messages on the current path
    assert summaries[chat.id].models == ("model-b", "model-a", "model-c")  # every branch's
    assert summaries[empty.id].message_count == 0 and summaries[empty.id].models == ()
    history.set_current(chat.id, other.id)
    assert history.chat_summaries([chat.id])[chat.id].message_count == 2
    history.set_current(chat.id, reply.id)
    page = history.chat_page(limit=10)
    assert {s.chat.id: s for s in page} == summaries


def test_rename_keeps_the_chat_in_its_place_and_is_searchable(history: History, db_path: Path) -> None:
    first = history.create_chat("m", title="first title")
    second = history.create_chat("m", title="second")
    set_updated_at(db_path, first.id, "2020-01-01T00:00:00.000Z")
    renamed = history.rename_chat(first.id, "aardvark notes")
    assert renamed.title == "aardvark notes" and renamed.updated_at == "2020-01-01T00:00:00.000Z"
    assert [s.chat.id for s in history.chat_page()] == [second.id, first.id]
    assert [h.chat_id for h in history.search("aardvark")] == [first.id] and history.search("first") == []
    assert history.rename_chat(999, "x") is None
    fts_ok(db_path)


def test_get_messages_by_id(history: History) -> None:
    chat = history.create_chat("m")
    ids = [history.add_message(chat.id, "user", f"m{i}").id for i in range(3)]
    found = history.get_messages([ids[2], ids[0], 12345])
    assert sorted(found) == [ids[0], ids[2]] and found[ids[2]].content == "m2"
    many = history.get_messages(list(range(1, 1200)))  # more ids than one statement may bind
    assert sorted(many) == ids


def test_fts_tables_have_prefix_indexes(history: History) -> None:
    sql = dict(history.db.conn.execute("SELECT name, sql FROM sqlite_master WHERE name IN ('messages_fts', 'chats_fts')"))
    assert "prefix='2 3'" in sql["messages_fts"] and "prefix='2 3'" in sql["chats_fts"]


def test_migration_to_prefix_indexes_keeps_every_row_searchable(db_path: Path) -> None:
    db = sqlite_utils.Database(sqlite3.connect(db_path), execute_plugins=False)
    migrate(db, upto=SCHEMA_VERSION - 1)  # the schema before m003, with its triggers
    now = now_iso()
    for i in range(1, 51):
        db.execute("INSERT INTO chats (id, title, model, params, created_at, updated_at) "
                   "VALUES (?, ?, 'm', '{}', ?, ?)", (i, f"walrus chat {i}", now, now))
        db.execute("INSERT INTO messages (chat_id, role, content, status, created_at) "
                   "VALUES (?, 'user', ?, 'complete', ?)", (i, f"the checkpoint number {i}", now))
    db.conn.commit()
    db.close()
    with History(db_path) as h:
        assert len(h.search("checkpoint", limit=100)) == 50
        assert len(h.search("ch", limit=100)) == 100  # two letters, through the new prefix index: 50 + 50
        assert len(h.search("walrus", limit=100)) == 50
        # The triggers still feed the new tables.
        chat = h.create_chat("m", title="fresh")
        h.add_message(chat.id, "user", "zymurgy")
        assert [hit.chat_id for hit in h.search("zy")] == [chat.id]
        h.delete_chat(1)
        assert len(h.search("checkpoint", limit=100)) == 49
    fts_ok(db_path)
