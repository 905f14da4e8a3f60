"""Chats in the history: create, read, list a page at a time, change, rename, delete."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any, NamedTuple

from ..text import clean
from ..types import Chat, ChatParams, ChatTools, FallbackSettings
from .opening import HistoryFile, now_iso

if TYPE_CHECKING:
    from ..spend import Spent

CHAT_COLUMNS = "id, title, model, system_prompt, params, archived, created_at, updated_at, current_id, tools"
CHAT_COLUMNS += ", web"  # (m011)
CHAT_COLUMNS += ", fallback"  # (m012)
_UNSET: Any = object()  # "not given", where None is a meaningful value


def chat_from_row(row: sqlite3.Row) -> Chat:
    # Text read back is cleaned again: another program, an older version or a copied file may
    # have put escape sequences in the history, and it is shown in a terminal.
    return Chat(
        id=row["id"],
        title=clean(row["title"]),
        model=clean(row["model"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        system_prompt=row["system_prompt"],
        params=ChatParams.from_dict(json.loads(row["params"] or "{}")),
        archived=bool(row["archived"]),
        current_id=row["current_id"],
        tools=ChatTools.from_dict(json.loads(row["tools"])) if row["tools"] else ChatTools(),
        web=bool(row["web"]),
        fallback=FallbackSettings.from_dict(json.loads(row["fallback"])) if row["fallback"] else None,
    )


def _leaf_fallback(chats: "Chats", chat: Chat) -> Chat:
    """A chat with messages but no current leaf (written by something else than this app):
    its newest message stands for the leaf, so what it has is shown."""
    if chat.current_id is None:
        rows = chats._rows("SELECT max(id) FROM messages WHERE chat_id = ?", (chat.id,))
        if rows and rows[0][0] is not None:
            chat.current_id = rows[0][0]
    return chat


class ChatSummary(NamedTuple):  # (not a dataclass: cheaper to create, on the way to the first frame)
    """A chat as the history list shows it: the messages on its current path, the models
    that wrote any of its replies (every branch), and what they cost."""

    chat: Chat
    message_count: int
    models: tuple[str, ...]  # the models that wrote its replies, in order of first use
    spent: Spent | None = None  # what its replies cost, measured (None: nothing measured)


class Chats(HistoryFile):
    """The chat methods of ``History``."""

    def create_chat(
        self,
        model: str,
        *,
        title: str = "",
        system_prompt: str | None = None,
        params: ChatParams | None = None,
        tools: ChatTools | None = None,
        web: bool = False,
        fallback: FallbackSettings | None = None,
    ) -> Chat:
        now = now_iso()
        params_json = json.dumps((params or ChatParams()).as_dict())
        tools_json = json.dumps(tools.as_dict()) if tools is not None and tools.as_dict() else None
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO chats (title, model, system_prompt, params, archived, created_at, updated_at, tools) "
                "VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                (title, model, system_prompt, params_json, now, now, tools_json),
            )
            chat_id = int(cursor.lastrowid)
            if web:
                conn.execute("UPDATE chats SET web = 1 WHERE id = ?", (chat_id,))
            if fallback is not None:
                conn.execute("UPDATE chats SET fallback = ? WHERE id = ?", (json.dumps(fallback.as_dict()), chat_id))
        chat = self.get_chat(chat_id)
        assert chat is not None
        return chat

    def get_chat(self, chat_id: int) -> Chat | None:
        rows = self._rows(f"SELECT {CHAT_COLUMNS} FROM chats WHERE id = ?", (chat_id,))
        return _leaf_fallback(self, chat_from_row(rows[0])) if rows else None

    def count_chats(self, archived: bool | None = False) -> int:
        where, params = ("", []) if archived is None else ("WHERE archived = ?", [int(archived)])
        return self._rows(f"SELECT count(*) FROM chats {where}", params)[0][0]

    def chat_page(
        self,
        *,
        archived: bool | None = False,
        after: tuple[str, int] | None = None,
        limit: int = 50,
    ) -> list[ChatSummary]:
        """One page of the history list, newest activity first.

        ``after`` is the (updated_at, id) of the last chat of the previous page: paging by
        key walks the (archived, updated_at) index from where the last page ended, so the
        1000th page costs what the first does (OFFSET would skip every earlier row again).
        """
        where, params = ([], []) if archived is None else (["archived = ?"], [int(archived)])
        if after is not None:
            where.append("(updated_at, id) < (?, ?)")
            params.extend(after)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._rows(
            f"SELECT {CHAT_COLUMNS} FROM chats {clause} ORDER BY updated_at DESC, id DESC LIMIT ?",
            [*params, limit],
        )
        chats = [chat_from_row(r) for r in rows]
        return self._summaries(chats)

    def chat_summaries(self, chat_ids: list[int]) -> dict[int, ChatSummary]:
        """The summaries of the given chats (missing ones are left out)."""
        ids = list(dict.fromkeys(chat_ids))
        chats: list[Chat] = []
        for start in range(0, len(ids), 500):  # well under SQLite's limit on bound parameters
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            chats += [chat_from_row(r) for r in self._rows(f"SELECT {CHAT_COLUMNS} FROM chats WHERE id IN ({marks})", chunk)]
        return {summary.chat.id: summary for summary in self._summaries(chats)}

    def _summaries(self, chats: list[Chat]) -> list[ChatSummary]:
        """Message counts and models for a page of chats: two grouped queries over the
        (chat_id, id) index, whatever the number of chats in the file."""
        if not chats:
            return []
        ids = [c.id for c in chats]
        marks = ",".join("?" * len(ids))
        # The current path's length is its leaf's depth: no walk.
        counts = {
            r[0]: r[1]
            for r in self._rows(
                f"SELECT c.id, m.depth FROM chats c JOIN messages m ON m.id = c.current_id WHERE c.id IN ({marks})",
                ids,
            )
        }
        models: dict[int, list[str]] = {}
        for r in self._rows(
            f"SELECT chat_id, model, min(id) AS first FROM messages WHERE chat_id IN ({marks}) "
            "AND role = 'assistant' AND model IS NOT NULL AND model != '' "
            "GROUP BY chat_id, model ORDER BY chat_id, first",
            ids,
        ):
            models.setdefault(r[0], []).append(r[1])
        spending = self.chat_spending(ids)  # type: ignore[attr-defined]  # (store/spend.py, beside it in History)
        return [ChatSummary(c, counts.get(c.id, 0), tuple(models.get(c.id, ())), spending.get(c.id)) for c in chats]

    def update_chat(
        self,
        chat_id: int,
        *,
        model: str | None = None,
        system_prompt: str | None = _UNSET,
        params: ChatParams | None = None,
        archived: bool | None = None,
        tools: ChatTools | None = None,
        web: bool | None = None,
        fallback: FallbackSettings | None = _UNSET,
    ) -> Chat | None:
        """Change only the given settings; returns the chat (None if it does not exist).

        Settings bump ``updated_at``; archiving alone does not, so an archived chat
        comes back to its old place when restored. The title is ``rename_chat``'s.
        """
        changes: dict[str, Any] = {}
        if model is not None:
            changes["model"] = model
        if system_prompt is not _UNSET:
            changes["system_prompt"] = system_prompt
        if params is not None:
            changes["params"] = json.dumps(params.as_dict())
        if changes:
            changes["updated_at"] = now_iso()
        if tools is not None:  # (not activity: the chat keeps its place in the history list)
            changes["tools"] = json.dumps(tools.as_dict()) if tools.as_dict() else None
        if fallback is not _UNSET:  # None: follow the settings' [fallback] again
            changes["fallback"] = json.dumps(fallback.as_dict()) if fallback is not None else None
        if archived is not None:
            changes["archived"] = int(archived)
        if web is not None:  # (not activity either)
            changes["web"] = int(web)
        if changes:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            with self._write() as conn:
                conn.execute(f"UPDATE chats SET {assignments} WHERE id = ?", [*changes.values(), chat_id])
        return self.get_chat(chat_id)

    def rename_chat(self, chat_id: int, title: str) -> Chat | None:
        """A new title, leaving ``updated_at`` alone: renaming is not activity, so the chat
        keeps its place in the history list. None if the chat does not exist."""
        with self._write() as conn:
            conn.execute("UPDATE chats SET title = ? WHERE id = ?", (title, chat_id))
        return self.get_chat(chat_id)

    def delete_chat(self, chat_id: int) -> None:
        """The chat and its messages (ON DELETE CASCADE; the FTS triggers follow)."""
        with self._write() as conn:
            conn.execute("DELETE FROM chats WHERE id = ?", (chat_id,))
