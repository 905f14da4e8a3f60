"""Spend and balance, end to end: the real app (Pilot) against the fake server on a socket,
whose GET /v1/token/usage books every answer at a fixed price (tests/fake_billing.py), and a
real history file. What each reply cost, measured; overlapping replies as one group; late
booking; a server without the endpoint; the balance and its warning; a 402 that says what was
left; the sums in the history list, the export and ``apertis-tui usage``."""

from __future__ import annotations

import json

import pytest

from apertis_tui.core.settings.file import Settings
from tests.conftest import pane, reply_done, screen_text, send, wait_for
from tests.fake_billing import price

SIZE = (130, 36)
FAST = (0.05, 0.1, 0.1, 0.15)  # the settling readings' waits, shortened


@pytest.fixture(autouse=True)
def _quick_readings(monkeypatch):
    from apertis_tui.core import spend_meter
    from apertis_tui.ui import app

    monkeypatch.setattr(spend_meter, "SETTLE_DELAYS", FAST)
    monkeypatch.setattr(app, "FIRST_BALANCE_READING", 0.05)


def billed(message) -> float:
    """What the fake server charged for a stored answer (its usage is the server's own)."""
    return price(message.model, message.prompt_tokens, message.completion_tokens)


async def balance_read(pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.spend_if_started is not None and app.spend.usage is not None,
                   what="the first balance reading")


async def settled(pilot) -> None:
    """The replies are over and the meter has done with them (cost found, or given up)."""
    await reply_done(pilot)
    await wait_for(pilot, lambda: pilot.app.spend.meter.idle, what="the cost settled")
    await pilot.pause()


def answers(app, chat_id: int):
    return [m for m in app.store.messages(chat_id) if m.role == "assistant"]


async def test_one_reply_shows_and_stores_what_it_cost_and_the_balance(make_app, fake_server):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=SIZE) as pilot:
        await balance_read(pilot)
        assert "$20.00 left" in screen_text(app)
        await send(pilot, "what does this cost?")
        await settled(pilot)
        [answer] = answers(app, pane(app).chat.id)
        assert answer.cost_usd == pytest.approx(billed(answer), abs=1e-6) and answer.cost_usd > 0
        assert answer.cost_group is None and answer.cost_replies == 1
        label = pane(app).messages.views[-1]
        shown = f"${answer.cost_usd:.4f}"
        await wait_for(pilot, lambda: shown in screen_text(app), what="the cost on the label")
        assert "for 2 replies" not in screen_text(app)
        assert label.message.cost_usd == answer.cost_usd
        # A second reply is measured from where the first left the figure.
        await send(pilot, "and this one?")
        await settled(pilot)
        first, second = answers(app, pane(app).chat.id)
        assert second.cost_usd == pytest.approx(billed(second), abs=1e-6)
        assert fake_server.billing.used_usd == pytest.approx(first.cost_usd + second.cost_usd, abs=2e-6)
        # The balance shown followed (its reading came after the answers).
        assert app.spend.usage.remain_usd == pytest.approx(20 - fake_server.billing.used_usd, abs=1e-6)


async def test_a_free_model_costs_zero(make_app, fake_server):
    app = make_app(model="gpt-4o-mini:free")
    async with app.run_test(size=SIZE) as pilot:
        await balance_read(pilot)
        await send(pilot, "free?")
        await settled(pilot)
        [answer] = answers(app, pane(app).chat.id)
        assert answer.cost_usd == 0
        [label] = [line for line in screen_text(app).splitlines() if line.strip().startswith("gpt-4o-mini:free  ")]
        assert label.rstrip().endswith("tokens · $0")


async def test_two_chats_at_once_are_one_group_never_split(make_app, fake_server):
    app = make_app(model="test/slow")  # 20 tokens a second: still answering when the second starts
    async with app.run_test(size=SIZE) as pilot:
        await balance_read(pilot)
        await send(pilot, "slow one")
        first_pane = pane(app)
        await wait_for(pilot, lambda: first_pane.is_streaming, what="the first answer")
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: pane(app) is not first_pane, what="a second chat")
        pane(app).set_model("gpt-4o")
        await send(pilot, "quick one")
        await wait_for(pilot, lambda: not first_pane.is_streaming and not pane(app).is_streaming, timeout=20,
                       what="both answers")
        await settled(pilot)
        [slow] = answers(app, first_pane.chat.id)
        [quick] = answers(app, pane(app).chat.id)
        together = billed(slow) + billed(quick)
        for answer in (slow, quick):  # the group's cost, whole, on each; never a share of it
            assert answer.cost_usd == pytest.approx(together, abs=2e-6)
            assert answer.cost_group == slow.id and answer.cost_replies == 2
        assert f"${quick.cost_usd:.4f} for 2 replies" in screen_text(app)
        # Each chat's sum counts the group whole, marked as an upper bound (it paid for the other too).
        sums = app.store.chat_spending([first_pane.chat.id, quick.chat_id])
        assert sums[first_pane.chat.id].total == quick.cost_usd and sums[first_pane.chat.id].shared
        assert sums[quick.chat_id].text().startswith("≤ $")
        # Over the whole history it counts once.
        total = app.store.spending_since("2000-01-01T00:00:00.000Z")
        assert total.total == quick.cost_usd and total.replies == 2


async def test_a_comparison_shows_one_cost_under_its_columns_and_in_the_report(make_app, fake_server, tmp_path):
    from apertis_tui.core.store.compare_report import comparison_report

    db = tmp_path / "compared.db"
    app = make_app(model="gpt-4o", db=db)
    async with app.run_test(size=SIZE) as pilot:
        await balance_read(pilot)
        pane(app).set_comparing(["gpt-4o", "gpt-4o-mini", "test/err-500"])
        await send(pilot, "compare the cost")
        await settled(pilot)
        replies = answers(app, pane(app).chat.id)
        paid = [m for m in replies if m.status == "complete"]
        assert len(replies) == 3 and len(paid) == 2
        together = sum(billed(m) for m in paid)  # the failed column was not billed
        assert all(m.cost_usd == pytest.approx(together, abs=2e-6) and m.cost_replies == 3 for m in replies)
        line = f"these 3 answers cost ${replies[0].cost_usd:.4f} together"
        await wait_for(pilot, lambda: line in screen_text(app), what="the cost under the columns")
        report = comparison_report(app.store, pane(app).chat.id)
        assert report.count("| together |") == 3  # a shared cost is not put in any one row
        assert f"Measured cost: {line}." in report
    # After a restart the undecided comparison shows its cost again, from the history.
    app = make_app(model="gpt-4o", db=db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: line in screen_text(app), what="the cost under the columns again")


async def test_a_cost_booked_late_is_asked_for_again_and_found(make_app, fake_server):
    fake_server.billing.book_late_ms = 250  # after the first reading (50 ms) and the second (150 ms)
    app = make_app(model="gpt-4o")
    async with app.run_test(size=SIZE) as pilot:
        await balance_read(pilot)
        asked = fake_server.billing.asked
        await send(pilot, "book me late")
        await settled(pilot)
        [answer] = answers(app, pane(app).chat.id)
        assert answer.cost_usd == pytest.approx(billed(answer), abs=1e-6)
        assert fake_server.billing.asked - asked >= 4  # two readings saw nothing, two agreed on it


@pytest.mark.parametrize("mode", ["none", "wrong"])
async def test_a_server_without_the_endpoint_shows_nothing_and_is_asked_once(make_app, fake_server, mode):
    fake_server.billing.mode = mode  # 404, or a body of another shape
    app = make_app(model="gpt-4o")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: fake_server.billing.asked == 1, what="the first reading")
        for text in ("one", "two"):
            await send(pilot, text)
            await reply_done(pilot)
        await pilot.pause(sum(FAST) + 0.2)  # as long as a settling would take
        assert fake_server.billing.asked == 1
        assert app.spend.meter.available is False and app.spend.usage is None
        assert " left" not in screen_text(app) and "$" not in screen_text(app)
        assert all(m.cost_usd is None for m in answers(app, pane(app).chat.id))


async def test_the_balance_turns_to_a_warning_under_warn_below_usd(make_app, fake_server):
    from apertis_tui.ui.screens.settings import SettingsScreen

    fake_server.billing.used_usd = 19.5  # $0.50 left
    app = make_app(model="gpt-4o", settings=Settings(warn_below_usd=1.0))
    async with app.run_test(size=SIZE) as pilot:
        await balance_read(pilot)
        status = pane(app).status
        await wait_for(pilot, lambda: "low balance: $0.50 left" in screen_text(app), what="the warning")
        assert status.low_balance
        warning = app.get_css_variables()["warning"]
        right = status.render().spans[-1].style
        assert right.color.name.lower() == warning.lower() and right.bold
        # Lowered in the settings (f2), the warning goes at once.
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the settings")
        field = app.screen.query_one("#warn_below_usd")
        assert field.value == "1"
        field.focus()  # (the last field: scrolled into view)
        field.value = "abc"
        await pilot.pause()
        await wait_for(pilot, lambda: "The warning amount must be an amount in US" in screen_text(app),
                       what="the problem beside the field")
        field.value = "$0.25"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen), what="saved")
        assert app.settings.warn_below_usd == 0.25
        assert "warn_below_usd = 0.25" in app.startup.config_path.read_text()
        await wait_for(pilot, lambda: not status.low_balance, what="no warning")
        assert "$0.50 left" in screen_text(app) and "low balance" not in screen_text(app)


async def test_a_402_says_how_much_was_left(make_app, fake_server):
    fake_server.billing.used_usd = 19.98
    app = make_app(model="test/err-402-balance")
    async with app.run_test(size=SIZE) as pilot:
        await balance_read(pilot)
        await send(pilot, "one more, please")
        await reply_done(pilot)
        [answer] = answers(app, pane(app).chat.id)
        assert answer.status == "error"
        assert "Your balance is too low for this request (402)" in answer.error
        assert "The last check (just now) said $0.02 was left." in answer.error
        assert "said $0.02 was left" in screen_text(app)


async def test_history_list_and_export_sum_what_a_chat_cost(make_app, fake_server, tmp_path):
    from apertis_tui.core.store.export import export_chat
    from apertis_tui.ui.screens.history import HistoryScreen

    app = make_app(model="gpt-4o")
    async with app.run_test(size=SIZE) as pilot:
        await balance_read(pilot)
        await send(pilot, "first")
        await settled(pilot)
        await send(pilot, "second")
        await settled(pilot)
        chat_id = pane(app).chat.id
        costs = [m.cost_usd for m in answers(app, chat_id)]
        assert None not in costs
        total = f"${sum(costs):.4f}"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), what="the history")
        await wait_for(pilot, lambda: total in screen_text(app), what="the chat's sum in its row")
        assert "Spent" in screen_text(app)
        markdown = export_chat(app.store, chat_id, "md")
        assert f"- **Spent:** {total}, measured over 2 replies" in markdown
        assert f"cost ${costs[0]:.4f}" in markdown
        record = json.loads(export_chat(app.store, chat_id, "json"))
        assert record["chat"]["spent_usd"] == pytest.approx(sum(costs)) and not record["chat"]["spent_is_upper_bound"]
        assert [m["cost_usd"] for m in record["messages"] if m["role"] == "assistant"] == costs


def test_usage_command_prints_the_key_and_the_history(fake_server, tmp_path, capsys, monkeypatch):
    """The history's part is built directly: a reply alone, a group of two (counted once), and a
    reply ten days old (only in the 30 days)."""
    import sqlite3
    from datetime import datetime, timedelta, timezone

    from apertis_tui.cli import main
    from apertis_tui.core.store import History

    db = tmp_path / "history.db"
    store = History(db)
    chat = store.create_chat("gpt-4o", title="costs")
    question = store.add_message(chat.id, "user", "q")
    replies = []
    for _ in range(4):
        reply = store.start_assistant(chat.id, "gpt-4o", parent_id=question.id)
        store.finish_message(reply.id, content="a", status="complete")
        replies.append(reply.id)
    store.set_cost([replies[0]], 0.0004, None)
    store.set_cost(replies[1:3], 0.003, replies[1])
    store.set_cost([replies[3]], 0.5, None)
    store.close()
    ten_days_ago = (datetime.now(timezone.utc) - timedelta(days=10)).isoformat(timespec="milliseconds")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE messages SET finished_at = ? WHERE id = ?", (ten_days_ago.replace("+00:00", "Z"),
                                                                          replies[3]))
    fake_server.billing.used_usd, fake_server.billing.tokens, fake_server.billing.requests = 11.58, 1234567, 321
    monkeypatch.setenv("APERTIS_API_KEY", "test-key")
    assert main(["usage", "--db", str(db), "--base-url", fake_server.base_url]) == 0
    out = capsys.readouterr().out
    assert "test-key" not in out  # never the key itself
    lines = [line.split() for line in out.splitlines()]
    assert "This key “fake-key” at 127.0.0.1" in out
    for row in (["total", "$20.00"], ["used", "$11.58"], ["remaining", "$8.42"], ["tokens", "1,234,567"],
                ["requests", "321"]):
        assert row in lines, (row, out)
    assert ["last", "1", "day", "$0.0034", "3", "replies"] in lines  # the group once, whole
    assert ["last", "7", "days", "$0.0034", "3", "replies"] in lines
    assert ["last", "30", "days", "$0.5034", "4", "replies"] in lines
    # Without a network: the history part all the same, and a sentence.
    assert main(["usage", "--db", str(db), "--base-url", "http://127.0.0.1:9/v1"]) == 0
    out = capsys.readouterr().out
    assert "The server could not be asked for this key's figures: Could not reach 127.0.0.1:9." in out
    assert "$0.0034" in out and "$20.00" not in out
    # Against a server without the endpoint.
    fake_server.billing.mode = "none"
    assert main(["usage", "--db", str(db), "--base-url", fake_server.base_url]) == 0
    out = capsys.readouterr().out
    assert "has no usage endpoint (GET /token/usage)" in out and "$0.0034" in out
    # No key: the server is not asked.
    monkeypatch.delenv("APERTIS_API_KEY")
    asked = fake_server.billing.asked
    assert main(["usage", "--db", str(db), "--base-url", fake_server.base_url, "--config",
                 str(tmp_path / "none.toml")]) == 0
    assert "No API key is set" in capsys.readouterr().out and fake_server.billing.asked == asked
