"""Full-text search over the history: what a user types made safe for FTS5, and the search
over messages, the sources of web searches and chat titles (the FTS5 tables and their triggers
are in migrations.py)."""

from __future__ import annotations

import re
import unicodedata

from ..types import HIGHLIGHT_END, HIGHLIGHT_START, SearchHit
from .opening import HistoryFile, StoreError

_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits: what unicode61 calls a token


def fts_query(text: str) -> str:
    """Turn anything a user types into a safe FTS5 query: every word quoted, all ANDed.

    The words are cut out of the text the way the tokenizer cuts it (letters and
    digits), so no FTS5 syntax survives; the quotes also neutralise AND/OR/NOT/NEAR.
    Words of two or more characters match as prefixes ("sqlite" finds "sqlite3").
    A single character matches only itself: as a prefix it would match nearly
    everything, and merging that many terms is what makes FTS5 slow ("c" finds C).
    Returns "" when nothing searchable is left.
    """
    words = _WORD.findall(unicodedata.normalize("NFC", text))
    return " ".join(f'"{word}"*' if len(word) > 1 else f'"{word}"' for word in words)


class Search(HistoryFile):
    """The search method of ``History``."""

    def search(self, query: str, *, limit: int = 50) -> list[SearchHit]:
        """Messages, the sources of web searches and chat titles containing every word (as a
        prefix), newest first; a reply found by its text is not listed again for its sources.

        "Newest" is the time of the matching text: a message's created_at, a title's
        chat updated_at. Each FTS table is walked by rowid descending, which FTS5 does
        without sorting, so the cost does not grow with the number of hits.
        Never raises for any query text.
        """
        match = fts_query(query)
        if not match or limit <= 0:
            return []
        try:
            messages = self._search_messages(match, limit)
            found = {hit.message_id for _, hit in messages}
            sources = [pair for pair in self._search_sources(match, limit) if pair[1].message_id not in found]
            hits = messages + sources + self._search_titles(match, limit)
        except StoreError:
            return []  # a query FTS5 still rejects, or a damaged index: no hits, not a crash
        hits.sort(key=lambda pair: pair[0], reverse=True)
        return [hit for _, hit in hits[:limit]]

    def _search_messages(self, match: str, limit: int) -> list[tuple[str, SearchHit]]:
        return self._message_hits("messages_fts", match, limit)

    def _search_sources(self, match: str, limit: int) -> list[tuple[str, SearchHit]]:
        """Replies whose web search sources match (by title or address): the hit is the reply,
        its snippet the matching source, marked as one."""
        return self._message_hits("sources_fts", match, limit, label="source: ")

    def _message_hits(self, fts: str, match: str, limit: int, label: str = "") -> list[tuple[str, SearchHit]]:
        """Hits in ``fts``, a full-text table whose rowid is a message's id (one of ours, never
        the user's text)."""
        rows = self._rows(
            f"""
            SELECT f.id, f.snip, m.chat_id, m.created_at, c.title, c.updated_at
            FROM (
                SELECT rowid AS id, snippet({fts}, 0, ?, ?, '…', 12) AS snip
                FROM {fts} WHERE {fts} MATCH ? ORDER BY rowid DESC LIMIT ?
            ) AS f
            JOIN messages AS m ON m.id = f.id
            JOIN chats AS c ON c.id = m.chat_id
            """,
            (HIGHLIGHT_START, HIGHLIGHT_END, match, limit),
        )
        return [
            (r["created_at"], SearchHit(r["chat_id"], r["title"], r["id"], label + r["snip"], r["updated_at"]))
            for r in rows
        ]

    def _search_titles(self, match: str, limit: int) -> list[tuple[str, SearchHit]]:
        rows = self._rows(
            """
            SELECT f.id, f.snip, c.title, c.updated_at
            FROM (
                SELECT rowid AS id, snippet(chats_fts, 0, ?, ?, '…', 12) AS snip
                FROM chats_fts WHERE chats_fts MATCH ? ORDER BY rowid DESC LIMIT ?
            ) AS f
            JOIN chats AS c ON c.id = f.id
            """,
            (HIGHLIGHT_START, HIGHLIGHT_END, match, limit),
        )
        return [
            (r["updated_at"], SearchHit(r["id"], r["title"], None, r["snip"], r["updated_at"])) for r in rows
        ]
