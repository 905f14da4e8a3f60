"""The settings screen (f2), driven through Pilot against the fake server."""

from __future__ import annotations

import os
import socket
import stat
import tomllib

import pytest
from textual.widgets import Input, OptionList, Static, Switch, TextArea

from apertis_tui.core.settings.file import ConfigError, Settings, load_settings
from apertis_tui.core.types import ChatParams
from apertis_tui.ui.screens.confirm import ConfirmDialog
from apertis_tui.ui.screens.settings import SettingsScreen
from tests.conftest import screen_text, wait_for
from tests.fake_server import MODEL_IDS

SIZE = (140, 50)


# ---------------------------------------------------------------------------
# Helpers


def config_file(tmp_path):
    return tmp_path / "config" / "config.toml"


def read_config(tmp_path) -> dict:
    return tomllib.loads(config_file(tmp_path).read_text("utf-8"))


async def open_settings(pilot) -> SettingsScreen:
    await pilot.press("f2")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen), what="the settings screen")
    await pilot.pause()
    return pilot.app.screen


async def type_into(pilot, field_id: str, text: str) -> None:
    """Clear a field and type ``text`` into it key by key, as a person would."""
    field = pilot.app.screen.query_one(f"#{field_id}", Input)
    field.focus()
    field.value = ""
    await pilot.pause()
    await pilot.press(*text)
    await pilot.pause()


def notices(app) -> str:
    """The text of the notifications on screen (a toast wraps its lines, so not screen_text)."""
    return "\n".join(str(toast.render()) for toast in app.screen.query("Toast"))


def note(screen, name: str) -> str:
    return str(screen.query_one(f"#note-{name}", Static).render())


def note_is_error(screen, name: str) -> bool:
    return screen.query_one(f"#note-{name}", Static).has_class("-error")


async def save(pilot) -> None:
    await pilot.press("ctrl+s")
    await pilot.pause()


async def saved_and_closed(pilot) -> None:
    await save(pilot)
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, SettingsScreen), what="the screen to close")
    await pilot.app.workers.wait_for_complete()


async def send(pilot, text: str) -> None:
    pane = pilot.app.active_pane
    pane.prompt.focus()
    pane.prompt.insert(text)
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await wait_for(pilot, lambda: not pilot.app.active_pane.is_streaming, what="the reply to end")
    await pilot.pause()


# ---------------------------------------------------------------------------
# Opening, showing


async def test_f2_opens_with_the_current_settings(make_app, tmp_path):
    settings = Settings(default_model="gpt-4.1", system_prompt="Be terse.", stream=False, connect_timeout=5,
                        read_timeout=90, params=ChatParams(temperature=0.7, max_tokens=512, stop=["###", "\n\n"]))
    app = make_app(settings=settings)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        assert screen.query_one("#default_model", Input).value == "gpt-4.1"
        assert screen.query_one("#system_prompt", TextArea).text == "Be terse."
        assert screen.query_one("#param-temperature", Input).value == "0.7"
        assert screen.query_one("#param-max_tokens", Input).value == "512"
        assert screen.query_one("#param-top_p", Input).value == ""  # unset
        assert screen.query_one("#param-top_p", Input).placeholder == "server default"
        assert [screen.query_one(f"#param-stop-{i}", Input).value for i in range(4)] == ["###", "\\n\\n", "", ""]
        assert screen.query_one("#stream", Switch).value is False
        assert screen.query_one("#connect_timeout", Input).value == "5"
        assert screen.query_one("#read_timeout", Input).value == "90"
        text = screen_text(app)
        assert "Settings" in text and str(config_file(tmp_path)) in text
        assert "Temperature" in text
        # The form is taller than the screen: what lies below is reached by scrolling.
        screen.query_one("#stream", Switch).scroll_visible(animate=False, immediate=True)
        await pilot.pause()
        text = screen_text(app)
        assert "Stop sequences" in text and "off: each answer appears whole" in text
        screen.query_one("#theme").scroll_visible(animate=False, immediate=True)
        await pilot.pause()
        assert "Theme" in screen_text(app)


async def test_palette_entries_open_both_settings(make_app):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        for entry, screen_class in (("Settings", "SettingsScreen"), ("Chat settings", "ChatSettingsDialog")):
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="the palette")
            for character in entry:
                await pilot.press(character)
            await wait_for(pilot, lambda: entry in screen_text(app), what=f"the {entry!r} entry")
            await pilot.press("enter")
            await wait_for(pilot, lambda: type(app.screen).__name__ == screen_class, what=screen_class)
            await pilot.press("escape")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "ConversationScreen", what="the chat")


async def test_f2_does_not_stack_a_second_settings_screen(make_app):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_settings(pilot)
        await pilot.press("f2", "f9")
        await pilot.pause()
        assert sum(isinstance(s, SettingsScreen) for s in app.screen_stack) == 1
        assert isinstance(app.screen, SettingsScreen)


# ---------------------------------------------------------------------------
# The key


async def test_env_key_is_masked_shown_with_its_source_and_not_written(make_app, tmp_path):
    secret = "test-key"
    app = make_app(key=None, STIMA_API_KEY=secret)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        field = screen.query_one("#api_key", Input)
        assert field.password is True and field.value == secret
        text = screen_text(app)
        assert "from STIMA_API_KEY" in text
        assert secret not in text  # masked
        await type_into(pilot, "param-temperature", "0.5")
        await saved_and_closed(pilot)
    saved = read_config(tmp_path)
    assert "api_key" not in saved
    assert secret not in config_file(tmp_path).read_text()
    assert saved["params"]["temperature"] == 0.5
    assert (app.api_key, app.api_key_source) == (secret, "STIMA_API_KEY")


async def test_ctrl_r_reveals_the_key_and_hides_it_again(make_app):
    app = make_app(key="test-key")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        assert "test-key" not in screen_text(app)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "test-key" in screen_text(app), what="the key shown")
        assert "from APERTIS_API_KEY" in screen_text(app)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "test-key" not in screen_text(app), what="the key hidden")
        assert not screen.changed  # revealing is not an edit


async def test_typed_key_is_written_and_used_at_once(make_app, tmp_path, fake_server):
    app = make_app(key="wrong-key")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_settings(pilot)
        await type_into(pilot, "api_key", "test-key")
        await saved_and_closed(pilot)
        assert read_config(tmp_path)["api_key"] == "test-key"
        assert app.api_key == "test-key" and app.api_key_source == "config"
        # Told that the environment comes first at the next start.
        await wait_for(pilot, lambda: "APERTIS_API_KEY" in notices(app), what="the notice")
        await send(pilot, "hello")
        answer = app.store.messages(app.active_pane.chat.id)[-1]
        assert answer.status == "complete"
    assert fake_server.chat_requests[-1]["headers"]["authorization"] == "Bearer test-key"
    assert stat.S_IMODE(os.stat(config_file(tmp_path)).st_mode) == 0o600


async def test_key_with_spaces_is_refused(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        await type_into(pilot, "api_key", "sk abc")
        assert note_is_error(screen, "api_key")
        assert "without spaces" in note(screen, "api_key")
        assert "sk abc" not in note(screen, "api_key")
        await save(pilot)
        assert isinstance(app.screen, SettingsScreen)
        assert not config_file(tmp_path).exists()


# ---------------------------------------------------------------------------
# Validation, field by field


@pytest.mark.parametrize(
    ("field", "name", "bad", "sentence", "good"),
    [
        ("param-temperature", "temperature", "2.5", "Temperature must be a number from 0 to 2", "0.3"),
        ("param-temperature", "temperature", "warm", "Temperature must be a number from 0 to 2", "2"),
        ("param-top_p", "top_p", "1.5", "Top p must be a number from 0 to 1", "0.9"),
        ("param-max_tokens", "max_tokens", "0", "Max tokens must be a whole number greater than 0", "256"),
        ("param-max_tokens", "max_tokens", "2.5", "Max tokens must be a whole number greater than 0", "2"),
        ("param-frequency_penalty", "frequency_penalty", "-3", "Frequency penalty must be a number from -2 to 2",
         "-2"),
        ("param-presence_penalty", "presence_penalty", "9", "Presence penalty must be a number from -2 to 2", "1"),
        ("connect_timeout", "connect_timeout", "0", "The connect timeout must be a number of seconds greater than 0",
         "3"),
        ("read_timeout", "read_timeout", "never", "The read timeout must be a number of seconds greater than 0",
         "120"),
        ("base_url", "base_url", "ftp://example.com",
         "The base URL must be an http:// or https:// address, such as https://api.stima.tech/v1",
         "http://127.0.0.1:9/v1"),
    ],
)
async def test_each_field_is_checked_as_typed_and_blocks_saving(make_app, tmp_path, field, name, bad, sentence,
                                                                 good):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        await type_into(pilot, field, bad)
        assert note_is_error(screen, name), note(screen, name)
        assert note(screen, name) == sentence
        assert screen.query_one(f"#row-{name}").has_class("-invalid")
        await save(pilot)
        assert isinstance(app.screen, SettingsScreen)  # refused
        assert app.screen.focused is screen.query_one(f"#{field}", Input)  # taken to the problem
        await wait_for(pilot, lambda: f"Not saved: {sentence}." in notices(app), what="the refusal")
        assert not config_file(tmp_path).exists()
        await type_into(pilot, field, good)
        assert not note_is_error(screen, name)
        assert note(screen, name) != sentence  # the hint is back
        await saved_and_closed(pilot)
    assert config_file(tmp_path).exists()


async def test_empty_parameter_means_unset_and_is_not_sent(make_app, tmp_path, fake_server):
    settings = Settings(params=ChatParams(temperature=0.7, top_p=0.5))
    app = make_app(settings=settings)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_settings(pilot)
        await type_into(pilot, "param-temperature", "")
        await saved_and_closed(pilot)
        assert app.settings.params.temperature is None
        await send(pilot, "hi")
    saved = read_config(tmp_path)
    assert "temperature" not in saved["params"] and saved["params"]["top_p"] == 0.5
    body = fake_server.chat_requests[-1]["json"]
    assert "temperature" not in body and body["top_p"] == 0.5


# ---------------------------------------------------------------------------
# Saving


async def test_save_round_trip_keeps_unknown_keys_and_is_private(make_app, tmp_path, fake_server):
    path = config_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(
        'default_model = "gpt-4o"\n'
        'future_option = "keep me"\n'
        '[params]\nseed = 42\n'
        '[ui]\nwide = true\n',
        encoding="utf-8",
    )
    os.chmod(path, 0o644)
    app = make_app(settings=load_settings(path))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        await type_into(pilot, "default_model", "gpt-4.1-mini")
        screen.query_one("#system_prompt", TextArea).text = "You are terse.\nAnswer in French."
        await type_into(pilot, "param-temperature", "0.3")
        await type_into(pilot, "param-top_p", "0.9")
        await type_into(pilot, "param-max_tokens", "300")
        await type_into(pilot, "param-frequency_penalty", "0.5")
        await type_into(pilot, "param-presence_penalty", "-0.5")
        await type_into(pilot, "param-stop-0", "###")
        await type_into(pilot, "param-stop-1", "\\n\\n")
        await type_into(pilot, "connect_timeout", "4")
        await type_into(pilot, "read_timeout", "30")
        screen.query_one("#stream", Switch).focus()
        await pilot.press("space")
        await saved_and_closed(pilot)
        await wait_for(pilot, lambda: f"Settings saved to {path}" in notices(app), what="the notice")
    data = tomllib.loads(path.read_text("utf-8"))
    assert data["default_model"] == "gpt-4.1-mini"
    assert data["system_prompt"] == "You are terse.\nAnswer in French."
    assert data["params"] == {"seed": 42, "temperature": 0.3, "top_p": 0.9, "max_tokens": 300,
                              "frequency_penalty": 0.5, "presence_penalty": -0.5, "stop": ["###", "\n\n"]}
    assert data["stream"] is False
    assert data["timeouts"] == {"connect": 4.0, "read": 30.0}
    assert data["future_option"] == "keep me" and data["ui"] == {"wide": True}
    assert "api_key" not in data and "base_url" not in data
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # What was saved is what the app now uses, and loads back the same.
    assert load_settings(path) == app.settings
    assert app.client.timeouts.connect == 4.0 and app.client.timeouts.read == 30.0


async def test_saved_temperature_reaches_the_next_request(make_app, tmp_path, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await send(pilot, "before")
        await open_settings(pilot)
        await type_into(pilot, "param-temperature", "0.3")
        await saved_and_closed(pilot)
        await send(pilot, "after")
    assert read_config(tmp_path)["params"]["temperature"] == 0.3
    before, after = fake_server.chat_requests[-2:]
    assert "temperature" not in before["json"]
    assert after["json"]["temperature"] == 0.3


async def test_stream_off_asks_for_the_whole_answer(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        screen.query_one("#stream", Switch).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "off: each answer appears whole" in screen_text(app), what="the hint")
        await saved_and_closed(pilot)
        await send(pilot, "hello")
        answer = app.store.messages(app.active_pane.chat.id)[-1]
        assert answer.status == "complete" and "gpt-4o" in answer.content
    assert fake_server.chat_requests[-1]["json"]["stream"] is False


async def test_base_url_from_the_command_line_is_not_written(make_app, tmp_path, fake_server):
    app = make_app()  # the fake server's URL comes in as if from --base-url
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        assert screen.query_one("#base_url", Input).value == ""
        assert note(screen, "base_url") == f"now {fake_server.base_url} (from --base-url)"
        await type_into(pilot, "param-temperature", "1")
        await saved_and_closed(pilot)
        assert app.base_url == fake_server.base_url
    assert "base_url" not in read_config(tmp_path)


async def test_base_url_from_the_environment_is_named(make_app, fake_server):
    app = make_app(APERTIS_BASE_URL=fake_server.base_url + "/")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        assert note(screen, "base_url") == f"now {fake_server.base_url} (from APERTIS_BASE_URL)"


async def test_edited_base_url_is_saved_and_used(make_app, tmp_path, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_settings(pilot)
        await type_into(pilot, "base_url", fake_server.base_url + "/")
        await saved_and_closed(pilot)
        assert app.client.base_url == fake_server.base_url
    assert read_config(tmp_path)["base_url"] == fake_server.base_url


async def test_default_model_is_used_for_new_chats(make_app, tmp_path):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_settings(pilot)
        await type_into(pilot, "default_model", "gpt-4.1")
        await saved_and_closed(pilot)
        assert app.default_model == "gpt-4.1"
    assert read_config(tmp_path)["default_model"] == "gpt-4.1"


async def test_save_error_is_a_sentence_and_the_screen_stays(make_app, tmp_path):
    config_file(tmp_path).parent.write_text("a file where the settings folder should be")
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_settings(pilot)
        await type_into(pilot, "param-temperature", "1")
        await save(pilot)
        await pilot.app.workers.wait_for_complete()
        await wait_for(pilot, lambda: "Not saved: The settings could not be saved" in notices(app),
                       what="the error")
        assert isinstance(app.screen, SettingsScreen)
        assert app.settings.params.temperature is None  # nothing applied


# ---------------------------------------------------------------------------
# A settings file that did not load


async def test_invalid_file_is_replaced_only_after_asking_and_kept_as_bak(make_app, tmp_path):
    path = config_file(tmp_path)
    path.parent.mkdir(parents=True)
    broken = 'api_key = "sk-old"\n[params\ntemperature = 0.2\n'
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError) as problem:
        load_settings(path)
    app = make_app(config_error=problem.value)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: "Settings not loaded" in notices(app), what="the startup notice")
        await open_settings(pilot)
        assert "did not load at startup" in screen_text(app)
        await type_into(pilot, "param-temperature", "0.4")
        # First time: cancel. Nothing is written.
        await save(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        assert "not valid TOML" in screen_text(app) and "config.toml.bak" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), what="back to the settings")
        assert path.read_text("utf-8") == broken
        assert not path.with_name("config.toml.bak").exists()
        # Second time: replace it.
        await save(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await pilot.press("tab", "enter")  # from "Cancel" back to "Replace it"
        await wait_for(pilot, lambda: not isinstance(app.screen, (ConfirmDialog, SettingsScreen)),
                       what="the screens to close")
        await pilot.app.workers.wait_for_complete()
        assert app.startup.config_error is None
    assert path.with_name("config.toml.bak").read_text("utf-8") == broken
    assert load_settings(path).params.temperature == 0.4


async def test_file_broken_after_startup_is_also_asked_about(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        path = config_file(tmp_path)
        path.parent.mkdir(parents=True)
        path.write_text("stream = 'yes'\n", encoding="utf-8")  # the wrong type
        await open_settings(pilot)
        await type_into(pilot, "param-temperature", "1")
        await save(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        assert "stream must be true or false" in screen_text(app)


# ---------------------------------------------------------------------------
# Leaving


async def test_escape_without_changes_leaves_at_once(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_settings(pilot)
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConversationScreen", what="the chat")
    assert not config_file(tmp_path).exists()


async def test_escape_with_changes_asks_first(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        await type_into(pilot, "param-temperature", "1.2")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        assert "without saving" in screen_text(app)
        await pilot.press("enter")  # "Keep editing" has the focus
        await wait_for(pilot, lambda: app.screen is screen, what="back to the settings")
        assert screen.query_one("#param-temperature", Input).value == "1.2"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConversationScreen", what="the chat")
        assert app.settings.params.temperature is None
    assert not config_file(tmp_path).exists()


# ---------------------------------------------------------------------------
# Theme


async def test_theme_is_previewed_live_restored_on_escape_and_saved(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        assert app.theme == "textual-dark"
        screen = await open_settings(pilot)
        themes = screen.query_one("#theme", OptionList)
        themes.focus()
        await pilot.press("down")
        await wait_for(pilot, lambda: app.theme == "textual-light", what="the preview")
        await pilot.press("down")
        await wait_for(pilot, lambda: app.theme == "nord", what="the next preview")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConversationScreen", what="the chat")
        assert app.theme == "textual-dark"  # put back

        screen = await open_settings(pilot)
        screen.query_one("#theme", OptionList).focus()
        await pilot.press("down", "down", "down")
        await wait_for(pilot, lambda: app.theme == "gruvbox", what="the preview")
        await saved_and_closed(pilot)
        assert app.theme == "gruvbox"
    assert read_config(tmp_path)["theme"] == "gruvbox"


# ---------------------------------------------------------------------------
# Test connection


async def run_connection_test(pilot, screen) -> str:
    await pilot.press("ctrl+t")
    await wait_for(pilot, lambda: not note(screen, "test").startswith(("Asking", "ctrl+t")), what="the result")
    return note(screen, "test")


async def test_test_connection_succeeds_with_the_edited_key(make_app, fake_server):
    app = make_app(key="wrong-key")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        await type_into(pilot, "api_key", "test-key")
        assert await run_connection_test(pilot, screen) == f"OK — {len(MODEL_IDS)} models"
        assert screen.query_one("#note-test", Static).has_class("-ok")
        assert "OK —" in screen_text(app)
        assert isinstance(app.screen, SettingsScreen)  # nothing saved or applied by testing
        assert app.api_key == "wrong-key"
    request = [r for r in fake_server.requests if r["path"].endswith("/models")][-1]
    assert request["headers"]["authorization"] == "Bearer test-key"


async def test_test_connection_wrong_key(make_app):
    app = make_app(key="wrong-key")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        result = await run_connection_test(pilot, screen)
        assert result.startswith("Your API key was rejected (401).")
        assert screen.query_one("#note-test", Static).has_class("-error")
        assert "wrong-key" not in screen_text(app)


async def test_test_connection_no_key(make_app):
    app = make_app(key="test-key")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        await type_into(pilot, "api_key", "")
        assert (await run_connection_test(pilot, screen)).startswith("No API key is set.")


async def test_test_connection_wrong_path(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        await type_into(pilot, "base_url", fake_server.base_url.removesuffix("/v1"))
        result = await run_connection_test(pilot, screen)
        assert "has no model list at this base URL (404)" in result


async def test_test_connection_nobody_listening(make_app):
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        await type_into(pilot, "base_url", f"http://127.0.0.1:{port}/v1")
        assert (await run_connection_test(pilot, screen)).startswith(f"Could not reach 127.0.0.1:{port}")


async def test_test_connection_silent_server_times_out(make_app):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        app = make_app()
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            screen = await open_settings(pilot)
            await type_into(pilot, "base_url", f"http://127.0.0.1:{port}/v1")
            await type_into(pilot, "read_timeout", "0.3")
            result = await run_connection_test(pilot, screen)
            assert result.startswith(f"127.0.0.1:{port} went silent for 0.3 s")


async def test_test_connection_refuses_an_invalid_field(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        await type_into(pilot, "base_url", "not a url")
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert note(screen, "test").startswith("Fix this first: The base URL must be")
    assert not [r for r in fake_server.requests if r["path"].endswith("/models")]


async def test_test_connection_button(make_app):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_settings(pilot)
        screen.query_one("#test-connection").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: note(screen, "test").startswith("OK —"), what="the result")


# ---------------------------------------------------------------------------
# Applying while an answer streams


async def test_saving_a_new_timeout_mid_answer_does_not_cut_it(make_app, fake_server):
    fake_server.rate = 20  # tokens/s, so the answer is still arriving while the settings are saved
    app = make_app(model="test/long")
    async with app.run_test(size=SIZE) as pilot:
        pane = app.active_pane
        pane.prompt.insert("tokens=2000")
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.is_streaming and len(pane.messages.views) == 2
                       and pane.messages.views[-1].text, what="the answer to begin")
        old_client = app.client
        await open_settings(pilot)
        await type_into(pilot, "read_timeout", "45")
        await save(pilot)
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen), what="the screen to close")
        assert app.client is not old_client and app.client.timeouts.read == 45.0
        assert not old_client._http.is_closed  # still carrying the answer
        assert pane.is_streaming, "the answer ended before the save: the test proves nothing"
        fake_server.rate = 0  # the rest at once
        await app.workers.wait_for_complete()
        answer = app.store.messages(pane.chat.id)[-1]
        assert answer.status == "complete", answer.error
        assert old_client._http.is_closed  # closed once the answer no longer needed it


# ---------------------------------------------------------------------------
# The model picker for the default model


async def test_ctrl_o_picks_the_default_model(make_app, tmp_path):
    from apertis_tui.ui.screens.model_picker import ModelPicker

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPicker), what="the model picker")
        await pilot.press(*"claude-opus-4")
        await wait_for(pilot, lambda: "claude-opus-4-20250514" in screen_text(app), what="the match")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen, what="back to the settings")
        assert screen.query_one("#default_model", Input).value == "claude-opus-4-20250514"
        assert app.active_pane.model == "gpt-4o"  # the open chat keeps its model
        await saved_and_closed(pilot)
    assert read_config(tmp_path)["default_model"] == "claude-opus-4-20250514"
