"""Per-chat settings (f9): stored with the chat, shown in its title bar, sent with its requests."""

from __future__ import annotations

from textual.widgets import Input, Static, TextArea

from apertis_tui.core.settings.file import Settings
from apertis_tui.core.types import ChatParams
from apertis_tui.ui.screens.chat_settings import ChatSettingsDialog
from apertis_tui.ui.screens.confirm import ConfirmDialog
from tests.conftest import screen_text, wait_for

SIZE = (140, 50)


async def open_dialog(pilot) -> ChatSettingsDialog:
    await pilot.press("f9")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ChatSettingsDialog), what="the chat settings")
    await pilot.pause()
    return pilot.app.screen


async def type_into(pilot, field_id: str, text: str) -> None:
    field = pilot.app.screen.query_one(f"#{field_id}", Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)
    await pilot.pause()


async def apply(pilot) -> None:
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, ChatSettingsDialog), what="the dialog to close")


async def send(pilot, text: str) -> None:
    pane = pilot.app.active_pane
    pane.prompt.focus()
    pane.prompt.insert(text)
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await wait_for(pilot, lambda: not pilot.app.active_pane.is_streaming, what="the reply to end")
    await pilot.pause()


def title_bar(app) -> str:
    return str(app.active_pane.query_one("#chat-title", Static).render())


def notices(app) -> str:
    return "\n".join(str(toast.render()) for toast in app.screen.query("Toast"))


async def test_own_temperature_is_stored_shown_and_sent(make_app, fake_server):
    app = make_app(settings=Settings(params=ChatParams(temperature=0.3, top_p=0.8)))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first")
        chat_id = app.active_pane.chat.id
        dialog = await open_dialog(pilot)
        temperature = dialog.query_one("#param-temperature", Input)
        assert temperature.value == "" and temperature.placeholder == "default: 0.3"
        await type_into(pilot, "param-temperature", "1.1")
        await apply(pilot)
        assert "temperature=1.1" in title_bar(app)
        assert "temperature=1.1" in screen_text(app)
        assert app.store.get_chat(chat_id).params.temperature == 1.1  # stored with the chat
        await send(pilot, "second")
    first, second = fake_server.chat_requests[-2:]
    assert (first["json"]["temperature"], first["json"]["top_p"]) == (0.3, 0.8)
    assert (second["json"]["temperature"], second["json"]["top_p"]) == (1.1, 0.8)  # own over the defaults


async def test_a_new_chat_keeps_its_settings_until_its_first_message(make_app, fake_server):
    app = make_app(settings=Settings(system_prompt="Default prompt."))
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot)
        prompt = dialog.query_one("#chat-system-prompt", TextArea)
        assert prompt.text == "Default prompt."  # what a new chat would get
        prompt.text = "You are a pirate."
        await type_into(pilot, "param-max_tokens", "64")
        await type_into(pilot, "param-stop-0", "\\n\\n")
        await apply(pilot)
        assert "max_tokens=64" in title_bar(app) and "own system prompt" in title_bar(app)
        await send(pilot, "ahoy")
        chat = app.store.get_chat(app.active_pane.chat.id)
        assert chat.system_prompt == "You are a pirate."
        assert (chat.params.max_tokens, chat.params.stop) == (64, ["\n\n"])
    body = fake_server.chat_requests[-1]["json"]
    assert body["messages"][0] == {"role": "system", "content": "You are a pirate."}
    assert body["max_tokens"] == 64 and body["stop"] == ["\n\n"]


async def test_chat_without_own_values_follows_the_defaults(make_app, fake_server):
    """Two chats: one with its own temperature, one without; each request carries the right one."""
    app = make_app(settings=Settings(params=ChatParams(temperature=0.3)))
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot)
        await type_into(pilot, "param-temperature", "0.9")
        await apply(pilot)
        await send(pilot, "own")
        await pilot.press("ctrl+n")  # a second chat, with no settings of its own
        await wait_for(pilot, lambda: app.active_pane.chat is None, what="the new chat")
        await pilot.pause()
        assert "temperature" not in title_bar(app)
        await send(pilot, "defaults")
    own, defaults = fake_server.chat_requests[-2:]
    assert own["json"]["temperature"] == 0.9
    assert defaults["json"]["temperature"] == 0.3


async def test_use_defaults_clears_the_chats_own_values(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        app.active_pane.set_chat_settings("Own.", ChatParams(temperature=1.5, presence_penalty=1.0))
        await pilot.pause()
        assert "temperature=1.5" in title_bar(app)
        dialog = await open_dialog(pilot)
        assert dialog.query_one("#param-temperature", Input).value == "1.5"
        assert dialog.query_one("#param-presence_penalty", Input).value == "1.0"
        assert dialog.query_one("#param-temperature", Input).placeholder == "server default"
        dialog.query_one("#chat-settings-defaults").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert dialog.query_one("#param-temperature", Input).value == ""
        assert dialog.query_one("#chat-system-prompt", TextArea).text == ""
        await apply(pilot)
        assert title_bar(app).count("·") == 1  # only the model: nothing of its own any more
        chat = app.store.get_chat(app.active_pane.chat.id)
        assert chat.params == ChatParams() and chat.system_prompt is None
        await send(pilot, "again")
    body = fake_server.chat_requests[-1]["json"]
    assert "temperature" not in body and "presence_penalty" not in body
    assert body["messages"][0]["role"] == "user"


async def test_invalid_value_is_refused_with_its_reason(make_app):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        dialog = await open_dialog(pilot)
        await type_into(pilot, "param-top_p", "2")
        note = dialog.query_one("#note-top_p", Static)
        assert note.has_class("-error") and str(note.render()) == "Top p must be a number from 0 to 1"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Not saved: Top p must be a number from 0 to 1." in notices(app),
                       what="the refusal")
        assert app.screen is dialog
        assert app.active_pane.own_params == ChatParams()


async def test_escape_asks_only_when_something_changed(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot)
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConversationScreen", what="the chat")

        await open_dialog(pilot)
        await type_into(pilot, "param-temperature", "0.5")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConversationScreen", what="the chat")
        assert app.active_pane.own_params == ChatParams()
        assert "temperature" not in title_bar(app)


async def test_f9_is_only_for_the_conversation(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot)
        await pilot.press("f9", "f2")
        await pilot.pause()
        assert isinstance(app.screen, ChatSettingsDialog)
        assert sum(isinstance(s, ChatSettingsDialog) for s in app.screen_stack) == 1
