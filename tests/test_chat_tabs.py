"""The tab line (ChatTabs) and the key bar (KeyBar) of the conversation screen, as the user sees them."""

from __future__ import annotations

from apertis_tui.ui.screens.conversation import STREAMING_MARK, UNREAD_MARK
from apertis_tui.ui.screens.keys import KeysScreen
from tests.conftest import screen_text, wait_for

WIDE = (120, 30)
NARROW = (60, 24)
# What the conversation screen's key bar shows when it has room for everything.
ALL_KEYS = [("⏎", "Send"), ("^j", "Newline"), ("^g", "Regenerate"), ("f3", "Copy"), ("^n", "New"),
            ("f4", "Chats"), ("f1", "Keys"), ("^o", "Model"), ("f2", "Settings"), ("^r", "History"),
            ("^p", "palette")]


def lines(app) -> list[str]:
    return screen_text(app).splitlines()


def tab_line(app) -> str:
    return lines(app)[0]


def key_pairs(app) -> list[tuple[str, str]]:
    words = lines(app)[-1].split()
    assert len(words) % 2 == 0, words  # every key with its whole description
    return list(zip(words[::2], words[1::2]))


def cell_style(app, y: int, x: int):
    """The Rich style of the cell at (x, y) of the screen."""
    strip = app.screen._compositor.render_strips()[y]
    for segment in strip:
        if x < len(segment.text):
            return segment.style
        x -= len(segment.text)
    raise AssertionError("no such cell")


async def open_titled(pilot, *titles: str) -> None:
    app = pilot.app
    for title in titles:
        await app.open_chat(app.new_chat("gpt-4o", title=title).id)
    await pilot.pause()


async def send(pilot, text: str) -> None:
    prompt = pilot.app.active_pane.prompt
    prompt.insert(text)
    await pilot.press("enter")


async def test_labels_numbers_marks_and_the_one_in_front(make_app, fake_server):
    app = make_app(model="test/slow")
    async with app.run_test(size=WIDE) as pilot:
        await send(pilot, "in the background")
        first = app.active_pane
        await wait_for(pilot, lambda: first.is_streaming, what="the answer to start")
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: "2 New chat" in tab_line(app), what="a second tab")
        assert f"{STREAMING_MARK}1 in the background" in tab_line(app)
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: f"{UNREAD_MARK}1 in the background" in tab_line(app), what="the unread mark")
        line = tab_line(app)
        front, back = line.index("2 New chat"), line.index("1 in the background")
        style_front, style_back = cell_style(app, 0, front), cell_style(app, 0, back)
        assert style_front.bgcolor != style_back.bgcolor and style_front.bold  # the chat in front stands out
        await pilot.press("ctrl+pageup")
        await wait_for(pilot, lambda: UNREAD_MARK not in tab_line(app), what="the mark to clear")
        style = cell_style(app, 0, tab_line(app).index("1 in the background"))
        assert (style.bgcolor, style.color, style.bold) == (style_front.bgcolor, style_front.color, True)


async def test_a_click_on_a_label_brings_that_chat_forward(make_app):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_titled(pilot, "alpha", "beta")
        conversation = app.conversation
        assert app.active_pane is conversation.panes[2]
        await pilot.click(offset=(tab_line(app).index("2 alpha") + 3, 0))
        await wait_for(pilot, lambda: app.active_pane is conversation.panes[1], what="alpha in front")
        assert app.focused is conversation.panes[1].prompt
        assert "alpha" in lines(app)[1]  # its title bar is the one shown
        await pilot.click(offset=(tab_line(app).index("1 New chat"), 0))
        await wait_for(pilot, lambda: app.active_pane is conversation.panes[0], what="chat 1 in front")


async def test_a_narrow_terminal_keeps_the_chat_in_front_and_f1_visible(make_app):
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        titles = [f"chat about topic {n}" for n in range(2, 9)]
        await open_titled(pilot, *titles)
        conversation = app.conversation
        assert len(tab_line(app)) <= NARROW[0]
        assert "8 chat about topic 8" in tab_line(app)
        assert tab_line(app).lstrip().startswith("‹")  # the ones hidden on the left are counted
        # Cycling through them all: the one in front is always there, whole.
        for n in range(1, 9):
            await pilot.press("ctrl+pagedown")
            label = "1 New chat" if n == 1 else f"{n} chat about topic {n}"
            await wait_for(pilot, lambda: label in tab_line(app), what=f"tab {n} shown")
            assert app.active_pane is conversation.panes[n - 1]
        # A click on the count at the right end brings the next hidden chat forward.
        await pilot.press("alt+1")
        await wait_for(pilot, lambda: "1 New chat" in tab_line(app), what="tab 1 shown")
        line = tab_line(app).rstrip()
        assert line.endswith("›")
        hidden = int(line.rsplit(" ", 1)[1].rstrip("›"))
        await pilot.click(offset=(len(line) - 1, 0))
        await wait_for(pilot, lambda: app.active_pane is conversation.panes[8 - hidden], what="the next chat")
        # The keys: none cut in half; f1 (which lists them all) and the palette still there.
        pairs = key_pairs(app)
        assert ("f1", "Keys") in pairs and ("^p", "palette") in pairs
        assert set(pairs) < set(ALL_KEYS)
        await pilot.resize_terminal(*WIDE)
        await wait_for(pilot, lambda: key_pairs(app) == ALL_KEYS, what="every key")


async def test_a_click_on_a_key_runs_it(make_app):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        line = lines(app)[-1]
        await pilot.click(offset=(line.index("f1 Keys") + 4, WIDE[1] - 1))
        await wait_for(pilot, lambda: isinstance(app.screen, KeysScreen), what="the keys screen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, KeysScreen), what="the keys screen to close")
        await pilot.click(offset=(lines(app)[-1].index("^n New"), WIDE[1] - 1))
        await wait_for(pilot, lambda: len(app.conversation.panes) == 2, what="a new chat")
        assert app.focused is app.conversation.panes[1].prompt


async def test_the_key_bar_follows_the_focus(make_app):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert ("⏎", "Send") in key_pairs(app)  # the prompt's keys while it has the focus
        app.active_pane.messages.focus()
        await wait_for(pilot, lambda: ("⏎", "Send") not in key_pairs(app), what="the prompt's keys to go")
        assert ("f1", "Keys") in key_pairs(app)


async def test_hovering_a_key_highlights_it_and_tells_what_it_does(make_app):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        y, x = WIDE[1] - 1, lines(app)[-1].index("^n New") + 3
        plain = cell_style(app, y, x)
        await pilot.hover(offset=(x, y))
        await wait_for(pilot, lambda: cell_style(app, y, x).bgcolor != plain.bgcolor, what="the key highlighted")
        bar = app.screen.query_one("KeyBar")
        assert bar.tooltip == "New chat"  # the binding's tooltip
        # The highlight stays on the same key when the bindings are gathered again.
        bar._bindings_changed(app.screen)
        await pilot.pause()
        assert cell_style(app, y, x).bgcolor != plain.bgcolor
        await pilot.hover(offset=(1, 3))  # away from the bar
        await wait_for(pilot, lambda: cell_style(app, y, x).bgcolor == plain.bgcolor, what="the highlight gone")
