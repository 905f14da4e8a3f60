"""Attachments in the history: each file's bytes once, by content hash (``attachments``), and
which messages carry them in which order (``message_attachments``; migration m013).

A message's attachments are linked in the transaction that inserts the message
(``link_attachments``, called from ``Messages._insert_message``), so a user message is never
stored without them. Readers get each message's ``AttachmentInfo`` list (no bytes); the bytes
are read when a request or an export needs them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import replace

from ..text import one_line
from ..types import AttachmentInfo, Message
from .opening import HistoryFile, now_iso

_INFO = ("SELECT ma.message_id, ma.sha256, a.kind, a.mime, a.size, ma.name, a.width, a.height, ma.note "
         "FROM message_attachments ma JOIN attachments a ON a.sha256 = ma.sha256")


def link_attachments(conn: sqlite3.Connection, message_id: int, attachments: Sequence[AttachmentInfo]) -> None:
    """Store ``attachments`` for ``message_id`` inside the caller's transaction. Bytes are
    written only for a hash not stored yet (an ``Attachment`` carries them; an
    ``AttachmentInfo`` alone names one that is stored already)."""
    for position, info in enumerate(attachments):
        data = getattr(info, "data", None)
        if data is not None:
            conn.execute(
                "INSERT OR IGNORE INTO attachments (sha256, kind, mime, size, width, height, data, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (info.sha256, info.kind, info.mime, info.size, info.width, info.height, data, now_iso()))
        conn.execute("INSERT INTO message_attachments (message_id, position, sha256, name, note) VALUES (?, ?, ?, ?, ?)",
                     (message_id, position, info.sha256, one_line(info.name, 200), info.note))


def _info(row: sqlite3.Row | tuple) -> AttachmentInfo:
    _, sha256, kind, mime, size, name, width, height, note = row
    return AttachmentInfo(sha256, kind, mime, size, one_line(name, 200), width, height, one_line(note or "", 200))


class Attachments(HistoryFile):
    """The attachment methods of ``History``."""

    def any_attachments(self) -> bool:
        """Whether the history holds any attachment (one index probe: readers skip the rest)."""
        return bool(self._rows("SELECT 1 FROM message_attachments LIMIT 1", named=False))

    def attachments_of(self, message_ids: Iterable[int]) -> dict[int, tuple[AttachmentInfo, ...]]:
        """The attachments of each given message that has some, in order."""
        ids = list(dict.fromkeys(message_ids))
        out: dict[int, list[AttachmentInfo]] = {}
        if not ids or not self.any_attachments():
            return {}
        for start in range(0, len(ids), 500):
            chunk = ids[start: start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._rows(f"{_INFO} WHERE ma.message_id IN ({marks}) ORDER BY ma.message_id, ma.position",
                                  chunk, named=False):
                out.setdefault(row[0], []).append(_info(row))
        return {key: tuple(value) for key, value in out.items()}

    def with_attachments(self, messages: list[Message]) -> list[Message]:
        """``messages`` with their attachments filled in (user messages carry them)."""
        found = self.attachments_of(m.id for m in messages if m.role == "user")
        if not found:
            return messages
        return [replace(m, attachments=found[m.id]) if m.id in found else m for m in messages]

    def attachment_data(self, sha256s: Iterable[str]) -> dict[str, bytes]:
        """The stored bytes of each given hash (missing ones left out)."""
        hashes = list(dict.fromkeys(sha256s))
        out: dict[str, bytes] = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start: start + 500]
            marks = ",".join("?" * len(chunk))
            for sha256, data in self._rows(f"SELECT sha256, data FROM attachments WHERE sha256 IN ({marks})", chunk,
                                           named=False):
                out[sha256] = bytes(data)
        return out

    def stored_attachments(self) -> int:
        """How many distinct files the history holds."""
        return self._rows("SELECT count(*) FROM attachments", named=False)[0][0]

    def copy_attachment_links(self, conn: sqlite3.Connection, pairs: Iterable[tuple[int, int]]) -> None:
        """In the caller's transaction: message ``new`` gets the attachments of ``old``, for
        each (old, new) pair (a fork copies messages)."""
        conn.executemany(
            "INSERT INTO message_attachments (message_id, position, sha256, name, note) "
            "SELECT ?, position, sha256, name, note FROM message_attachments WHERE message_id = ?",
            [(new, old) for old, new in pairs])
