"""The app's side of spend: the meter (``core.spend_meter``) told when each chat request starts
and ends, the balance in every chat's status line, measured costs stored with their replies and
shown on their labels.

The meter does the bookkeeping; this module only reports and shows. Nothing here delays the
first frame (the first reading is a second after it) or a reply (readings start after the reply
is saved, in tasks of their own).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from ..core.events import StreamError
from ..core.spend import TokenUsage, age_text, with_balance
from ..core.spend_meter import GroupCost, Request, SpendMeter
from ..core.store import StoreError
from .startup import FIRST_BALANCE_READING

if TYPE_CHECKING:
    from ..core.reply import ReplyAccumulator
    from .app import ApertisApp
    from .widgets.chat_pane import ChatPane

log = logging.getLogger(__name__)


class SpendNews:
    """What ``ApertisApp.spend_changed`` announces: a new reading (``usage``), a measured cost
    (``cost``), or both None when the figures start over (another key or server)."""

    __slots__ = ("usage", "cost")

    def __init__(self, usage: TokenUsage | None = None, cost: GroupCost | None = None) -> None:
        self.usage = usage
        self.cost = cost


class Spend:
    def __init__(self, app: "ApertisApp") -> None:
        self.app = app
        self.meter = self._new_meter()
        self._runner: asyncio.Task[None] | None = None

    def _new_meter(self) -> SpendMeter:
        return SpendMeter(self._fetch, on_usage=self._read, on_cost=self._measured)

    async def _fetch(self) -> TokenUsage | None:
        return await self.app.client.token_usage()  # the client of the moment: it follows the settings

    @property
    def usage(self) -> TokenUsage | None:
        """The last reading, or None (not read yet, or the server has no usage endpoint)."""
        return self.meter.usage if self.meter.available else None

    # -- life ------------------------------------------------------------------------------------

    def begin(self, first_delay: float = 0.0) -> None:
        """Start the periodic readings (once). A task, not a worker: it never ends by itself,
        and ``App.workers.wait_for_complete`` is for work that does."""
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(self.meter.run(first_delay))

    def close(self) -> None:
        self.meter.close()
        if self._runner is not None:
            self._runner.cancel()
            self._runner = None

    def reset(self) -> None:
        """Another key or server: the figures start over (a request in flight is not measured)."""
        self.close()
        self.meter = self._new_meter()
        self.app.spend_changed.publish(SpendNews())
        self.begin()

    # -- what chat panes report ------------------------------------------------------------------

    def started(self, message_id: int, model: str) -> Request:
        """A chat request for the reply ``message_id`` is about to go out."""
        self.begin(FIRST_BALANCE_READING)  # (a prompt sent in the first second)
        return self.meter.start(message_id, model)

    def ended(self, request: Request, reply: "ReplyAccumulator") -> None:
        """The request is over. A quota error gets the last balance read, before it is saved;
        the meter's readings start once the reply is saved (they wait for the next turn of the
        event loop, and the saving does not)."""
        error, usage = reply.error, self.usage
        if error is not None and error.kind == "quota" and usage is not None and self.meter.read_at is not None:
            reply.end = StreamError(with_balance(error, usage, age_text(time.monotonic() - self.meter.read_at)))
        answered = bool(reply.content or reply.reasoning or reply.tool_calls)
        self.meter.end(request, answered=answered)

    # -- what the meter reports ------------------------------------------------------------------

    def _read(self, usage: TokenUsage) -> None:
        self.app.spend_changed.publish(SpendNews(usage=usage))

    def _measured(self, cost: GroupCost) -> None:
        try:
            self.app.store.set_cost(cost.message_ids, cost.cost_usd, cost.group_id)
        except StoreError as error:
            log.warning("a measured cost was not saved: %s", error)
        self.app.spend_changed.publish(SpendNews(cost=cost))


def show_spend(pane: "ChatPane", news: SpendNews | None) -> None:
    """Bring a chat pane up to date: the balance in its status line, a measured cost on the
    replies it shows (in a comparison, under its columns)."""
    app = pane.tui
    spend = app.spend_if_started
    pane.status.show_balance(spend.usage if spend is not None else None, app.settings.warn_below_usd)
    cost = news.cost if news is not None else None
    if cost is None:
        return
    ids = set(cost.message_ids)
    fields = {"cost_usd": cost.cost_usd, "cost_group": cost.group_id, "cost_replies": len(cost.message_ids)}
    for view in pane.messages.views:
        if view.message.id in ids:
            view.set_cost(replace(view.message, **fields))
    comparison = pane.comparison_view
    if comparison is not None:
        for cells in comparison.rows:
            touched = False
            for cell in cells:
                if cell.view is not None and cell.view.message.id in ids:
                    cell.view.message = replace(cell.view.message, **fields)
                    touched = True
            if touched and cells:
                cells[0].row.costs_changed()
