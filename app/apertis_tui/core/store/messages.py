"""Messages in the history: adding them, saving a streaming reply, reading them back, and the
context sent for a chat's next turn.

Laid out in that order: one place creates a message row (``_insert_message``), the replies'
life cycle follows, then the readers, then ``context`` — the one place that decides which
messages a request carries.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

from ..text import clean
from ..types import Message
from .opening import HistoryFile, StoreError, now_iso

MESSAGE_COLUMNS = (
    "id, chat_id, role, content, reasoning, model, status, error, created_at, finished_at, "
    "prompt_tokens, completion_tokens, ttft_ms, duration_ms, tool_calls"
)


def message_from_row(row: sqlite3.Row) -> Message:
    # Cleaned again on the way out, as chats are: the file may hold text from elsewhere.
    data = dict(row)
    data["tool_calls"] = json.loads(data["tool_calls"]) if data["tool_calls"] else None
    for column in ("content", "reasoning", "error", "model"):
        if data[column]:
            data[column] = clean(data[column])
    return Message(**data)


class Messages(HistoryFile):
    """The message methods of ``History``."""

    # -- writing -----------------------------------------------------------

    def _insert_message(self, chat_id: int, role: str, content: str, model: str | None, status: str) -> int:
        """Insert a message and bump its chat, in one transaction."""
        now = now_iso()
        with self._write() as conn:
            bumped = conn.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))
            if bumped.rowcount == 0:
                raise StoreError(f"Chat {chat_id} no longer exists.", self.path)
            cursor = conn.execute(
                "INSERT INTO messages (chat_id, role, content, model, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (chat_id, role, content, model, status, now),
            )
            return int(cursor.lastrowid)

    def add_message(
        self,
        chat_id: int,
        role: str,
        content: str,
        *,
        model: str | None = None,
        status: str = "complete",
    ) -> Message:
        """A user or system message, stored at once. Bumps the chat."""
        message = self._get_message(self._insert_message(chat_id, role, content, model, status))
        assert message is not None
        return message

    def start_assistant(self, chat_id: int, model: str) -> Message:
        """An empty assistant message in status "streaming". Bumps the chat."""
        message_id = self._insert_message(chat_id, "assistant", "", model, "streaming")
        with self._write() as conn:
            conn.execute("UPDATE messages SET writer_pid = ? WHERE id = ?", (os.getpid(), message_id))
        message = self._get_message(message_id)
        assert message is not None
        return message

    def flush_partial(self, message_id: int, content: str, reasoning: str = "") -> None:
        """Save the text so far (committed: survives kill -9). No-op if the message is gone."""
        with self._write() as conn:
            conn.execute(
                "UPDATE messages SET content = ?, reasoning = ? WHERE id = ?",
                (content, reasoning, message_id),
            )

    def finish_message(
        self,
        message_id: int,
        *,
        content: str,
        reasoning: str = "",
        status: str,
        error: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        ttft_ms: int | None = None,
        duration_ms: int | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
    ) -> Message | None:
        """The final state of a reply. None if the message is gone (its chat was deleted)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE messages SET content = ?, reasoning = ?, status = ?, error = ?, "
                "finished_at = ?, prompt_tokens = ?, completion_tokens = ?, ttft_ms = ?, "
                "duration_ms = ?, tool_calls = ? WHERE id = ?",
                (
                    content,
                    reasoning,
                    status,
                    error,
                    now_iso(),
                    prompt_tokens,
                    completion_tokens,
                    ttft_ms,
                    duration_ms,
                    json.dumps(tool_calls) if tool_calls is not None else None,
                    message_id,
                ),
            )
        return self._get_message(message_id)

    def mark_superseded(self, message_id: int) -> None:
        with self._write() as conn:
            conn.execute("UPDATE messages SET status = 'superseded' WHERE id = ?", (message_id,))

    # -- reading -----------------------------------------------------------

    def _get_message(self, message_id: int) -> Message | None:
        rows = self._rows(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,))
        return message_from_row(rows[0]) if rows else None

    def get_messages(self, message_ids: list[int]) -> dict[int, Message]:
        """The given messages by id (missing ones are left out)."""
        ids = list(dict.fromkeys(message_ids))
        out: dict[int, Message] = {}
        for start in range(0, len(ids), 500):  # well under SQLite's limit on bound parameters
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self._rows(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ({marks})", chunk):
                out[r["id"]] = message_from_row(r)
        return out

    def messages(self, chat_id: int, *, include_superseded: bool = True) -> list[Message]:
        """All of a chat's messages, oldest first."""
        extra = "" if include_superseded else "AND status != 'superseded'"
        rows = self._rows(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? {extra} ORDER BY id",
            (chat_id,),
        )
        return [message_from_row(r) for r in rows]

    def messages_page(self, chat_id: int, before_id: int | None = None, limit: int = 100) -> list[Message]:
        """The newest ``limit`` messages older than ``before_id`` (all if None), oldest first."""
        rows = self._rows(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? AND id < ? "
            "ORDER BY id DESC LIMIT ?",
            (chat_id, before_id if before_id is not None else 2**63 - 1, limit),
        )
        return [message_from_row(r) for r in reversed(rows)]

    # -- what is sent ------------------------------------------------------

    def context(self, chat_id: int) -> list[dict[str, str]]:
        """The OpenAI ``messages`` to send for the chat's next turn.

        The system prompt, then user and assistant turns in order. Left out: superseded
        messages, a reply still streaming, and anything without text (e.g. a failed
        reply). A reply that was stopped, interrupted or cut keeps its partial text.
        """
        chats = self._rows("SELECT system_prompt FROM chats WHERE id = ?", (chat_id,))
        if not chats:
            return []
        system_prompt = chats[0]["system_prompt"]
        out: list[dict[str, str]] = []
        if system_prompt and system_prompt.strip():
            out.append({"role": "system", "content": system_prompt})
        rows = self._rows(
            "SELECT role, content FROM messages WHERE chat_id = ? "
            "AND role IN ('user', 'assistant') AND status NOT IN ('superseded', 'streaming') "
            "ORDER BY id",
            (chat_id,),
        )
        out.extend({"role": r["role"], "content": r["content"]} for r in rows if r["content"].strip())
        return out
