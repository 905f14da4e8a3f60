"""Money: what the key has left (``GET /token/usage``), what replies cost, how both are written.

Apertis answers ``GET {base}/token/usage`` with ``{"data": {"token_name", "total_quota_usd",
"remain_quota_usd", "used_quota_usd", "total_tokens", "total_requests"}}``. A body of another
shape means the server has no such endpoint (an OpenAI-compatible proxy, a gateway's HTML page):
:func:`read_token_usage` returns None for it. What a reply cost is measured, not estimated: the
change in ``used_quota_usd`` across it (``core.spend_meter``). No Textual here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from .text import clean, one_line
from .types import ApiError

#: Costs are kept to the micro-dollar: the service counts in smaller units than a cent, and two
#: readings subtracted as floats leave noise in the last digits.
PRECISION = 6


@dataclass(frozen=True)
class TokenUsage:
    """The key's figures, as the service gave them (USD; tokens and requests since it was made)."""

    used_usd: float
    remain_usd: float
    total_usd: float | None = None
    total_tokens: int | None = None
    total_requests: int | None = None
    token_name: str = ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):  # some gateways send numbers as strings
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _count(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number >= 0 else None


def read_token_usage(payload: Any) -> TokenUsage | None:
    """The figures in a ``/token/usage`` body, or None when it is not that shape (the used and
    remaining amounts, as numbers, under ``data``)."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        return None
    used, remain = _number(data.get("used_quota_usd")), _number(data.get("remain_quota_usd"))
    if used is None or remain is None:
        return None
    name = data.get("token_name")
    return TokenUsage(
        used_usd=used,
        remain_usd=remain,
        total_usd=_number(data.get("total_quota_usd")),
        total_tokens=_count(data.get("total_tokens")),
        total_requests=_count(data.get("total_requests")),
        token_name=one_line(clean(name), 80) if isinstance(name, str) else "",
    )


def is_free_model(model: str) -> bool:
    """Apertis serves ``:free`` models at no charge."""
    return model.strip().lower().endswith(":free")


# ---------------------------------------------------------------------------
# Writing money


def usd(amount: float) -> str:
    """A balance or a total: cents, with thousands separated (``$1,234.50``)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def cost_text(amount: float) -> str:
    """What a reply cost: small amounts need more than cents (``$0.0012``); nothing is ``$0``."""
    if amount == 0:
        return "$0"
    if amount < 0.0001:
        return "<$0.0001"
    if amount < 1:
        return f"${amount:.4f}"
    return usd(amount)


def reply_cost_text(cost_usd: float | None, replies: int | None) -> str:
    """A reply's cost as its label says it: its own, or its group's with how many it covers."""
    if cost_usd is None:
        return ""
    if replies is not None and replies > 1:
        return f"{cost_text(cost_usd)} for {replies} replies"
    return cost_text(cost_usd)


def balance_text(usage: TokenUsage) -> str:
    return f"{usd(usage.remain_usd)} left"


def is_low(usage: TokenUsage | None, warn_below_usd: float | None) -> bool:
    return usage is not None and warn_below_usd is not None and usage.remain_usd < warn_below_usd


def with_balance(error: ApiError, usage: TokenUsage | None, age: str) -> ApiError:
    """A quota error (402 and kin) that also says what the last reading left, when there was
    one; ``age`` says when ("2 min ago")."""
    if error.kind != "quota" or usage is None:
        return error
    return ApiError(error.kind, f"{error.message} The last check ({age}) said {usd(usage.remain_usd)} was left.",
                    error.hint, status=error.status, retry_after=error.retry_after, detail=error.detail)


def age_text(seconds: float) -> str:
    if seconds < 60:
        return "just now" if seconds < 5 else f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.0f} h ago"


# ---------------------------------------------------------------------------
# Sums of measured costs


class CostRow(NamedTuple):
    """One reply's stored cost: ``cost_group`` None means ``cost_usd`` is its own; otherwise
    it is the whole group's (``cost_replies`` replies, overlapping requests), stored on each."""

    message_id: int
    cost_usd: float
    cost_group: int | None
    cost_replies: int | None


class Spent(NamedTuple):
    """A sum of measured costs: each group counted once, whole. ``shared``: a group in it also
    paid for replies outside these rows (another chat's, or deleted ones), so ``total`` is at
    most what these replies cost. ``replies``: how many replies of these rows had a cost."""

    total: float
    replies: int
    shared: bool

    def text(self) -> str:
        return ("≤ " if self.shared else "") + cost_text(self.total)


def spent(rows: Iterable[CostRow]) -> Spent | None:
    """The sum of ``rows`` (None when none has a cost). A group's cost is never split: it
    counts once however many of its replies are in the rows, and marks the sum as shared when
    some of its replies are not."""
    groups: dict[int, list[CostRow]] = {}
    for row in rows:
        key = row.cost_group if row.cost_group is not None else -row.message_id
        groups.setdefault(key, []).append(row)
    if not groups:
        return None
    total, shared, replies = 0.0, False, 0
    for members in groups.values():
        first = members[0]
        total += first.cost_usd
        replies += len(members)
        shared = shared or (first.cost_group is not None and len(members) < (first.cost_replies or 1))
    return Spent(round(total, PRECISION), replies, shared)


def answers_cost_text(costed: list[CostRow]) -> str:
    """What answers shown together (a comparison's columns) cost, as the line under them says
    it: one figure, with the other replies it also paid for ("" when none has a cost)."""
    total = spent(costed)
    if total is None:
        return ""
    groups = {row.cost_group if row.cost_group is not None else -row.message_id: row.cost_replies or 1
              for row in costed}
    others = sum(groups.values()) - len(costed)
    these = "this answer" if len(costed) == 1 else f"these {len(costed)} answers"
    if others > 0:
        return f"{these} and {others} other {'reply' if others == 1 else 'replies'} cost {cost_text(total.total)} together"
    return f"{these} cost {cost_text(total.total)}" + (" together" if len(costed) > 1 else "")
