"""The history's migrations: a blank file and a file stopped at every older schema end with the
same schema, that schema is the one pinned in tests/history_schema.sql, and old rows survive.

Both paths run the same list of steps, so they agree by construction unless a step depends on
what it finds; the pinned schema and the pinned names are what catch a step dropped, edited or
renamed. After an intended schema change (a new migration), regenerate the pinned file with
``python tests/test_migrate.py > tests/history_schema.sql`` and review its diff.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
import sqlite_utils

from apertis_tui.core.store import MIGRATION_NAMES, SCHEMA_VERSION, migrate, schema_version

PINNED = Path(__file__).with_name("history_schema.sql")
# Histories written by released versions record these names; the same names must mean the same
# steps forever, or those files would be migrated twice (or never).
RELEASED = ("m001_initial", "m002_fts", "m003_fts_prefix", "m004_fts_skip_streaming", "m005_writer_pid",
            "m006_message_tree", "m007_tool_call_id", "m008_chat_tools",
            "m009_comparisons", "m010_message_cost", "m011_web_search", "m012_fallback",
            "m013_attachments")
# What FTS5 makes beside a virtual table, and sqlite-utils' record of migrations: their SQL is
# SQLite's and sqlite-utils', not ours, and may change with their versions, so the pinned file
# leaves them out.
FTS_SHADOWS = ("_data", "_idx", "_content", "_docsize", "_config")
NOT_OURS = ("_sqlite_migrations", "idx__sqlite_migrations_migration_set_name")


def schema(conn: sqlite3.Connection, *, ours_only: bool = False) -> list[str]:
    """Every table, index, view and trigger as one line of SQL, whitespace normalised."""
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
        "ORDER BY type, name"
    ).fetchall()
    virtual = [name for _, name, sql in rows if sql.upper().startswith("CREATE VIRTUAL TABLE")]
    not_ours = {v + suffix for v in virtual for suffix in FTS_SHADOWS} | set(NOT_OURS)
    return [" ".join(sql.split()) + ";" for _, name, sql in rows if not (ours_only and name in not_ours)]


def open_db(path: Path) -> sqlite_utils.Database:
    return sqlite_utils.Database(sqlite3.connect(path), execute_plugins=False)


def put_old_rows(db: sqlite_utils.Database) -> None:
    """A few rows, written the way a version at this schema would: a chat, a question, a
    finished answer and one still streaming (never indexed, from m004 on)."""
    db.execute(
        "INSERT INTO chats (id, title, model, params, created_at, updated_at) "
        "VALUES (1, 'Tomatoes', 'm', '{\"temperature\": 0.5}', '2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z')"
    )
    for role, content, status in (
        ("user", "how do I grow zucchini", "complete"),
        ("assistant", "plenty of sun and water", "complete"),
        ("assistant", "half an answer about okra", "streaming"),
    ):
        db.execute(
            "INSERT INTO messages (chat_id, role, content, model, status, created_at) "
            "VALUES (1, ?, ?, 'm', ?, '2025-01-01T00:00:01.000Z')",
            (role, content, status),
        )
    db.conn.commit()


def rows(db: sqlite_utils.Database, table: str, columns: list[str]) -> list[tuple]:
    return db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id").fetchall()


def matches(db: sqlite_utils.Database, table: str, words: str) -> list[int]:
    return [r[0] for r in db.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rowid", (words,))]


@pytest.fixture(scope="module")
def newest(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The schema of a blank file migrated to the newest."""
    db = open_db(tmp_path_factory.mktemp("blank") / "history.db")
    migrate(db)
    assert schema_version(db) == SCHEMA_VERSION
    try:
        return schema(db.conn)
    finally:
        db.close()


def test_released_names_are_kept_in_order() -> None:
    assert MIGRATION_NAMES[: len(RELEASED)] == RELEASED
    assert len(set(MIGRATION_NAMES)) == len(MIGRATION_NAMES)


def test_a_blank_file_gets_the_pinned_schema(tmp_path: Path) -> None:
    db = open_db(tmp_path / "history.db")
    migrate(db)
    got = schema(db.conn, ours_only=True)
    db.close()
    pinned = [line for line in PINNED.read_text().splitlines() if line and not line.startswith("--")]
    assert got == pinned, "the schema changed: if intended, regenerate tests/history_schema.sql (see the docstring)"


@pytest.mark.parametrize("upto", range(1, SCHEMA_VERSION))
def test_a_file_at_an_older_schema_ends_like_a_blank_one_with_its_rows(
    tmp_path: Path, upto: int, newest: list[str]
) -> None:
    path = tmp_path / "history.db"
    db = open_db(path)
    migrate(db, upto=upto)
    assert schema_version(db) == upto
    put_old_rows(db)
    old_columns = {table: db[table].columns_dict for table in ("chats", "messages")}
    before = {table: rows(db, table, list(columns)) for table, columns in old_columns.items()}
    db.close()

    db = open_db(path)
    migrate(db)
    try:
        assert schema_version(db) == SCHEMA_VERSION
        assert schema(db.conn) == newest
        assert {table: rows(db, table, list(columns)) for table, columns in old_columns.items()} == before
        # The search index holds the old rows, finished messages only.
        assert matches(db, "messages_fts", '"zucchini"') == [1]
        assert matches(db, "messages_fts", '"sun"') == [2]
        assert matches(db, "messages_fts", '"okra"') == []
        assert matches(db, "chats_fts", '"tomatoes"') == [1]
        # The index leaves out a streaming reply on purpose, which FTS5's check would take for
        # damage: finish it first (the trigger indexes it), then check both indexes.
        db.execute("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'")
        assert matches(db, "messages_fts", '"okra"') == [3]
        for table in ("messages_fts", "chats_fts"):
            db.execute(f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)")
    finally:
        db.close()


def test_linear_chats_with_superseded_replies_become_trees_with_nothing_lost(tmp_path: Path) -> None:
    """A history as the release before branches wrote it: regenerated replies marked
    superseded, a stopped answer, one interrupted, a failed one retried; two chats."""
    path = tmp_path / "history.db"
    db = open_db(path)
    migrate(db, upto=5)
    db.execute("INSERT INTO chats (id, title, model, params, created_at, updated_at) VALUES "
               "(1, 'Plants', 'm', '{}', '2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z'), "
               "(2, 'Empty', 'm', '{}', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'), "
               "(3, 'Cats', 'm', '{}', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z')")
    old = [  # (id, chat, role, content, status, error)
        (1, 1, "user", "how do I grow zucchini", "complete", None),
        (2, 3, "user", "why do cats purr", "complete", None),
        (3, 1, "assistant", "first try", "superseded", None),
        (4, 1, "assistant", "", "superseded", "The server had a problem (500)."),
        (5, 1, "assistant", "plenty of sun", "complete", None),
        (6, 1, "user", "and water?", "complete", None),
        (7, 1, "assistant", "half an ans", "stopped", None),
        (8, 3, "assistant", "because they are ha", "interrupted", None),
        (9, 3, "user", "more", "complete", None),
        (10, 3, "assistant", "superseded at the end", "superseded", None),
    ]
    for mid, chat, role, content, status, error in old:
        db.execute("INSERT INTO messages (id, chat_id, role, content, model, status, error, created_at) "
                   "VALUES (?, ?, ?, ?, 'm', ?, ?, '2025-01-01T00:00:01.000Z')", (mid, chat, role, content, status, error))
    db.conn.commit()
    migrate(db)
    try:
        got = {r[0]: r[1:] for r in db.execute("SELECT id, parent_id, depth, content, status, error FROM messages")}
        assert got == {
            1: (None, 1, "how do I grow zucchini", "complete", None),
            3: (1, 2, "first try", "complete", None),  # a superseded reply: a sibling of its replacement
            4: (1, 2, "", "error", "The server had a problem (500)."),
            5: (1, 2, "plenty of sun", "complete", None),
            6: (5, 3, "and water?", "complete", None),  # the path went on from the reply that stayed
            7: (6, 4, "half an ans", "stopped", None),
            2: (None, 1, "why do cats purr", "complete", None),
            8: (2, 2, "because they are ha", "interrupted", None),
            9: (8, 3, "more", "complete", None),
            10: (9, 4, "superseded at the end", "complete", None),
        }
        current = dict(db.execute("SELECT id, current_id FROM chats").fetchall())
        assert current == {1: 7, 2: None, 3: 10}  # a path that ended in a superseded reply shows it
        assert matches(db, "messages_fts", '"first"') == [3]  # still searchable
    finally:
        db.close()
    from apertis_tui.core.store import History

    with History(path) as history:  # and the app reads it as a tree
        assert [m.id for m in history.path_to(7)] == [1, 5, 6, 7]
        assert history.context(1) == [{"role": "user", "content": "how do I grow zucchini"},
                                      {"role": "assistant", "content": "plenty of sun"},
                                      {"role": "user", "content": "and water?"},
                                      {"role": "assistant", "content": "half an ans"}]
        assert history.sibling_positions(history.path_to(7))[5] == (3, 3)
        assert history.chat_summaries([1, 2, 3])[1].message_count == 4


if __name__ == "__main__":  # print the schema to pin: see the module docstring
    blank = sqlite3.connect(":memory:")
    migrate(sqlite_utils.Database(blank, execute_plugins=False))
    print(f"-- The history's schema after {', '.join(MIGRATION_NAMES)}; made by tests/test_migrate.py.")
    print("-- FTS5's shadow tables and sqlite-utils' migrations table are left out. One statement per line.")
    sys.stdout.write("".join(line + "\n" for line in schema(blank, ours_only=True)))
