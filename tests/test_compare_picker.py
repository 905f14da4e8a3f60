"""Choosing the models to compare (f7): the model picker in its multi-select mode, driven
through Pilot against the fake server's model list."""

from __future__ import annotations

from textual import events

from apertis_tui.core.models import ModelPrefs
from apertis_tui.ui.screens.compare_picker import ComparePicker
from apertis_tui.ui.screens.model_picker import ModelPicker
from apertis_tui.ui.widgets.model_rows import ModelRows
from tests.conftest import pane, screen_text, wait_for
from tests.test_model_picker import notices, palette

SIZE = (110, 40)
A = "gpt-4o"
TITLE = "Compare: tick up to 6 models — space ticks, enter confirms"
TOO_MANY = "6 models are ticked, the most a prompt can go to: untick one first."
TOO_FEW = "Comparing needs at least two models"


async def open_compare(pilot) -> ComparePicker:
    """f7, pressed where the user is: in the prompt (a TextArea, which binds f7 itself)."""
    assert pilot.app.focused is pane(pilot.app).prompt
    await pilot.press("f7")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ComparePicker), what="the compare picker")
    await pilot.app.workers.wait_for_complete()  # the background refresh of the model list
    await pilot.pause()
    return pilot.app.screen


async def filter_to(pilot, text: str) -> None:
    """Empty the filter (ctrl+u) and type ``text``, as a user would."""
    picker: ComparePicker = pilot.app.screen
    await pilot.press("ctrl+u", *text)
    await wait_for(pilot, lambda: picker.filter.value == text, what=f"{text!r} in the filter")


async def tick(pilot, model: str) -> None:
    """Filter to ``model`` (its exact id comes first, highlighted) and press space."""
    await filter_to(pilot, model)
    picker: ComparePicker = pilot.app.screen
    assert picker.highlighted_row.id == model
    await pilot.press("space")
    await pilot.pause()


def row_line(app, model: str) -> str:
    """The line of the list that shows ``model``, as on screen."""
    region = app.screen.query_one(ModelRows).region
    shown = screen_text(app).splitlines()[region.y: region.bottom]
    lines = [line for line in shown if f" {model} " in line]
    assert len(lines) == 1, lines
    return lines[0]


def title_line(app) -> str:
    return next(line for line in screen_text(app).splitlines() if TITLE in line)


def status(app) -> str:
    """The picker's status line(s), as one line of words."""
    return " ".join(str(app.screen.query_one("#picker-status").render()).split())


async def confirm(pilot) -> None:
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, ModelPicker), what="the picker to close")


async def test_space_ticks_in_order_and_enter_compares_them(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        picker = await open_compare(pilot)
        assert f"{TITLE}   0 ticked" in title_line(app)
        assert "space tick · enter compare the ticked" in screen_text(app)
        for model in ("qwen-max", "grok-3-mini", "o3-mini"):
            await tick(pilot, model)
            assert picker.filter.value == model  # space ticked; it typed nothing
        assert "✓ 3 " in row_line(app, "o3-mini")
        assert "3 ticked" in title_line(app)
        assert "ticked: qwen-max, grok-3-mini, o3-mini" in status(app)
        await confirm(pilot)
        assert pane(app).comparing == ("qwen-max", "grok-3-mini", "o3-mini")
        assert "comparing: qwen-max · grok-3-mini · o3-mini" in screen_text(app)  # the chat's title bar
        await wait_for(pilot, lambda: "Comparing 3 models: your next prompt goes to each of them." in notices(app),
                       what="the notice")
        assert pane(app).model == A  # the chat's own model is untouched
    assert ModelPrefs.load().recents[:3] == ["qwen-max", "grok-3-mini", "o3-mini"]


async def test_a_seventh_tick_is_refused_with_a_sentence(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        picker = await open_compare(pilot)
        for step in range(6):  # the highlighted model (gpt-4o first), then the next five rows
            await pilot.press(*(["down"] if step else []), "space")
        await wait_for(pilot, lambda: len(picker.ticked) == 6, what="six ticks")
        sixth = picker.ticked[-1]
        assert "✓ 6 " in row_line(app, sixth)
        await pilot.press("down", "space")
        await wait_for(pilot, lambda: TOO_MANY in notices(app), what="the refusal")
        seventh = picker.highlighted_row.id
        assert seventh not in picker.ticked and len(picker.ticked) == 6
        assert "✓" not in row_line(app, seventh)
        assert "6 ticked" in title_line(app)
        # Unticking the first renumbers the others in tick order, and frees a place.
        first = picker.ticked[0]
        await tick(pilot, first)
        assert "✓" not in row_line(app, first)
        await filter_to(pilot, "")
        assert "✓ 5 " in row_line(app, sixth)
        assert "5 ticked" in title_line(app)


async def test_keys_sent_at_once_apply_in_order(make_app):
    """tmux, a macro or a busy machine deliver "space down space" together: the second tick
    goes to the row below the first, not back to the first (which unticked it)."""
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_compare(pilot)
        await filter_to(pilot, "grok")
        first, second = picker.rows[0].id, picker.rows[1].id
        for key, character in (("space", " "), ("down", None), ("space", " ")):
            app.post_message(events.Key(key, character))  # all queued before any is handled
        await wait_for(pilot, lambda: len(picker.ticked) == 2, what="two ticks")
        assert picker.ticked == [first, second] and picker.filter.value == "grok"


async def test_ticks_survive_filtering(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_compare(pilot)
        await tick(pilot, "qwen-max")
        await filter_to(pilot, "grok-3")
        assert "qwen-max" not in [row.id for row in picker.rows]  # filtered out of view…
        assert "1 ticked" in title_line(app) and "ticked: qwen-max" in status(app)  # …still ticked
        assert picker.highlighted_row.id == "grok-3"
        await pilot.press("space")
        await filter_to(pilot, "qwen")
        assert "✓ 1 " in row_line(app, "qwen-max")
        await filter_to(pilot, "grok")
        assert "✓ 2 " in row_line(app, "grok-3") and "✓" not in row_line(app, "grok-3-mini")
        await confirm(pilot)
        assert pane(app).comparing == ("qwen-max", "grok-3")


async def test_f7_again_shows_the_set_ticked_and_unticking_all_turns_comparing_off(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_compare(pilot)
        for model in ("deepseek-chat", "qwen-plus"):
            await tick(pilot, model)
        await confirm(pilot)
        assert pane(app).comparing == ("deepseek-chat", "qwen-plus")

        picker = await open_compare(pilot)
        assert picker.ticked == ["deepseek-chat", "qwen-plus"]
        assert "2 ticked" in title_line(app) and "ticked: deepseek-chat, qwen-plus" in status(app)
        assert "✓ 1 " in row_line(app, "deepseek-chat") and "✓ 2 " in row_line(app, "qwen-plus")
        # Change the set: one off, one on.
        await tick(pilot, "deepseek-chat")
        await tick(pilot, "gemini-2.5-pro")
        await confirm(pilot)
        assert pane(app).comparing == ("qwen-plus", "gemini-2.5-pro")

        await open_compare(pilot)
        for model in ("qwen-plus", "gemini-2.5-pro"):
            await tick(pilot, model)
        assert "0 ticked" in title_line(app) and "ticked:" not in status(app)
        await confirm(pilot)
        assert pane(app).comparing == ()
        text = screen_text(app)
        assert "comparing:" not in text and f"·  {A}" in text  # the title bar names the chat's model again
        await wait_for(pilot, lambda: f"Comparing is off: {A} answers again." in notices(app), what="the notice")


async def test_escape_changes_nothing(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        pane(app).set_comparing(["qwen-max", "o3-mini"])
        picker = await open_compare(pilot)
        await tick(pilot, "qwen-max")
        await tick(pilot, "grok-3")
        assert picker.ticked == ["o3-mini", "grok-3"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ModelPicker), what="the picker to close")
        assert pane(app).comparing == ("qwen-max", "o3-mini")
        assert "comparing: qwen-max · o3-mini" in screen_text(app)
        assert ModelPrefs.load().recents == []


async def test_one_tick_is_not_enough_and_the_picker_stays(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        picker = await open_compare(pilot)
        await tick(pilot, "qwen-max")
        await pilot.press("enter")
        await wait_for(pilot, lambda: TOO_FEW in notices(app), what="the sentence")
        assert app.screen is picker and picker.ticked == ["qwen-max"]
        assert pane(app).comparing == ()
        await tick(pilot, "o3-mini")  # a second one: now enter compares
        await confirm(pilot)
        assert pane(app).comparing == ("qwen-max", "o3-mini")


async def test_enter_with_nothing_ticked_when_not_comparing_says_how(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_compare(pilot)
        await confirm(pilot)
        assert pane(app).comparing == ()
        await wait_for(pilot, lambda: f"Not comparing: {A} answers." in notices(app), what="the notice")


async def test_clicking_a_row_ticks_it_and_keeps_the_picker_open(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_compare(pilot)
        await filter_to(pilot, "grok-3")
        target = picker.rows[1].id
        await pilot.click(ModelRows, offset=(6, 1))
        await wait_for(pilot, lambda: picker.ticked == [target], what="the clicked row ticked")
        assert app.screen is picker
        assert "✓ 1 " in row_line(app, target)


async def test_the_palette_opens_it_and_pickers_do_not_stack(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        await palette(pilot, "Compare models", "Send the next prompts to two to six models at once")
        await wait_for(pilot, lambda: isinstance(app.screen, ComparePicker), what="the compare picker")
        assert TITLE in screen_text(app)
        for key in ("f7", "ctrl+o"):
            await pilot.press(key)
            await pilot.pause()
            assert sum(isinstance(s, ModelPicker) for s in app.screen_stack) == 1
        await pilot.press("ctrl+g")  # regenerate-with is no key of this mode
        await pilot.pause()
        assert isinstance(app.screen, ComparePicker)


async def test_keys_are_listed_and_the_single_picker_is_unchanged(make_app):
    app = make_app(model=A)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "KeysScreen", what="the keys screen")
        assert "f7  Compare models" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.focused is pane(app).prompt, what="the prompt")

        await open_compare(pilot)
        await pilot.press("f1")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "KeysScreen", what="the keys screen")
        text = screen_text(app)
        assert "Tick or untick a model" in text and "Favourite" in text and "Cancel" in text
        assert "Regenerate with" not in text
        await pilot.press("escape")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ModelPicker), what="the picker to close")

        # ctrl+o: one model, no tick column, space is only a character of the filter.
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPicker), what="the picker")
        picker = app.screen
        assert not isinstance(picker, ComparePicker)
        await pilot.press("q", "space")
        await wait_for(pilot, lambda: picker.filter.value == "q ", what="the typed space")
        assert "✓" not in screen_text(app) and TITLE not in screen_text(app)
