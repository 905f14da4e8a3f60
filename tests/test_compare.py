"""Comparing models, end to end: the real app (Pilot) against the fake server on a socket, a
real history file. One prompt to several models at once, columns, later turns, the pick, and a
restart in the middle of a comparison."""

from __future__ import annotations

from tests.conftest import pane, reply_done, screen_text, send, wait_for

MODELS = ["gpt-4o", "test/err-500", "gpt-4o-mini"]


def requests_by_model(fake_server) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for request in fake_server.chat_requests:
        out.setdefault(request["json"]["model"], []).append(request["json"])
    return out


def cells(app):
    view = pane(app).comparison_view
    return view.rows[-1] if view is not None else []


async def test_compare_three_models_then_pick_the_second(make_app, fake_server):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=(150, 45)) as pilot:
        chat = pane(app)
        chat.set_comparing(MODELS)
        assert "comparing: gpt-4o · test/err-500 · gpt-4o-mini" in screen_text(app)
        await send(pilot, "first question")
        await reply_done(pilot)
        row = cells(app)
        assert [c.model for c in row] == MODELS
        assert "You said: first question" in row[0].view.text and "You said: first question" in row[2].view.text
        assert row[1].view.message.status == "error"  # its own sentence, in its own column
        text = screen_text(app)
        assert "1 gpt-4o" in text and "3 gpt-4o-mini" in text and "tokens" in text
        # All three were asked with the same conversation.
        first = requests_by_model(fake_server)
        assert {m: len(r) for m, r in first.items()} == {m: 1 for m in MODELS}
        # A second turn goes to all three, each with its own previous answer.
        await send(pilot, "second question")
        await reply_done(pilot)
        asked = requests_by_model(fake_server)
        for model in ("gpt-4o", "gpt-4o-mini"):
            messages = asked[model][-1]["messages"]
            assert [m["role"] for m in messages][-3:] == ["user", "assistant", "user"]
            assert f"**{model}**" in messages[-2]["content"]  # its own answer, not another's
        assert len(pane(app).comparison_view.rows) == 2
        # Pick the second column (digits jump; enter picks).
        await pilot.press("ctrl+up")
        assert app.focused is chat.comparison_view
        await pilot.press("3", "left")
        assert chat.comparison_view.current == 1
        await pilot.press("right", "enter")
        await wait_for(pilot, lambda: chat.comparison is None, what="the pick")
        assert chat.model == "gpt-4o-mini" and chat.comparing == ()
        stored = app.store.get_chat(chat.chat.id)
        assert stored.model == "gpt-4o-mini"
        # The next request goes to that model only, with its answers in the context.
        before = len(fake_server.chat_requests)
        await send(pilot, "third question")
        await reply_done(pilot)
        assert len(fake_server.chat_requests) == before + 1
        body = fake_server.chat_requests[-1]["json"]
        assert body["model"] == "gpt-4o-mini"
        contents = " ".join(str(m["content"]) for m in body["messages"])
        assert "**gpt-4o-mini**" in contents and "**gpt-4o**" not in contents
        # The other answers are versions of the chosen one: flip to one.
        await pilot.press("ctrl+up")
        for _ in range(4):  # from the third answer: its question, the second answer and question, the first
            await pilot.press("up")
        selected = chat.messages.selected
        assert selected.message.role == "assistant" and selected.versions is not None
        await pilot.press("left")
        await wait_for(pilot, lambda: chat.messages.selected is not None
                       and chat.messages.selected.message.model != "gpt-4o-mini", what="the flip")


async def test_a_comparison_comes_back_after_a_restart(make_app, fake_server, tmp_path):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=(150, 45)) as pilot:
        pane(app).set_comparing(["gpt-4o", "gpt-4o-mini"])
        await send(pilot, "compare me")
        await reply_done(pilot)
        chat_id = pane(app).chat.id
    again = make_app(model="gpt-4o")
    async with again.run_test(size=(150, 45)) as pilot:
        await wait_for(pilot, lambda: pane(again).comparison_view is not None, what="the comparison shown again")
        chat = pane(again)
        assert chat.chat.id == chat_id and chat.comparing == ("gpt-4o", "gpt-4o-mini")
        assert [c.model for c in cells(again)] == ["gpt-4o", "gpt-4o-mini"]
        assert all("You said: compare me" in c.view.text for c in cells(again))
        assert "comparing: gpt-4o · gpt-4o-mini" in screen_text(again)
        # The search finds either answer.
        hits = again.store.search("compare")
        assert {h.chat_id for h in hits} == {chat_id}


async def test_escape_stops_every_column(make_app, fake_server):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=(150, 45)) as pilot:
        pane(app).set_comparing(["test/stall", "test/slow"])
        await send(pilot, "go")
        await wait_for(pilot, lambda: all(c.view is not None and c.view.text for c in cells(app)),
                       what="both columns started")
        await pilot.press("escape")
        await reply_done(pilot)
        assert [c.view.message.status for c in cells(app)] == ["stopped", "stopped"]


async def test_compare_report_from_the_shell_and_the_palette(make_app, fake_server, tmp_path, monkeypatch):
    app = make_app(model="gpt-4o", db=tmp_path / "history.db")
    async with app.run_test(size=(150, 45)) as pilot:
        pane(app).set_comparing(["gpt-4o", "test/err-500", "gpt-4o-mini"])
        await send(pilot, "which is best?")
        await reply_done(pilot)
        await pilot.press("ctrl+up", "3", "enter")
        await wait_for(pilot, lambda: pane(app).comparison is None, what="the pick")
        chat_id = pane(app).chat.id
        monkeypatch.setenv("HOME", str(tmp_path))
        app.action_export_comparison()
        written = tmp_path / f"apertis-comparison-{chat_id}.md"
        assert written.is_file()
    from apertis_tui.cli import main

    out = tmp_path / "report.md"
    assert main(["compare-report", str(chat_id), "--db", str(tmp_path / "history.db"), "-o", str(out)]) == 0
    report = out.read_text()
    assert report == written.read_text()
    assert "chosen: **gpt-4o-mini**" in report and "### Turn 1: which is best?" in report
    rows = [line for line in report.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 3
    assert rows[2].startswith("| ✓ | gpt-4o-mini |") and "You said: which is best?" in rows[2]
    assert "The server had a problem (500)" in rows[1]
    assert main(["compare-report", "999", "--db", str(tmp_path / "history.db")]) == 1


async def test_narrow_terminals_stack_the_columns(make_app, fake_server):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=(100, 45)) as pilot:
        pane(app).set_comparing(["gpt-4o", "gpt-4o-mini", "test/reasoning"])
        await send(pilot, "stack them")
        await reply_done(pilot)
        row = pane(app).comparison_view.query_one("CompareRow")
        await wait_for(pilot, lambda: row.has_class("-stacked"), what="stacked columns")
        tops = [cell.region.y for cell in cells(app)]
        assert tops == sorted(tops) and len(set(tops)) == 3  # one under the other
        await pilot.press("ctrl+up", "s")  # stacked columns scroll with the conversation only
        assert not pane(app).comparison_view.alone
        await wait_for(pilot, lambda: any("one under the other" in n.message for n in app._notifications),
                       what="the notice")
        await pilot.press("escape")
        await pilot.resize_terminal(200, 45)
        await wait_for(pilot, lambda: not row.has_class("-stacked"), what="side by side again")
        await pilot.pause()
        assert len({cell.region.y for cell in cells(app)}) == 1


async def test_a_two_turn_comparison_comes_back_whole(make_app, fake_server):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=(150, 45)) as pilot:
        pane(app).set_comparing(["gpt-4o", "gpt-4o-mini"])
        await send(pilot, "turn one")
        await reply_done(pilot)
        await send(pilot, "turn two")
        await reply_done(pilot)
    again = make_app(model="gpt-4o")
    async with again.run_test(size=(150, 45)) as pilot:
        await wait_for(pilot, lambda: pane(again).comparison_view is not None, what="the comparison")
        view = pane(again).comparison_view
        assert len(view.rows) == 2
        assert all("You said: turn two" in cell.view.text for cell in view.rows[1])
        await wait_for(pilot, lambda: "You said: turn two" in screen_text(again), what="the second turn on screen")
        # The next prompt goes on in every column, after each one's second answer.
        before = len(fake_server.chat_requests)
        await send(pilot, "turn three")
        await reply_done(pilot)
        assert len(fake_server.chat_requests) == before + 2
        for request in fake_server.chat_requests[-2:]:
            roles = [m["role"] for m in request["json"]["messages"]]
            assert roles == ["user", "assistant", "user", "assistant", "user"]


async def test_changing_or_ending_an_undecided_comparison_goes_on_from_its_first_column(make_app, fake_server):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=(150, 45)) as pilot:
        chat = pane(app)
        chat.set_comparing(["gpt-4o-mini", "gpt-4o"])
        await send(pilot, "undecided")
        await reply_done(pilot)
        first = chat.comparison.leaves[0]
        chat.set_comparing(["gpt-4o", "test/reasoning"])  # another set: the old one ends on its first column
        assert chat.comparison is None and chat.comparing == ("gpt-4o", "test/reasoning")
        assert app.store.get_chat(chat.chat.id).current_id == first
        await wait_for(pilot, lambda: any("goes on with gpt-4o-mini's answer" in n.message for n in app._notifications),
                       what="the notice")
        await send(pilot, "next")
        await reply_done(pilot)
        for request in fake_server.chat_requests[-2:]:
            assert "**gpt-4o-mini**" in request["json"]["messages"][-2]["content"]  # the first column's answer
        chat.set_comparing([])  # off, with the new comparison undecided: its first column goes on
        assert chat.comparison is None and chat.comparing == () and chat.model == "gpt-4o"
        assert app.store.open_comparison(chat.chat.id) is None


def column_text(app, cell) -> str:
    """What the screen shows in one column (between its left and right edges), line by line."""
    region = cell.region
    return "\n".join(line[region.x:region.right] for line in screen_text(app).splitlines())


async def test_the_columns_scroll_together_or_one_at_a_time(make_app, fake_server):
    from tests.fake_server import long_markdown

    app = make_app(model="gpt-4o")
    async with app.run_test(size=(150, 24)) as pilot:
        chat = pane(app)
        chat.set_comparing(["test/long", "gpt-4o-mini"])
        await send(pilot, "a long one and a short one: tokens=600")
        await reply_done(pilot)
        long, short = cells(app)
        last_words = " ".join(long_markdown(600).split()[-3:])
        await pilot.press("ctrl+up", "home")  # the comparison's top: both answers' beginnings
        await pilot.pause()
        assert "Section 1" in column_text(app, long) and "gpt-4o-mini got" in column_text(app, short)
        # Together (the default): a page down moves both.
        await pilot.press("pagedown")
        await pilot.pause()
        assert "Section 1" not in column_text(app, long) and "gpt-4o-mini got" not in column_text(app, short)
        await pilot.press("home", "s")  # the current column (the first) alone from now on
        assert chat.comparison_view.alone
        await pilot.press("pagedown")
        await pilot.pause()
        assert "Section 1" not in column_text(app, long)
        assert "gpt-4o-mini got" in column_text(app, short)  # the other column stayed
        await pilot.press("end")  # the first column's end, the second still at its start
        await pilot.pause()
        assert last_words in " ".join(column_text(app, long).split())
        assert "gpt-4o-mini got" in column_text(app, short)
        await pilot.press("right", "down")  # the second is short, all on the screen: nothing to scroll
        await pilot.pause()
        assert "gpt-4o-mini got" in column_text(app, short)
        assert last_words in " ".join(column_text(app, long).split())
        await pilot.press("s")  # together again, lined up
        await pilot.pause()
        assert not chat.comparison_view.alone
        assert "Section 1" in column_text(app, long) and "gpt-4o-mini got" in column_text(app, short)


async def test_a_history_hit_in_a_column_opens_the_comparison_at_that_column(make_app, fake_server):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=(150, 30)) as pilot:
        chat = pane(app)
        chat.set_comparing(["gpt-4o", "gpt-4o-mini", "test/reasoning"])
        await send(pilot, "first ask")
        await reply_done(pilot)
        await send(pilot, "second ask")
        await reply_done(pilot)
        chat_id = chat.chat.id
        third = chat.comparison_view.rows[1][2].view.message.id  # the third column's second answer
        leaves = chat.comparison.leaves
    again = make_app(model="gpt-4o")
    async with again.run_test(size=(150, 30)) as pilot:
        hit = next(h for h in again.store.search("second ask") if h.message_id == third)
        await again.open_chat(None)  # another chat in front, as when searching from one
        await again.open_chat(hit.chat_id, hit.message_id)  # what opening the hit does
        chat = pane(again)
        await wait_for(pilot, lambda: chat.comparison_view is not None and chat.comparison_view.current == 2,
                       what="the third column current")
        await pilot.pause()
        text = screen_text(again)
        assert "1 gpt-4o" in text and "3 test/reasoning" in text  # the columns, not one branch as a chat
        assert "‹ 3/3 ›" not in text
        row = chat.comparison_view.rows[1][2].row
        assert row.region.y >= chat.messages.region.y and "test/reasoning got 3 messages" in text
        assert again.store.open_comparison(chat_id).leaves == leaves  # nothing decided by looking
        await pilot.press("ctrl+up", "enter")  # and the pick takes the column the hit was in
        await wait_for(pilot, lambda: chat.comparison is None, what="the pick")
        assert chat.model == "test/reasoning"


async def test_a_column_that_grows_is_drawn_whole_before_the_next_layout(make_app, fake_server):
    from dataclasses import replace

    app = make_app(model="gpt-4o")
    async with app.run_test(size=(150, 45)) as pilot:
        pane(app).set_comparing(["gpt-4o", "test/long"])
        await send(pilot, "grow: tokens=300")
        await reply_done(pilot)
        await pilot.pause()
        short, tall = cells(app)
        row = short.row
        assert row.cell_box(0)[3] < row.size.height  # the first column ends above the row's end
        view = short.view
        before = len(view._lines)
        # Its answer grows by a line (as a catch-up redraw does); a frame may draw the row before
        # the layout that follows measures it again.
        view.show_message(replace(view.message, content=view.message.content + "\n\nTHE NEW LAST LINE"))
        added = len(view._lines) - before
        assert added > 0
        y = 2 + len(view._lines) - 1
        assert y < row.size.height
        assert "THE NEW LAST LINE" in row.render_line(y).text
