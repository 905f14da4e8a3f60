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
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..text import clean, one_line
from ..types import AttachmentInfo, Message
from .attachments import Attachments, link_attachments
from .opening import StoreError, now_iso

if TYPE_CHECKING:
    from ..web import ServerTimings, WebSearch, WebSource

MESSAGE_COLUMNS = (
    "id, chat_id, role, content, reasoning, model, status, error, created_at, finished_at, "
    "prompt_tokens, completion_tokens, ttft_ms, duration_ms, tool_calls, parent_id, depth, tool_call_id, "
    "cost_usd, cost_group, cost_replies, fallback"
)
MESSAGE_COLUMNS += ", sources, web_search, server_timings"  # (m011: a web search's sources, the server's timings)
#: "Below the chat's current leaf": where a message goes when no parent is named.
CURRENT: Any = object()


def message_from_row(row: sqlite3.Row) -> Message:
    # Cleaned again on the way out, as chats are: the file may hold text from elsewhere.
    data = dict(row)
    data["tool_calls"] = json.loads(data["tool_calls"]) if data["tool_calls"] else None
    data["fallback"] = _fallback_record(data["fallback"])
    for column in ("content", "reasoning", "error", "model"):
        if data[column]:
            data[column] = clean(data[column])
    _web_from_row(data)
    return Message(**data)


def _web_from_row(data: dict[str, Any]) -> None:
    """A reply's web search and server timings, from their JSON columns (read as the server's
    text is: cleaned, anything malformed left out). Most rows have none: core.web is imported
    only for one that has (not at the app's start)."""
    if not (data["sources"] or data["web_search"] or data["server_timings"]):
        data["sources"] = ()
        return
    from ..web import parse_timings, search_from_json, sources_from_json

    for column, read in (("sources", sources_from_json), ("web_search", search_from_json),
                         ("server_timings", parse_timings)):
        raw = data[column]
        try:
            value = json.loads(raw) if raw else None
        except ValueError:
            value = None
        data[column] = read(value) if value is not None else (() if column == "sources" else None)


def web_columns(sources: "list[WebSource] | tuple[WebSource, ...] | None", web_search: "WebSearch | None",
                server_timings: "ServerTimings | None") -> tuple[str | None, str | None, str | None]:
    """The JSON a reply's sources, web search and server timings are stored as (NULL: none)."""
    return (
        json.dumps([s.as_dict() for s in sources], ensure_ascii=False) if sources else None,
        json.dumps(web_search.as_dict()) if web_search is not None else None,
        json.dumps(server_timings.as_dict()) if server_timings is not None else None,
    )


def _fallback_record(stored: str | None) -> dict[str, str] | None:
    """A reply's fallback facts as read back: cleaned text, anything else left out."""
    try:
        record = json.loads(stored) if stored else None
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    return {key: one_line(record[key], 300) for key in ("from", "reason") if isinstance(record.get(key), str)}


def _served_by(conn: sqlite3.Connection, message_id: int, model: str | None, fallback: dict[str, str] | None) -> None:
    """A fallback model wrote this reply: record it (``model``) and which failed and why."""
    if model is not None or fallback is not None:
        conn.execute("UPDATE messages SET model = coalesce(?, model), fallback = ? WHERE id = ?",
                     (model, json.dumps(fallback) if fallback is not None else None, message_id))


class Messages(Attachments):
    """The message methods of ``History``."""

    # -- writing -----------------------------------------------------------

    def _insert_message(self, chat_id: int, role: str, content: str, model: str | None, status: str,
                        parent_id: int | None = CURRENT, attachments: Sequence[AttachmentInfo] = ()) -> int:
        """Insert a message below ``parent_id`` (None: a first message; CURRENT: below the
        chat's current leaf) with its ``attachments``, make it the chat's current leaf and bump
        the chat, in one transaction."""
        now = now_iso()
        with self._write() as conn:
            chat = conn.execute("SELECT current_id FROM chats WHERE id = ?", (chat_id,)).fetchone()
            if chat is None:
                raise StoreError(f"Chat {chat_id} no longer exists.", self.path)
            if parent_id is CURRENT:
                parent_id = chat[0]
            depth = 1
            if parent_id is not None:
                parent = conn.execute("SELECT depth FROM messages WHERE id = ? AND chat_id = ?",
                                      (parent_id, chat_id)).fetchone()
                if parent is None:
                    raise StoreError(f"The message this one follows is no longer in chat {chat_id}.", self.path)
                depth = parent[0] + 1
            cursor = conn.execute(
                "INSERT INTO messages (chat_id, parent_id, depth, role, content, model, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (chat_id, parent_id, depth, role, content, model, status, now),
            )
            message_id = int(cursor.lastrowid)
            if attachments:
                link_attachments(conn, message_id, attachments)
            conn.execute("UPDATE chats SET updated_at = ?, current_id = ? WHERE id = ?", (now, message_id, chat_id))
            return message_id

    def add_message(
        self,
        chat_id: int,
        role: str,
        content: str,
        *,
        model: str | None = None,
        status: str = "complete",
        parent_id: int | None = CURRENT,
        attachments: Sequence[AttachmentInfo] = (),
    ) -> Message:
        """A user or system message, stored at once, below ``parent_id`` (by default the chat's
        current leaf; the parent of another version of a message makes a sibling of it), with
        the files attached to it (``core.attachments``; stored in the same transaction)."""
        message = self._get_message(self._insert_message(chat_id, role, content, model, status, parent_id,
                                                         attachments))
        assert message is not None
        return message

    def add_tool_result(self, chat_id: int, tool_call_id: str, content: str, *, parent_id: int | None = CURRENT,
                        status: str = "complete", error: str | None = None, tool: str | None = None,
                        duration_ms: int | None = None) -> Message:
        """What a tool call gave back (or why it gave nothing: refused, failed, timed out; then
        ``error`` says so and ``content`` is what the model is told), as a "tool" message.
        ``tool`` (``server/tool``) goes where a reply keeps its model: who wrote it."""
        message_id = self._insert_message(chat_id, "tool", content, tool, status, parent_id)
        with self._write() as conn:
            conn.execute("UPDATE messages SET tool_call_id = ?, error = ?, duration_ms = ?, finished_at = ? "
                         "WHERE id = ?", (tool_call_id, error, duration_ms, now_iso(), message_id))
        message = self._get_message(message_id)
        assert message is not None
        return message

    def start_assistant(self, chat_id: int, model: str, *, parent_id: int | None = CURRENT) -> Message:
        """An empty assistant message in status "streaming", below ``parent_id`` (as for
        ``add_message``: a reply to a message that has one already is another version)."""
        message_id = self._insert_message(chat_id, "assistant", "", model, "streaming", parent_id)
        with self._write() as conn:
            conn.execute("UPDATE messages SET writer_pid = ? WHERE id = ?", (os.getpid(), message_id))
        message = self._get_message(message_id)
        assert message is not None
        return message

    def flush_partial(self, message_id: int, content: str, reasoning: str = "", *, model: str | None = None,
                      fallback: dict[str, str] | None = None) -> None:
        """Save the text so far (committed: survives kill -9). No-op if the message is gone.
        ``model`` and ``fallback``: as for ``finish_message``."""
        with self._write() as conn:
            _served_by(conn, message_id, model, fallback)
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
        sources: "list[WebSource] | tuple[WebSource, ...] | None" = None,
        web_search: WebSearch | None = None,
        server_timings: ServerTimings | None = None,
        model: str | None = None,
        fallback: dict[str, str] | None = None,
    ) -> Message | None:
        """The final state of a reply. None if the message is gone (its chat was deleted).
        ``model``: the model that really wrote it, when a fallback (``fallback``: which model
        failed and why) answered instead of the one asked for."""
        with self._write() as conn:
            if sources or web_search is not None or server_timings is not None:
                conn.execute("UPDATE messages SET sources = ?, web_search = ?, server_timings = ? WHERE id = ?",
                             (*web_columns(sources, web_search, server_timings), message_id))
            _served_by(conn, message_id, model, fallback)
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

    # -- reading -----------------------------------------------------------

    def _get_message(self, message_id: int) -> Message | None:
        rows = self._rows(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,))
        return self.with_attachments([message_from_row(rows[0])])[0] if rows else None

    def get_messages(self, message_ids: list[int]) -> dict[int, Message]:
        """The given messages by id (missing ones are left out)."""
        ids = list(dict.fromkeys(message_ids))
        out: dict[int, Message] = {}
        for start in range(0, len(ids), 500):  # well under SQLite's limit on bound parameters
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self._rows(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ({marks})", chunk):
                out[r["id"]] = message_from_row(r)
        return {m.id: m for m in self.with_attachments(list(out.values()))}

    def messages(self, chat_id: int) -> list[Message]:
        """All of a chat's messages, every branch, oldest first (``path`` gives one branch)."""
        rows = self._rows(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? ORDER BY id", (chat_id,))
        return self.with_attachments([message_from_row(r) for r in rows])

    # -- what is sent ------------------------------------------------------

    def context(self, chat_id: int, leaf_id: int | None = CURRENT) -> list[dict[str, Any]]:
        """The OpenAI ``messages`` to send for the next turn after ``leaf_id`` (by default the
        chat's current leaf): the system prompt, then the turns on the path from the root to it,
        in one recursive query (O(depth)). Other branches are never sent.

        A user message with attachments sends them too (``core.attachments.sending``): text files
        and folders as fenced text, images as ``image_url`` parts; on every later turn of the path
        as well, so the model keeps seeing them.

        Left out: a reply still streaming, and anything without text (e.g. a failed reply). A
        reply that was stopped, interrupted or cut keeps its partial text. Tool calls go with
        the results that answer them, and only those: a call left unanswered (the turn was
        stopped) is dropped from its message, and a result that answers no call is dropped,
        since OpenAI-compatible servers refuse either.
        """
        chats = self._rows("SELECT system_prompt, current_id FROM chats WHERE id = ?", (chat_id,))
        if not chats:
            return []
        system_prompt, current = chats[0]
        out: list[dict[str, Any]] = []
        if system_prompt and system_prompt.strip():
            out.append({"role": "system", "content": system_prompt})
        leaf = current if leaf_id is CURRENT else leaf_id
        if leaf is None:
            return out
        rows = self._rows(
            "WITH RECURSIVE up(id, parent_id, depth) AS (SELECT id, parent_id, depth FROM messages WHERE id = ? "
            "UNION ALL SELECT m.id, m.parent_id, m.depth FROM messages m JOIN up ON m.id = up.parent_id) "
            "SELECT role, content, tool_calls, tool_call_id, id FROM messages WHERE id IN (SELECT id FROM up) "
            "AND role IN ('user', 'assistant', 'tool') AND status != 'streaming' ORDER BY depth",
            (leaf,), named=False,
        )
        attached = self.attachments_of(row[4] for row in rows if row[0] == "user")
        files = self.attachment_data(info.sha256 for infos in attached.values() for info in infos) if attached else {}
        at, count = 0, len(rows)  # (role, content, tool_calls, tool_call_id, id) tuples
        while at < count:
            role, content, tool_calls, _, message_id = rows[at]
            at += 1
            if role == "user":
                infos = [(info, files[info.sha256]) for info in attached.get(message_id, ()) if info.sha256 in files]
                if infos:
                    from ..attachments.sending import user_content

                    out.append({"role": "user", "content": user_content(content, infos)})
                elif content.strip():
                    out.append({"role": "user", "content": content})
            elif role == "assistant":
                calls = []
                if tool_calls:
                    answers: dict[str, str] = {}  # the results right after it, by the call they answer
                    while at < count and rows[at][0] == "tool":
                        answers.setdefault(rows[at][3] or "", rows[at][1])
                        at += 1
                    calls = [c for c in json.loads(tool_calls) if isinstance(c, dict) and c.get("id") in answers]
                if calls:
                    out.append({"role": "assistant", "content": content or None, "tool_calls": calls})
                    out.extend({"role": "tool", "tool_call_id": c["id"], "content": answers[c["id"]]} for c in calls)
                elif content.strip():
                    out.append({"role": "assistant", "content": content})
            # (a tool result that follows no call of the message before it answers nothing: left out)
        return out
