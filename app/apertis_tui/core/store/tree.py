"""The conversation as a tree: paths, siblings, the current leaf, forks.

Every message has a parent (a chat's first has none). What is shown and sent is the path from
the root to a leaf, walked upward through ``parent_id`` in one recursive query: O(depth),
never a scan of the chat. Messages are only ever added below existing ones, so a subtree's
newest message (highest id) is always a leaf: "the newest leaf under X" is one ``max(id)``.
"""

from __future__ import annotations

from ..types import Chat, Message
from .attachments import Attachments
from .messages import MESSAGE_COLUMNS, message_from_row
from .opening import StoreError, now_iso

# The ids on the path from a message up to the root, with their depth.
_UP = """
WITH RECURSIVE up(id, parent_id, depth) AS (
    SELECT id, parent_id, depth FROM messages WHERE id = ?
    UNION ALL
    SELECT m.id, m.parent_id, m.depth FROM messages m JOIN up ON m.id = up.parent_id
)
"""
_COPIED = ("role, content, reasoning, model, status, error, created_at, finished_at, prompt_tokens, "
           "completion_tokens, ttft_ms, duration_ms, tool_calls, tool_call_id, fallback")
_COPIED += ", sources, web_search, server_timings"  # (m011)


class Tree(Attachments):
    """The tree methods of ``History``."""

    def path_to(self, leaf_id: int | None, *, before_depth: int | None = None, after_depth: int | None = None,
                limit: int | None = None) -> list[Message]:
        """The messages from the root to ``leaf_id``, oldest first; with ``limit``, only the
        ``limit`` deepest of those above ``before_depth`` (a page of a long path), or, with
        ``after_depth``, the ``limit`` first of those below it (the next page down)."""
        if leaf_id is None:
            return []
        if after_depth is not None:
            rows = self._rows(
                f"{_UP} SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN "
                "(SELECT id FROM up WHERE depth > ?) ORDER BY depth LIMIT ?",
                (leaf_id, after_depth, limit if limit is not None else -1),
            )
            return self.with_attachments([message_from_row(r) for r in rows])
        rows = self._rows(
            f"{_UP} SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN "
            "(SELECT id FROM up WHERE depth < ?) ORDER BY depth DESC LIMIT ?",
            (leaf_id, before_depth if before_depth is not None else 2**62, limit if limit is not None else -1),
        )
        return self.with_attachments([message_from_row(r) for r in reversed(rows)])

    def path_ids(self, leaf_id: int | None) -> list[int]:
        if leaf_id is None:
            return []
        return [r[0] for r in self._rows(f"{_UP} SELECT id FROM up ORDER BY depth", (leaf_id,))]

    def siblings(self, message: Message) -> list[int]:
        """The ids of ``message`` and its other versions (same parent), oldest first."""
        if message.parent_id is None:
            rows = self._rows("SELECT id FROM messages WHERE chat_id = ? AND parent_id IS NULL ORDER BY id",
                              (message.chat_id,))
        else:
            rows = self._rows("SELECT id FROM messages WHERE parent_id = ? ORDER BY id", (message.parent_id,))
        return [r[0] for r in rows]

    def sibling_positions(self, messages: list[Message]) -> dict[int, tuple[int, int]]:
        """For each of ``messages`` that has other versions: (its place, 1-based; how many)."""
        if not messages:
            return {}
        chat_id = messages[0].chat_id
        parents = list({m.parent_id for m in messages if m.parent_id is not None})
        by_parent: dict[int | None, list[int]] = {}
        for start in range(0, len(parents), 500):
            chunk = parents[start: start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self._rows(f"SELECT parent_id, id FROM messages WHERE parent_id IN ({marks}) ORDER BY id", chunk):
                by_parent.setdefault(r[0], []).append(r[1])
        if any(m.parent_id is None for m in messages):
            by_parent[None] = [r[0] for r in self._rows(
                "SELECT id FROM messages WHERE chat_id = ? AND parent_id IS NULL ORDER BY id", (chat_id,))]
        out = {}
        for m in messages:
            versions = by_parent.get(m.parent_id, [])
            if len(versions) > 1 and m.id in versions:
                out[m.id] = (versions.index(m.id) + 1, len(versions))
        return out

    def newest_leaf(self, message_id: int) -> int:
        """The newest message under ``message_id`` (itself if it has none): always a leaf."""
        rows = self._rows(
            "WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL "
            "SELECT m.id FROM messages m JOIN sub ON m.parent_id = sub.id) SELECT max(id) FROM sub",
            (message_id,),
        )
        return rows[0][0] if rows and rows[0][0] is not None else message_id

    def set_current(self, chat_id: int, message_id: int) -> int:
        """Make the branch through ``message_id`` current (down to its newest leaf); the leaf."""
        found = self._rows("SELECT chat_id FROM messages WHERE id = ?", (message_id,))
        if not found or found[0][0] != chat_id:
            raise StoreError(f"Message {message_id} is not in chat {chat_id}.", self.path)
        leaf = self.newest_leaf(message_id)
        with self._write() as conn:
            conn.execute("UPDATE chats SET current_id = ? WHERE id = ?", (leaf, chat_id))
        return leaf

    def leaves(self, chat_id: int) -> list[int]:
        """The ends of every branch of a chat, oldest first."""
        return [r[0] for r in self._rows(
            "SELECT id FROM messages m WHERE chat_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM messages c WHERE c.parent_id = m.id) ORDER BY id", (chat_id,))]

    def fork_chat(self, chat_id: int, message_id: int, title: str) -> Chat:
        """A new chat holding the path up to and including ``message_id`` (copies; the
        original is untouched), with the same model, system prompt, parameters, tool and fallback
        settings and web search switch."""
        source = self.get_chat(chat_id)  # type: ignore[attr-defined]
        ids = self.path_ids(message_id)
        if source is None or not ids:
            raise StoreError(f"Message {message_id} is no longer in the history.", self.path)
        now = now_iso()
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO chats (title, model, system_prompt, params, archived, created_at, updated_at, tools, fallback) "
                "SELECT ?, model, system_prompt, params, 0, ?, ?, tools, fallback FROM chats WHERE id = ?",
                (title, now, now, chat_id))
            fork_id = int(cursor.lastrowid)
            conn.execute("UPDATE chats SET web = (SELECT web FROM chats WHERE id = ?) WHERE id = ?", (chat_id, fork_id))
            parent = None
            copies = []
            for depth, old_id in enumerate(ids, start=1):
                cursor = conn.execute(
                    f"INSERT INTO messages (chat_id, parent_id, depth, {_COPIED}) "
                    f"SELECT ?, ?, ?, {_COPIED} FROM messages WHERE id = ?",
                    (fork_id, parent, depth, old_id))
                parent = int(cursor.lastrowid)
                copies.append((old_id, parent))
            self.copy_attachment_links(conn, copies)  # the files themselves are shared, not copied
            conn.execute("UPDATE chats SET current_id = ? WHERE id = ?", (parent, fork_id))
        fork = self.get_chat(fork_id)  # type: ignore[attr-defined]
        assert fork is not None
        return fork
