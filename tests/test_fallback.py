"""Fallback models: the [fallback] default and a chat's own (f9), sent in the body; a reply a
fallback wrote, labelled with the model that wrote it and why the other failed, stored,
shown again after a restart and exported. Against the fake server, through Pilot."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Input, Static, Switch

from apertis_tui.core.settings.file import ConfigError, Settings, load_settings, save_settings
from apertis_tui.core.store.export import export_chat
from apertis_tui.core.types import FallbackSettings
from apertis_tui.ui.screens.chat_settings import ChatSettingsDialog
from apertis_tui.ui.screens.fallback_picker import FallbackPicker
from apertis_tui.ui.widgets.message_view import MessageView
from tests.conftest import reply_done, screen_text, send, wait_for

SIZE = (140, 50)
FALLBACK_KEYS = ("fallback_models", "fallback_timeout", "fallback_enabled")


def settings_file(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def fallback_fields(body: dict) -> dict:
    return {key: body[key] for key in FALLBACK_KEYS if key in body}


def title_bar(app) -> str:
    return str(app.active_pane.query_one("#chat-title", Static).render())


def last_reply_view(app) -> MessageView:
    return [v for v in app.active_pane.messages.views if v.message.role == "assistant"][-1]


def label_text(view: MessageView) -> str:
    return view._label_strip().text


# ---------------------------------------------------------------------------
# The [fallback] table


def test_the_fallback_table_loads_and_is_written_back(tmp_path):
    path = settings_file(tmp_path, '[fallback]\nmodels = ["gpt-4o-mini", " o3-mini ", "gpt-4o-mini"]\n'
                                   'timeout = 45\nenabled = true\nnote = "mine"\n')
    settings = load_settings(path)
    assert settings.fallback == FallbackSettings(True, ("gpt-4o-mini", "o3-mini"), 45.0)  # trimmed, once each
    save_settings(settings, path)
    text = path.read_text("utf-8")
    assert load_settings(path).fallback == settings.fallback
    assert "timeout = 45\n" in text and 'note = "mine"' in text  # a whole number stays one; unknown keys kept
    assert load_settings(settings_file(tmp_path, "")).fallback == FallbackSettings()  # absent: on, no models, 30 s


@pytest.mark.parametrize(("text", "sentence"), [
    ('[fallback]\nmodels = "gpt-4o"\n', 'fallback.models must be a list of model ids, such as ["gpt-4o-mini"]'),
    ('[fallback]\nmodels = ["a", "b", "c", "d", "e", "f"]\n', "fallback.models can hold at most 5 models (it has 6)"),
    ('[fallback]\nmodels = ["a\\u001b[2J"]\n', "fallback.models holds something that is not a model id"),
    ("[fallback]\ntimeout = 4\n", "fallback.timeout must be a number of seconds from 5 to 300"),
    ('[fallback]\ntimeout = "30"\n', "fallback.timeout must be a number of seconds from 5 to 300"),
    ("[fallback]\ntimeout = 301\n", "fallback.timeout must be a number of seconds from 5 to 300"),
    ('[fallback]\nenabled = "yes"\n', "fallback.enabled must be true or false"),
    ("fallback = 3\n", "fallback must be a table ([fallback])"),
])
def test_a_bad_fallback_value_is_a_sentence_with_its_line(tmp_path, text, sentence):
    with pytest.raises(ConfigError) as problem:
        load_settings(settings_file(tmp_path, text))
    assert sentence in str(problem.value)
    assert "(line " in str(problem.value) and "it has not been changed" in str(problem.value)


async def test_the_app_starts_with_a_bad_fallback_table_and_says_why(make_app, tmp_path, fake_server):
    with pytest.raises(ConfigError) as problem:
        load_settings(settings_file(tmp_path, "[fallback]\ntimeout = 1000\n"))
    app = make_app(config_error=problem.value)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        notices = lambda: "\n".join(str(toast.render()) for toast in app.screen.query("Toast"))  # noqa: E731
        await wait_for(pilot, lambda: "Settings not loaded" in notices(), what="the notice")
        assert "fallback.timeout must be a number of seconds from 5 to 300" in notices()
        await send(pilot, "hello")
        await reply_done(pilot)
        assert app.store.messages(app.active_pane.chat.id)[-1].status == "complete"
    assert not fallback_fields(fake_server.chat_requests[-1]["json"])  # the defaults: nothing to send


# ---------------------------------------------------------------------------
# What is sent


async def test_the_default_from_the_settings_file_is_sent_with_the_timeout_in_ms(make_app, tmp_path, fake_server):
    settings = load_settings(settings_file(
        tmp_path, '[fallback]\nmodels = ["gpt-4o-mini", "claude-3-5-haiku-20241022"]\ntimeout = 45\n'))
    app = make_app(settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await reply_done(pilot)
    assert fallback_fields(fake_server.chat_requests[-1]["json"]) == {
        "fallback_models": ["gpt-4o-mini", "claude-3-5-haiku-20241022"],
        "fallback_timeout": 45000,
        "fallback_enabled": True,
    }


@pytest.mark.parametrize("fallback", [FallbackSettings(False, ("gpt-4o-mini",), 30.0), FallbackSettings()],
                         ids=["off", "no-models"])
async def test_off_or_without_models_nothing_is_sent(make_app, fake_server, fallback):
    app = make_app(settings=Settings(fallback=fallback))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await reply_done(pilot)
    assert fallback_fields(fake_server.chat_requests[-1]["json"]) == {}


async def open_chat_settings(pilot) -> ChatSettingsDialog:
    await pilot.press("f9")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ChatSettingsDialog), what="the chat settings")
    await pilot.pause()
    return pilot.app.screen


async def save_chat_settings(pilot) -> None:
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, ChatSettingsDialog), what="the dialog to close")


async def type_timeout(pilot, screen, text: str) -> Input:
    """Type ``text`` into the fallback timeout field of ``screen``, as a person would."""
    field = screen.query_one("#fallback-timeout", Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)
    await pilot.pause()
    return field


async def open_fallback_picker(pilot, screen) -> FallbackPicker:
    """``Choose…`` beside the fallback models of ``screen``; the picker, its list loaded."""
    screen.query_one("#choose-fallback").focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FallbackPicker), what="the picker")
    picker = pilot.app.screen
    await wait_for(pilot, lambda: picker.listing is not None and not picker.fetching, what="the model list")
    return picker


async def test_a_chats_own_fallback_from_f9_is_stored_sent_and_forked(make_app, fake_server):
    app = make_app(settings=Settings(fallback=FallbackSettings(True, ("gpt-4o-mini",), 30.0)))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first")
        await reply_done(pilot)
        chat_id = app.active_pane.chat.id
        dialog = await open_chat_settings(pilot)
        assert "gpt-4o-mini" in str(dialog.query_one("#fallback-models", Static).render())  # the default, shown
        # Tick o3-mini after the default's model, in the model picker.
        picker = await open_fallback_picker(pilot, dialog)
        assert picker.ticked == ["gpt-4o-mini"]
        await pilot.press(*"o3-mini")
        await wait_for(pilot, lambda: picker.highlighted_row is not None and picker.highlighted_row.id == "o3-mini",
                       what="o3-mini highlighted")
        await pilot.press("space", "enter")
        await wait_for(pilot, lambda: app.screen is dialog, what="back in the dialog")
        assert "gpt-4o-mini → o3-mini" in str(dialog.query_one("#fallback-models", Static).render())
        await type_timeout(pilot, dialog, "12.5")
        await save_chat_settings(pilot)
        assert "own fallback" in title_bar(app)
        own = FallbackSettings(True, ("gpt-4o-mini", "o3-mini"), 12.5)
        assert app.store.get_chat(chat_id).fallback == own  # stored with the chat
        await send(pilot, "second")
        await reply_done(pilot)
        assert fallback_fields(fake_server.chat_requests[-1]["json"]) == {
            "fallback_models": ["gpt-4o-mini", "o3-mini"], "fallback_timeout": 12500, "fallback_enabled": True}
        # A fork keeps the chat's own fallback, as it keeps its parameters.
        fork = app.store.fork_chat(chat_id, app.active_pane.leaf_id, "Fork")
        assert fork.fallback == own
        # Switched off for this chat only: not sent, said in the title bar.
        dialog = await open_chat_settings(pilot)
        await pilot.click("#fallback-enabled")
        assert dialog.query_one("#fallback-enabled", Switch).value is False
        await save_chat_settings(pilot)
        assert "fallback off" in title_bar(app)
        await send(pilot, "third")
        await reply_done(pilot)
        assert fallback_fields(fake_server.chat_requests[-1]["json"]) == {}
        # "Use defaults" and save: the chat follows the settings again (stored as nothing).
        await open_chat_settings(pilot)
        await pilot.click("#chat-settings-defaults")
        await save_chat_settings(pilot)
        assert app.store.get_chat(chat_id).fallback is None
        assert "fallback" not in title_bar(app)


async def test_a_bad_timeout_in_f9_is_refused_with_a_sentence(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        dialog = await open_chat_settings(pilot)
        timeout = await type_timeout(pilot, dialog, "900")
        assert "must be a number of seconds from 5 to 300" in str(dialog.query_one("#note-fallback_timeout").render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog and app.focused is timeout  # not saved; the field has the focus
        assert app.active_pane.chat_fallback is None


# ---------------------------------------------------------------------------
# A reply a fallback wrote


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
async def test_a_fallback_answer_is_labelled_stored_and_shown_again_after_a_restart(
        make_app, fake_server, tmp_path, stream):
    settings = Settings(stream=stream, fallback=FallbackSettings(True, ("gpt-4o-mini", "o3-mini"), 20.0))
    app = make_app(model="test/fails-then-fallback", settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await reply_done(pilot)
        chat_id = app.active_pane.chat.id
        view = last_reply_view(app)
        label = label_text(view)
        assert label.startswith("gpt-4o-mini  fallback for test/fails-then-fallback: upstream timeout after 20000 ms")
        assert label.splitlines()[0] in screen_text(app)
        # The reason is dimmed: drawn in the label's quiet style, not the model's.
        strip = view._label_strip()
        styles = {segment.text.strip(): segment.style for segment in strip if segment.text.strip()}
        reason = next(style for text, style in styles.items() if "fallback for" in text)
        assert reason.color == view.get_component_rich_style("message--meta").color
        assert reason.color != view.get_component_rich_style("message--assistant-label").color
        stored = app.store.messages(chat_id)[-1]
        assert stored.status == "complete" and stored.model == "gpt-4o-mini"
        assert stored.fallback == {"from": "test/fails-then-fallback", "reason": "upstream timeout after 20000 ms"}
        assert "gpt-4o-mini" in app.store.chat_summaries([chat_id])[chat_id].models  # the history's list
    # After a restart: the same label, from the history.
    again = make_app(model="test/fails-then-fallback", settings=settings, db=tmp_path / "history.db")
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: again.active_pane.chat is not None and again.active_pane.messages.views,
                       what="the chat restored")
        await pilot.pause()
        assert label_text(last_reply_view(again)) == label
        markdown = export_chat(again.store, chat_id, "md")
        record = json.loads(export_chat(again.store, chat_id, "json"))["messages"][-1]
    assert "model gpt-4o-mini · fallback: test/fails-then-fallback failed (upstream timeout after 20000 ms)" in markdown
    assert (record["model"], record["fallback"]) == ("gpt-4o-mini", stored.fallback)


async def test_without_fallback_models_the_failing_model_fails(make_app, fake_server):
    app = make_app(model="test/fails-then-fallback")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await reply_done(pilot)
        stored = app.store.messages(app.active_pane.chat.id)[-1]
        assert stored.status == "error" and stored.model == "test/fails-then-fallback" and stored.fallback is None
        assert "fallback for" not in screen_text(app)


async def test_hostile_fallback_headers_are_cleaned_and_never_markup(make_app, fake_server):
    app = make_app(model="test/fallback-hostile", settings=Settings(fallback=FallbackSettings(True, ("o3",), 30.0)))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await reply_done(pilot)
        assert app.is_running  # [@click=app.quit] did nothing
        stored = app.store.messages(app.active_pane.chat.id)[-1]
        shown = screen_text(app)
        label = label_text(last_reply_view(app))
        markdown = export_chat(app.store, app.active_pane.chat.id, "md")
    texts = [stored.model, stored.fallback["from"], stored.fallback["reason"], shown, label, markdown]
    for text in texts:
        assert not any(ch in text for ch in "\x1b\x9b\x9d\x9c\u202e\r"), repr(text)
    assert stored.model.startswith("gpt-4o-mini[/][@click=app.quit]q[/]") and len(stored.model) <= 200
    assert stored.fallback["from"] == "[red]test/fallback-hostile[/red]0;pwned"  # the text as sent, inert
    assert len(stored.fallback["reason"]) <= 300
    assert label.startswith("gpt-4o-mini[/][@click=app.quit]q[/]")  # shown as it is, not parsed
    assert "fallback: [red]test/fallback-hostile[/red]0;pwned failed (timeout [@click=app.quit]quit[/]" in markdown


# ---------------------------------------------------------------------------
# The default, on the settings screen (f2)


async def test_the_default_is_edited_on_the_settings_screen_and_written_to_the_file(make_app, tmp_path, fake_server):
    import tomllib

    from apertis_tui.ui.screens.settings import SettingsScreen

    app = make_app(settings=Settings(fallback=FallbackSettings(True, ("gpt-4o-mini",), 30.0)))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the settings screen")
        screen = app.screen
        await pilot.pause()
        assert "gpt-4o-mini" in str(screen.query_one("#fallback-models", Static).render())
        # A bad timeout is said beside the field, and saving is refused.
        await type_timeout(pilot, screen, "2")
        assert "from 5 to 300" in str(screen.query_one("#note-fallback_timeout").render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen and not (tmp_path / "config" / "config.toml").exists()
        await pilot.press("backspace", *"90")
        picker = await open_fallback_picker(pilot, screen)
        await pilot.press("space")  # unticks gpt-4o-mini, the highlighted (ticked) one
        await pilot.press(*"gpt-4.1-nano")
        await wait_for(pilot, lambda: picker.highlighted_row.id == "gpt-4.1-nano", what="gpt-4.1-nano highlighted")
        await pilot.press("space", "enter")
        await wait_for(pilot, lambda: app.screen is screen, what="back on the settings screen")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen), what="saved")
        await app.workers.wait_for_complete()
        assert app.settings.fallback == FallbackSettings(True, ("gpt-4.1-nano",), 90.0)  # used at once
        await send(pilot, "hello")
        await reply_done(pilot)
    written = tomllib.loads((tmp_path / "config" / "config.toml").read_text("utf-8"))
    assert written["fallback"] == {"models": ["gpt-4.1-nano"], "timeout": 90, "enabled": True}
    assert fallback_fields(fake_server.chat_requests[-1]["json"])["fallback_models"] == ["gpt-4.1-nano"]


async def test_the_label_changes_as_the_answer_starts_and_the_row_knows_before_it_ends(make_app, fake_server):
    # The fallback that answers is test/stall: its first words, then nothing until released.
    settings = Settings(fallback=FallbackSettings(True, ("test/stall",), 30.0))
    app = make_app(model="test/fails-then-fallback", settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: app.active_pane.is_streaming and app.active_pane.messages.views[-1].text,
                       what="the first words")
        view = last_reply_view(app)
        await wait_for(pilot, lambda: label_text(view).startswith("test/stall  fallback for test/fails-then-fallback"),
                       what="the label")
        assert "streaming…" in label_text(view)
        # Saved with the text so far, as a kill -9 would leave it.
        await wait_for(pilot, lambda: app.store.messages(app.active_pane.chat.id)[-1].model == "test/stall",
                       what="the row")
        stored = app.store.messages(app.active_pane.chat.id)[-1]
        assert stored.status == "streaming" and stored.fallback["from"] == "test/fails-then-fallback"
        fake_server.stall_release.set()
        await reply_done(pilot)
