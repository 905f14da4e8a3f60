"""Helpers for the store's tests: what only tests need, kept out of ``History``.

``list_chats`` is the plain OFFSET listing the app's keyset paging (``chat_page``) is checked
against; the rest look at the file from outside the History under test.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from apertis_tui.core.store import History
from apertis_tui.core.store.chats import CHAT_COLUMNS, chat_from_row
from apertis_tui.core.types import Chat


def list_chats(history: History, *, limit: int = 50, offset: int = 0, archived: bool | None = False) -> list[Chat]:
    """Newest activity first. ``archived=None`` lists both kinds."""
    where, params = ("", []) if archived is None else ("WHERE archived = ?", [int(archived)])
    rows = history._rows(
        f"SELECT {CHAT_COLUMNS} FROM chats {where} ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return [chat_from_row(r) for r in rows]


def fts_ok(path: Path) -> None:
    """FTS5's own check that both indexes match their content tables."""
    conn = sqlite3.connect(path)
    try:
        for table in ("messages_fts", "chats_fts"):
            conn.execute(f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.close()


def set_updated_at(path: Path, chat_id: int, value: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (value, chat_id))
    conn.close()
