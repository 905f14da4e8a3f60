"""Measured costs in the history: stored with their replies, summed per chat and over time.

A cost is stored on every reply it is for (``cost_group`` names the group when there are
several), so a reply read alone still says what it cost. Sums count each group once, whole
(``core.spend.spent``): a chat that shared a group with another chat counts all of it, and says
its sum is an upper bound; the totals over the whole history count it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .opening import HistoryFile

if TYPE_CHECKING:
    from ..spend import CostRow, Spent

# (core.spend is imported when a sum is first asked for: the history opens at start-up, and
# its classes cost the first frame time to create.)

_COST_COLUMNS = "id, cost_usd, cost_group, cost_replies"


def _rows_of(rows: list[tuple]) -> list["CostRow"]:
    from ..spend import CostRow

    return [CostRow(*r) for r in rows]


class Spending(HistoryFile):
    """The cost methods of ``History``."""

    def set_cost(self, message_ids: Sequence[int], cost_usd: float, group_id: int | None) -> None:
        """Store a measured cost on the replies it is for (``group_id``: None for one reply alone).
        Replies gone meanwhile (their chat deleted) are skipped."""
        ids = list(dict.fromkeys(message_ids))
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        with self._write() as conn:
            conn.execute(f"UPDATE messages SET cost_usd = ?, cost_group = ?, cost_replies = ? WHERE id IN ({marks})",
                         [cost_usd, group_id, len(ids), *ids])

    def chat_spending(self, chat_ids: Sequence[int]) -> dict[int, Spent]:
        """What each of the chats cost (chats without a measured cost are left out)."""
        ids = list(dict.fromkeys(chat_ids))
        rows: dict[int, list[tuple]] = {}
        for start in range(0, len(ids), 500):  # well under SQLite's limit on bound parameters
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self._rows(f"SELECT chat_id, {_COST_COLUMNS} FROM messages "
                                f"WHERE chat_id IN ({marks}) AND cost_usd IS NOT NULL", chunk, named=False):
                rows.setdefault(r[0], []).append(r[1:])
        if not rows:
            return {}
        from ..spend import spent

        return {chat_id: total for chat_id, costs in rows.items() if (total := spent(_rows_of(costs))) is not None}

    def spending_since(self, since_iso: str) -> Spent | None:
        """What the replies finished at ``since_iso`` or later cost, each group once (None: none
        with a cost). A group counts, whole, when any of its replies finished in the window."""
        from ..spend import spent

        rows = self._rows(f"SELECT {_COST_COLUMNS} FROM messages WHERE cost_usd IS NOT NULL AND finished_at >= ?",
                          (since_iso,), named=False)
        total = spent(_rows_of(rows))
        # Over the whole history a group is not "shared" for missing replies of other chats:
        # only for replies outside the window or deleted, which does not make the sum wrong.
        return total._replace(shared=False) if total is not None else None
