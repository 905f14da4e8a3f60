"""Comparisons: one prompt to several models at once, its columns, and the pick.

The answers are ordinary messages: the first compared question gets one answer per model
(siblings), and each later compared prompt is stored once per column, below that column's
leaf, with that column's answer below it — so every column is a whole conversation of its
own, and picking one is making its leaf the chat's current leaf. This module keeps which
branches make up a comparison, and walks them back into turns.
"""

from __future__ import annotations

import json
import sqlite3

from ..text import clean
from ..types import Comparison, Message
from .opening import HistoryFile, StoreError, now_iso

_COLUMNS = "id, chat_id, root_id, models, leaves, chosen_id, created_at"


def _comparison(row: sqlite3.Row) -> Comparison:
    return Comparison(
        id=row["id"], chat_id=row["chat_id"], root_id=row["root_id"],
        models=tuple(clean(str(m)) for m in json.loads(row["models"])),
        leaves=tuple(int(i) for i in json.loads(row["leaves"])),
        chosen_id=row["chosen_id"], created_at=row["created_at"],
    )


class Compare(HistoryFile):
    """The comparison methods of ``History``."""

    def start_comparison(self, chat_id: int, root_id: int, models: list[str], leaves: list[int]) -> Comparison:
        """Record that ``models`` answered ``root_id`` with the messages ``leaves`` (in column order)."""
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO comparisons (chat_id, root_id, models, leaves, created_at) VALUES (?, ?, ?, ?, ?)",
                (chat_id, root_id, json.dumps(models), json.dumps(leaves), now_iso()))
            comparison_id = int(cursor.lastrowid)
        found = self.get_comparison(comparison_id)
        assert found is not None
        return found

    def set_leaves(self, comparison_id: int, leaves: list[int]) -> Comparison | None:
        """The columns moved on: their newest messages."""
        with self._write() as conn:
            conn.execute("UPDATE comparisons SET leaves = ? WHERE id = ?", (json.dumps(leaves), comparison_id))
        return self.get_comparison(comparison_id)

    def get_comparison(self, comparison_id: int) -> Comparison | None:
        rows = self._rows(f"SELECT {_COLUMNS} FROM comparisons WHERE id = ?", (comparison_id,))
        return _comparison(rows[0]) if rows else None

    def open_comparison(self, chat_id: int) -> Comparison | None:
        """The chat's comparison not decided yet (the newest, if a crash left several)."""
        rows = self._rows(f"SELECT {_COLUMNS} FROM comparisons WHERE chat_id = ? AND chosen_id IS NULL "
                          "ORDER BY id DESC LIMIT 1", (chat_id,))
        return _comparison(rows[0]) if rows else None

    def comparisons(self, chat_id: int) -> list[Comparison]:
        """Every comparison of the chat, oldest first."""
        return [_comparison(r) for r in self._rows(
            f"SELECT {_COLUMNS} FROM comparisons WHERE chat_id = ? ORDER BY id", (chat_id,))]

    def pick(self, comparison_id: int, column: int) -> Comparison:
        """The user chose ``column``: its leaf becomes the chat's current leaf and its model the
        chat's model; the comparison is over (its other columns stay, as siblings)."""
        comparison = self.get_comparison(comparison_id)
        if comparison is None or not 0 <= column < len(comparison.leaves):
            raise StoreError("That comparison is no longer in the history.", self.path)
        leaf, model = comparison.leaves[column], comparison.models[column]
        with self._write() as conn:
            conn.execute("UPDATE comparisons SET chosen_id = ? WHERE id = ?", (leaf, comparison_id))
            conn.execute("UPDATE chats SET current_id = ?, model = ?, updated_at = ? WHERE id = ?",
                         (leaf, model, now_iso(), comparison.chat_id))
        picked = self.get_comparison(comparison_id)
        assert picked is not None
        return picked

    def comparison_turns(self, comparison: Comparison) -> list[list[Message | None]]:
        """The comparison's turns, each one answer per column (None where a column has no
        answer at that turn), oldest turn first; the columns' user messages are left out."""
        columns: list[list[Message]] = []
        for leaf in comparison.leaves:
            path = self.path_to(leaf)  # type: ignore[attr-defined]
            start = next((i for i, m in enumerate(path) if m.id == comparison.root_id), None)
            answers = [m for m in path[start + 1:]] if start is not None else []
            columns.append([m for m in answers if m.role == "assistant"])
        depth = max((len(c) for c in columns), default=0)
        return [[c[t] if t < len(c) else None for c in columns] for t in range(depth)]
