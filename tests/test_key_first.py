"""Typed keys go before streamed text (ui/key_first.py): while a key is on its way to the
screen the streams wait and the garbage collector is off; both go on once it is shown, or
after KEY_FIRST_MAX at the latest. The real app types into the prompt while six columns
stream, and every key and every answer arrives whole."""

from __future__ import annotations

import asyncio
import gc

from textual import events

from apertis_tui.ui import key_first
from tests.conftest import pane, reply_done, screen_text, send, wait_for


async def test_a_stream_waits_while_a_key_is_on_its_way():
    assert gc.isenabled()
    key_first.key_arrived(events.Key("a", "a"))
    try:
        assert key_first.pending() and not gc.isenabled()
        waiting = asyncio.get_running_loop().create_task(key_first.step_aside())
        await asyncio.sleep(0.02)
        assert not waiting.done()  # the stream stays out of the way
        key_first.key_shown()
        await asyncio.wait_for(waiting, 1)
        assert not key_first.pending() and gc.isenabled()
    finally:
        key_first.key_shown()


async def test_a_key_never_shown_holds_nothing_for_long(monkeypatch):
    monkeypatch.setattr(key_first, "KEY_FIRST_MAX", 0.05)
    key_first.key_arrived(events.Key("a", "a"))
    try:
        assert not gc.isenabled()
        await asyncio.wait_for(key_first.step_aside(), 1)  # not forever
        await asyncio.sleep(0.06)  # (the timer that ends it, with no one asking)
        assert not key_first.pending() and gc.isenabled()
        key_first.key_arrived(events.MouseMove(None, 0, 0, 0, 0, 0, False, False, False))
        assert not key_first.pending()  # only keys and pastes go first
    finally:
        key_first.key_shown()


async def test_keys_typed_while_six_columns_stream_are_shown_and_nothing_is_lost(make_app, fake_server):
    fake_server.rate = 30  # each answer ~2 s: the keys are typed while all six arrive
    models = ["gpt-4o", "gpt-4o-mini", "test/reasoning", "gpt-4.1", "o3-mini", "gpt-4o-2024-08-06"]
    app = make_app(model="gpt-4o")
    async with app.run_test(size=(246, 50)) as pilot:
        chat = pane(app)
        chat.set_comparing(models)
        assert chat.comparing == tuple(models)
        await send(pilot, "stream while I type")
        await wait_for(pilot, lambda: chat.comparison_view is not None and any(
            c.view is not None and c.view.text for c in chat.comparison_view.rows[-1]), what="the columns started")
        assert chat.is_streaming
        chat.prompt.focus()
        await pilot.press(*"typed")
        await wait_for(pilot, lambda: "typed" in screen_text(app), what="the keys on the screen")
        assert chat.prompt.text == "typed"
        assert chat.is_streaming
        await reply_done(pilot)
        cells = chat.comparison_view.rows[-1]
        assert [c.view.message.status for c in cells] == ["complete"] * 6
        for cell in cells:
            assert "You said: stream while I type" in cell.view.text
            stored = app.store.path_to(cell.view.message.id)[-1]
            assert stored.content == cell.view.text  # the text that waited in the sockets is all there
        assert not key_first.pending() and gc.isenabled()


async def test_a_key_that_closed_its_widget_lets_streams_go_on():
    from textual.widget import Widget

    key_first.key_arrived(events.Key("enter", None))
    try:
        key_first._handled(Widget())  # (no longer on a screen: an enter that closed a dialog)
        assert not key_first.pending() and gc.isenabled()
    finally:
        key_first.key_shown()


async def test_typing_in_a_dialog_and_closing_it(make_app):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, lambda: "Keys — escape closes" in screen_text(app), what="the keys screen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: "Keys — escape closes" not in screen_text(app), what="it closed")
        await pilot.press(*"still here")
        await wait_for(pilot, lambda: "still here" in screen_text(app), what="typing in the prompt")
        await wait_for(pilot, lambda: not key_first.pending(), what="the keys shown")
        assert gc.isenabled()


async def test_while_a_key_is_on_its_way_streams_and_redraws_wait_then_go_on(make_app, fake_server, monkeypatch):
    monkeypatch.setattr(key_first, "KEY_FIRST_MAX", 30.0)  # (held by hand here: no time limit)
    fake_server.rate = 400
    app = make_app(model="gpt-4o")
    async with app.run_test(size=(120, 40)) as pilot:
        chat = pane(app)
        chat.set_comparing(["test/long", "gpt-4o"])
        await send(pilot, "long: tokens=1000")

        def long_view():
            view = chat.comparison_view
            return view.rows[-1][0].view if view is not None and view.rows else None

        await wait_for(pilot, lambda: long_view() is not None and len(long_view().text) > 200,
                       what="the long answer under way")
        long = long_view()
        key_first.key_arrived(events.Key("x", "x"))  # a key on its way, not shown yet
        try:
            await pilot.pause(0.05)
            text, lines = len(long.text), len(long._lines)
            await pilot.pause(0.15)
            assert (len(long.text), len(long._lines)) == (text, lines)  # nothing fed, nothing redrawn
            assert long.streaming
        finally:
            key_first.key_shown()
        await wait_for(pilot, lambda: len(long._lines) > lines, what="the answer going on")
        await reply_done(pilot)
        assert long.message.status == "complete" and long.text.count("Section") > 1
