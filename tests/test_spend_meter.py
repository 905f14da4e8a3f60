"""The spend meter (core/spend_meter.py) in plain asyncio: baselines, groups of overlapping
requests, late booking, a server without the endpoint. The account is a stand-in whose figure
moves when the test says; what counts is what the meter reports."""

from __future__ import annotations

import asyncio

import pytest

from apertis_tui.core.spend import TokenUsage
from apertis_tui.core.spend_meter import GroupCost, SpendMeter
from apertis_tui.core.types import ApiError

FAST = (0.01, 0.02, 0.02, 0.03)


class Account:
    """What ``/token/usage`` says; ``booked`` moves ``used`` when a reading comes."""

    def __init__(self, used: float = 5.0, total: float = 20.0) -> None:
        self.used = used
        self.total = total
        self.asked = 0
        self.later: list[float] = []  # costs that land at the next readings, one per reading
        self.missing = False
        self.failing = False

    async def fetch(self) -> TokenUsage | None:
        self.asked += 1
        await asyncio.sleep(0)
        if self.missing:
            return None
        if self.failing:
            raise ApiError("connect", "Could not reach the server.")
        if self.later:
            self.used += self.later.pop(0)
        return TokenUsage(used_usd=round(self.used, 6), remain_usd=round(self.total - self.used, 6), total_usd=self.total)


def meter_for(account: Account, **kwargs) -> tuple[SpendMeter, list[GroupCost], list[TokenUsage]]:
    costs: list[GroupCost] = []
    readings: list[TokenUsage] = []
    meter = SpendMeter(account.fetch, on_cost=costs.append, on_usage=readings.append, delays=FAST, **kwargs)
    return meter, costs, readings


async def settled(meter: SpendMeter) -> None:
    for _ in range(500):
        if meter.idle:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the meter did not settle")


async def test_one_reply_costs_the_change_in_used_across_it():
    account = Account(used=5.0)
    meter, costs, readings = meter_for(account)
    await meter.refresh()
    assert meter.baseline == 5.0 and readings[-1].remain_usd == 15.0
    request = meter.start(11, "gpt-4o")
    account.used += 0.0123  # booked when the answer ended
    meter.end(request, answered=True)
    await settled(meter)
    assert costs == [GroupCost((11,), 0.0123)]
    assert costs[0].group_id is None  # one reply alone: its own cost
    assert meter.baseline == pytest.approx(5.0123)
    assert account.asked == 3  # the periodic reading, then two that agree


async def test_a_cost_booked_late_is_asked_for_again_and_found():
    account = Account(used=5.0)
    meter, costs, _ = meter_for(account)
    await meter.refresh()
    request = meter.start(3, "gpt-4o")
    meter.end(request, answered=True)
    account.later = [0.0, 0.0, 0.004]  # nothing at the first two readings, then it lands
    await settled(meter)
    assert costs == [GroupCost((3,), 0.004)]
    assert account.asked == 1 + 4


async def test_overlapping_replies_are_one_group_never_split():
    account = Account(used=1.0)
    meter, costs, _ = meter_for(account)
    await meter.refresh()
    first = meter.start(20, "gpt-4o")
    second = meter.start(21, "claude-sonnet-4")
    meter.end(first, answered=True)
    assert not meter.idle  # the second is still in flight: no reading yet
    asked = account.asked
    await asyncio.sleep(0.05)
    assert account.asked == asked  # nothing is read while a request is in flight
    account.used += 0.03
    meter.end(second, answered=True)
    await settled(meter)
    assert costs == [GroupCost((20, 21), 0.03)]
    assert costs[0].group_id == 20


async def test_a_request_that_starts_while_the_last_is_settling_joins_its_group():
    account = Account(used=1.0)
    meter, costs, _ = meter_for(account)
    meter.delays = (0.05, 0.05, 0.05, 0.05)
    await meter.refresh()
    first = meter.start(1, "gpt-4o")
    account.used += 0.01
    meter.end(first, answered=True)
    await asyncio.sleep(0.07)  # one reading taken, not yet confirmed
    second = meter.start(2, "gpt-4o")  # a tool round's next answer, say
    account.used += 0.02
    meter.end(second, answered=True)
    await settled(meter)
    assert costs == [GroupCost((1, 2), 0.03)]


async def test_without_a_baseline_nothing_is_measured_but_the_next_reply_is():
    account = Account(used=2.0)
    meter, costs, _ = meter_for(account)
    request = meter.start(1, "gpt-4o")  # sent before any reading (a prompt on the command line)
    account.used += 0.01
    meter.end(request, answered=True)
    await settled(meter)
    assert costs == []
    assert meter.baseline == pytest.approx(2.01)  # the readings after it are the next baseline
    request = meter.start(2, "gpt-4o")
    account.used += 0.02
    meter.end(request, answered=True)
    await settled(meter)
    assert costs == [GroupCost((2,), 0.02)]


async def test_a_free_model_costs_zero_a_paid_answer_that_booked_nothing_shows_nothing():
    account = Account(used=2.0)
    meter, costs, _ = meter_for(account)
    await meter.refresh()
    request = meter.start(1, "deepseek-chat:free")
    meter.end(request, answered=True)
    await settled(meter)
    assert costs == [GroupCost((1,), 0.0)]
    assert account.asked == 1 + len(FAST)  # every try before believing a zero
    request = meter.start(2, "gpt-4o")
    meter.end(request, answered=True)  # nothing booked in all the time waited
    await settled(meter)
    assert costs == [GroupCost((1,), 0.0)]  # no figure rather than a wrong "free"
    assert meter.baseline is None  # the cost may still land: not a baseline
    # A failed request that got nothing back is believed free, though.
    await meter.refresh()
    request = meter.start(3, "gpt-4o")
    meter.end(request, answered=False)
    await settled(meter)
    assert costs[-1] == GroupCost((3,), 0.0)


async def test_readings_that_keep_moving_or_fail_give_no_figure():
    account = Account(used=2.0)
    meter, costs, _ = meter_for(account)
    await meter.refresh()
    request = meter.start(1, "gpt-4o")
    meter.end(request, answered=True)
    account.later = [0.01, 0.01, 0.01, 0.01]
    await settled(meter)
    assert costs == []
    await meter.refresh()
    request = meter.start(2, "gpt-4o")
    account.failing = True
    meter.end(request, answered=True)
    await settled(meter)
    assert costs == []


async def test_a_server_without_the_endpoint_is_asked_once():
    account = Account()
    account.missing = True
    meter, costs, readings = meter_for(account, every=0.01)
    await asyncio.wait_for(meter.run(), 2)  # returns: nothing more to do
    assert meter.available is False and account.asked == 1
    request = meter.start(1, "gpt-4o")
    meter.end(request, answered=True)
    await asyncio.sleep(0.1)
    assert account.asked == 1 and costs == [] and readings == []
    assert await meter.refresh() is None and account.asked == 1


async def test_a_reading_answered_while_a_request_started_is_not_a_baseline():
    account = Account(used=3.0)
    meter, _, _ = meter_for(account)
    await meter.refresh()
    assert meter.baseline == 3.0

    async def slow_fetch() -> TokenUsage | None:
        meter.start(9, "gpt-4o")  # a request goes out while the reading is on its way
        account.used += 0.5
        return await account.fetch()

    meter._fetch = slow_fetch
    await meter.refresh()
    assert meter.usage.used_usd == 3.5  # shown
    assert meter.baseline == 3.0  # but not taken as the start of the next group


async def test_the_periodic_reading_waits_for_a_group_and_for_its_time():
    account = Account()
    meter, _, readings = meter_for(account, every=0.05)
    runner = asyncio.create_task(meter.run())
    await asyncio.sleep(0.02)
    assert account.asked == 1
    request = meter.start(1, "gpt-4o")
    await asyncio.sleep(0.15)
    assert account.asked == 1  # nothing read while a request is in flight
    meter.end(request, answered=True)
    await settled(meter)
    asked = account.asked
    await asyncio.sleep(0.12)
    assert asked < account.asked <= asked + 3  # about one every 0.05 s again
    meter.close()
    runner.cancel()


async def test_close_drops_a_group_settling():
    account = Account()
    meter, costs, _ = meter_for(account)
    await meter.refresh()
    request = meter.start(1, "gpt-4o")
    account.used += 1
    meter.end(request, answered=True)
    meter.close()
    await asyncio.sleep(0.1)
    assert costs == [] and meter.idle
