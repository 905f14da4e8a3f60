"""What replies cost, measured: the change in the key's ``used_quota_usd`` across them.

The app says when each chat request starts and ends; this module reads ``/token/usage`` (through
the ``fetch`` it is given) and works out the rest. Plain asyncio, no Textual.

- **Groups.** Requests that overlap are one group: two chats streaming at once, the columns of a
  comparison. So is a request that starts while the group before it is still settling (a tool
  round's next answer, a quick next prompt): the service books a cost when it likes, so what
  moved the figure cannot be told apart. A group's cost is reported whole, with its replies;
  it is never split among them.
- **Baseline.** A request cannot wait for a usage reading before it is sent, so a group starts
  from the last *clean* reading: one asked and answered while no request was in flight and no
  group settling (the periodic reading, or the last reading that settled the group before). No
  clean reading (the first reply of a session, or after a group that did not settle): the
  group's cost is not measured; its readings still give the next baseline.
- **Settling.** After a group's last request ends (and the reply is saved and painted), the
  usage is read after each of ``delays``. The cost is known when two readings in a row
  agree and differ from the baseline. Readings that never leave the baseline mean a cost of 0,
  but only when every reply was of a ``:free`` model or got nothing back: a paid answer that
  the service books later than we waited must not show as free. Anything else (readings that
  keep moving, a figure below the baseline, no reading) reports nothing: no figure rather than
  a wrong one.
- **Availability.** A server without the endpoint (``fetch`` returns None: a 404, or a body of
  another shape) is not asked again by this meter.

Not measured, and cannot be: what other programs spend with the same key meanwhile; it lands in
the group whose readings saw it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .spend import PRECISION, TokenUsage, is_free_model
from .types import ApiError

log = logging.getLogger(__name__)

#: Seconds to wait before each of the readings that settle a group. The first waits a moment
#: too: the answer's end is painted first, and the service has had time to book it.
SETTLE_DELAYS = (0.5, 2.0, 3.0, 5.0)
#: Seconds between readings when nothing else asks (the balance shown stays this fresh).
REFRESH_EVERY = 60.0

Fetch = Callable[[], Awaitable["TokenUsage | None"]]  # None: no usage endpoint; raises ApiError


class Request:
    """One chat request of the app, from its start to its end."""

    __slots__ = ("message_id", "model", "group", "answered", "ended")

    def __init__(self, message_id: int, model: str, group: "Group") -> None:
        self.message_id = message_id
        self.model = model
        self.group = group
        self.answered = False  # something came back (text, reasoning, tool calls)
        self.ended = False


class Group:
    """Requests whose costs cannot be told apart, and the reading they started from."""

    __slots__ = ("members", "baseline", "in_flight")

    def __init__(self, baseline: float | None) -> None:
        self.members: list[Request] = []
        self.baseline = baseline
        self.in_flight = 0

    @property
    def may_be_free(self) -> bool:
        """A cost of 0 is believable: no reply was of a paid model and got something back."""
        return all(is_free_model(m.model) or not m.answered for m in self.members)


@dataclass(frozen=True)
class GroupCost:
    """A measured cost: ``cost_usd`` for the replies ``message_ids`` together."""

    message_ids: tuple[int, ...]
    cost_usd: float

    @property
    def group_id(self) -> int | None:
        """None for one reply alone; else the first reply's id, which names the group."""
        return self.message_ids[0] if len(self.message_ids) > 1 else None


class SpendMeter:
    def __init__(
        self,
        fetch: Fetch,
        *,
        on_usage: Callable[[TokenUsage], None] | None = None,
        on_cost: Callable[[GroupCost], None] | None = None,
        delays: tuple[float, ...] | None = None,
        every: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self.on_usage = on_usage
        self.on_cost = on_cost
        self.delays = SETTLE_DELAYS if delays is None else delays  # (read now: tests shorten them)
        self.every = REFRESH_EVERY if every is None else every
        self._clock = clock
        self.usage: TokenUsage | None = None  # the last reading
        self.read_at: float | None = None  # when it was taken (clock)
        self.available: bool | None = None  # None: not known yet; False: no endpoint, never asked again
        self._asked_at: float | None = None  # the last attempt, answered or not
        self._baseline: float | None = None
        self._group: Group | None = None  # the open group: in flight or settling
        self._settler: asyncio.Task[None] | None = None
        self._starts = 0  # requests started, ever: tells whether one started during a reading
        self._closed = False

    @property
    def idle(self) -> bool:
        """No request in flight, no group settling."""
        return self._group is None

    @property
    def baseline(self) -> float | None:
        return self._baseline

    # -- what the app reports ----------------------------------------------------------------

    def start(self, message_id: int, model: str) -> Request:
        """A chat request (for the reply ``message_id``) is about to be sent."""
        self._starts += 1
        group = self._group
        if group is None:
            group = self._group = Group(self._baseline)
        elif self._settler is not None:  # still settling: what it would read now includes this one
            self._settler.cancel()
            self._settler = None
        request = Request(message_id, model, group)
        group.members.append(request)
        group.in_flight += 1
        return request

    def end(self, request: Request, *, answered: bool) -> None:
        """The request is over (answered, failed or stopped). The last of its group starts the
        settling readings, in a task of their own: nothing here waits."""
        group = request.group
        if request.ended or group is not self._group:  # (ended twice, or the meter was reset)
            return
        request.ended, request.answered = True, answered
        group.in_flight -= 1
        if group.in_flight > 0:
            return
        if self.available is False or self._closed:
            self._group = None
            return
        self._settler = asyncio.get_running_loop().create_task(self._settle(group))

    # -- readings -----------------------------------------------------------------------------

    async def _read(self) -> TokenUsage | None:
        """One reading; None when it failed (said in the log) or the endpoint is missing."""
        self._asked_at = self._clock()
        try:
            usage = await self._fetch()
        except ApiError as error:
            log.info("usage not read: %s", error.sentence)
            return None
        except Exception:  # a bug of ours must not end the meter's task silently
            log.exception("usage not read")
            return None
        if usage is None:
            if self.available is not False:
                log.info("the server has no usage endpoint: not asked again")
            self.available = False
            return None
        self.available = True
        self.usage, self.read_at = usage, self._clock()
        if self.on_usage is not None:
            self.on_usage(usage)
        return usage

    async def refresh(self) -> TokenUsage | None:
        """A reading outside any group. It becomes the baseline when nothing was in flight or
        settling from its asking to its answer."""
        if self.available is False or self._closed:
            return None
        starts = self._starts
        usage = await self._read()
        if usage is not None and self._group is None and self._starts == starts:
            self._baseline = usage.used_usd
        return usage

    async def run(self, first_delay: float = 0.0) -> None:
        """Keep the balance fresh: a reading after ``first_delay``, then whenever ``every``
        seconds passed since the last one and no group is open (a group reads for itself).
        Ends when the server proves to have no usage endpoint, or the meter is closed."""
        await asyncio.sleep(first_delay)
        while self.available is not False and not self._closed:
            now = self._clock()
            due = now if self._asked_at is None else self._asked_at + self.every
            if now >= due and self._group is None:
                await self.refresh()
                continue
            await asyncio.sleep(max(due - now, min(1.0, self.every)))

    async def _settle(self, group: Group) -> None:
        readings: list[float] = []
        stable: float | None = None
        for wait in self.delays:
            await asyncio.sleep(wait)
            usage = await self._read()
            if self.available is False:
                break
            if usage is None:
                continue
            if readings and readings[-1] == usage.used_usd and usage.used_usd != group.baseline:
                stable = usage.used_usd
                break
            readings.append(usage.used_usd)
        # No await from here on: a request that starts now opens a new group.
        self._settler, self._group = None, None
        cost = self._cost(group, readings, stable)
        if cost is not None and self.on_cost is not None:
            try:
                self.on_cost(GroupCost(tuple(m.message_id for m in group.members), cost))
            except Exception:
                log.exception("a measured cost was not taken")

    def _cost(self, group: Group, readings: list[float], stable: float | None) -> float | None:
        """The group's cost (None: not known), and the baseline for the next group."""
        base = group.baseline
        if stable is not None:
            self._baseline = stable
            if base is None:
                return None
            delta = round(stable - base, PRECISION)
            return delta if delta > 0 else None  # (below the baseline: a refund, a reset key)
        if base is not None and len(readings) >= 2 and all(r == base for r in readings):
            # Nothing was booked in all the time waited.
            if group.may_be_free:
                self._baseline = base
                return 0.0
        self._baseline = None  # a cost may still land: the next clean reading is the next baseline
        return None

    def close(self) -> None:
        """Stop: settling readings are dropped, nothing more is asked or reported."""
        self._closed = True
        if self._settler is not None:
            self._settler.cancel()
            self._settler = None
        self._group = None
