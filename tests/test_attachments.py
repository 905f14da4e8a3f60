"""Attachments in the real app (Pilot) against the fake server on a real socket: what the
request carries, what is stored and shown, and every failure as a sentence with the prompt kept.
Images are made with Pillow at test time."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import pane, reply_done, screen_text, wait_for

SIZE = (120, 40)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The folder the app is started in, with a photo, a text file, a binary and a project."""
    folder = tmp_path / "work"
    (folder / "proj" / "src").mkdir(parents=True)
    base = Image.linear_gradient("L").resize((4032, 3024)).convert("RGB")
    Image.blend(base, Image.effect_noise((4032, 3024), 30).convert("RGB"), 0.3).save(folder / "photo.jpg", quality=90)
    Image.new("RGB", (640, 400), "navy").save(folder / "shot.png")
    (folder / "notes.md").write_text("# Notes\nthe word is zucchini\n")
    (folder / "blob.bin").write_bytes(b"\x00\x01\x02\x03 binary")
    (folder / "proj" / ".gitignore").write_text("*.log\n")
    (folder / "proj" / "README.md").write_text("# Proj\n")
    (folder / "proj" / "debug.log").write_text("secret log line\n")
    (folder / "proj" / "src" / "main.py").write_text("print('hi')\n")
    (folder / "proj" / "src" / "icon.bin").write_bytes(b"\x00binary")
    return folder


def started(make_app, work: Path, **kwargs):
    app = make_app(**kwargs)
    app.startup.cwd = work
    return app


def notices(app) -> str:
    return " | ".join(n.message for n in app._notifications)


def message_text(app, index: int) -> str:
    """What the chat in front shows of its ``index``-th message, scrolled into view or not."""
    view = pane(app).messages.views[index]
    return "\n".join(strip.text for strip in view.lines_at(view.size.width or 110))


def image_sizes(content) -> list[tuple[int, int]]:
    """The decoded sizes of a request message's image_url data URIs."""
    sizes = []
    for part in content if isinstance(content, list) else []:
        if part.get("type") == "image_url":
            data = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
            sizes.append(Image.open(io.BytesIO(data)).size)
    return sizes


async def type_and_send(pilot, text: str) -> None:
    prompt = pane(pilot.app).prompt
    prompt.focus()
    prompt.insert(text)
    await pilot.press("enter")


async def ask(pilot, server, text: str) -> list[dict]:
    """Type ``text`` and press enter; wait for the request it makes and for the answer to end.
    The request's messages."""
    before = len(server.chat_requests)
    await type_and_send(pilot, text)
    await wait_for(pilot, lambda: len(server.chat_requests) > before, what="the request")
    await reply_done(pilot)
    return server.chat_requests[-1]["json"]["messages"]


async def test_an_image_mentioned_is_sent_scaled_as_a_data_uri(make_app, fake_server, work):
    app = started(make_app, work, model="test/vision")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ask(pilot, fake_server, "What is in @photo.jpg ?")
        content = fake_server.chat_requests[-1]["json"]["messages"][-1]["content"]
        assert content[0] == {"type": "text", "text": "What is in @photo.jpg ?"}
        assert content[1] == {"type": "text", "text": "photo.jpg:"}
        assert content[2]["image_url"]["url"].startswith("data:image/jpeg;base64,")
        assert image_sizes(content) == [(2016, 1512)]  # scaled: 4032×3024 halved
        text = screen_text(app)
        assert "Images: 1 (2016×1512 image/jpeg)" in text  # the model got it
        assert "photo.jpg · image 4032×3024 → 2016×1512" in message_text(app, 0)  # what was sent
        assert pane(app).prompt.text == ""
        stored = app.store.messages(pane(app).chat.id)[0]
        assert stored.content == "What is in @photo.jpg ?" and stored.attachments[0].note == "4032×3024 → 2016×1512"


async def test_a_text_file_and_a_folder_are_sent_as_fenced_text(make_app, fake_server, work):
    app = started(make_app, work, model="gpt-4o")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ask(pilot, fake_server, "Read @notes.md and @proj/ please")
        content = fake_server.chat_requests[-1]["json"]["messages"][-1]["content"]
        assert isinstance(content, str)  # no image: one string, as every server takes
        assert content.startswith("Read @notes.md and @proj/ please\n\nnotes.md:\n```markdown\n# Notes\n"
                                  "the word is zucchini\n```\n\nFolder proj/ (3 files, 1 left out):\nproj/\n"
                                  "├── .gitignore\n├── README.md\n└── src/\n    ├── icon.bin  (binary, left out)\n"
                                  "    └── main.py\n")  # the tree first; debug.log ignored by .gitignore
        assert "proj/src/main.py:\n```python\nprint('hi')\n```" in content
        assert "secret log line" not in content and "binary" not in content.split("main.py\n", 1)[1]
        text = message_text(app, 0)
        assert "notes.md · text, 2 lines" in text and "proj/ · folder: 3 files, 1 left out" in text
        # The history search finds what was typed, not the files' contents (the fake model's
        # answer echoes all it got, so it is found there).
        question = pane(app).messages.views[0].message
        assert question.id not in {hit.message_id for hit in app.store.search("zucchini")}


async def test_a_binary_file_is_refused_and_the_prompt_kept(make_app, fake_server, work):
    app = started(make_app, work)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await type_and_send(pilot, "What is @blob.bin ?")
        await wait_for(pilot, lambda: "is a binary file" in notices(app), what="the sentence")
        await pilot.pause()
        assert "blob.bin is a binary file: only text files, folders and images (PNG, JPEG, WebP, GIF) can be " \
               "attached. The prompt is unchanged." in notices(app)
        assert pane(app).prompt.text == "What is @blob.bin ?"
        assert fake_server.chat_requests == [] and pane(app).chat is None
        assert not pane(app).has_attachments and not pane(app)._send_when_ready


async def test_an_earlier_image_is_sent_again_after_a_restart(make_app, fake_server, work, tmp_path):
    session = tmp_path / "session.json"
    app = started(make_app, work, model="test/vision", session=session)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ask(pilot, fake_server, "Look at @shot.png")
        app.remember_session()
    again = started(make_app, work, model="test/vision", session=session)
    async with again.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: pane(again).chat is not None and pane(again).messages.views, what="the chat")
        assert "shot.png · image 640×400" in message_text(again, 0)  # its chip, from the history
        await ask(pilot, fake_server, "And what colour was it?")
        messages = fake_server.chat_requests[-1]["json"]["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant", "user"]
        assert image_sizes(messages[0]["content"]) == [(640, 400)]
        assert messages[2]["content"] == "And what colour was it?"
        assert "Images: 0. Earlier images: 1." in screen_text(again)


async def test_the_same_image_twice_is_stored_once(make_app, fake_server, work):
    (work / "copy.png").write_bytes((work / "shot.png").read_bytes())
    app = started(make_app, work)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ask(pilot, fake_server, "One @shot.png")
        await ask(pilot, fake_server, "Two @copy.png")
        assert app.store.stored_attachments() == 1
        names = [[a.name for a in m.attachments] for m in app.store.messages(pane(app).chat.id) if m.role == "user"]
        assert names == [["shot.png"], ["copy.png"]]


async def test_a_model_that_refuses_images_says_so_and_offers_ctrl_o(make_app, fake_server, work):
    app = started(make_app, work, model="test/no-vision")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await type_and_send(pilot, "What is @shot.png ?")
        await wait_for(pilot, lambda: "test/no-vision does not take images. Pick a model that does, and" in
                       screen_text(app), what="the offer")
        assert type(app.screen).__name__ == "ConfirmDialog" and "Pick a model (ctrl+o)" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ModelPicker", what="the picker")
        for key in "test/vision":
            await pilot.press(key)
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(fake_server.chat_requests) == 2, what="the request again")
        await reply_done(pilot)
        first = app.store.messages(pane(app).chat.id)[1]
        assert first.status == "error" and first.error.startswith(
            "test/no-vision does not take images (400: Invalid content type. image_url is only supported by certain "
            "models.). Pick a model that does with ctrl+o, then ctrl+g;")
        assert pane(app).model == "test/vision"
        assert "Images: 1 (640×400 image/png)" in screen_text(app)


async def test_a_request_over_the_servers_limit_is_a_413_sentence(make_app, fake_server, work):
    fake_server.max_body = 200_000
    app = started(make_app, work, model="test/vision")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await type_and_send(pilot, "@photo.jpg")
        await wait_for(pilot, lambda: fake_server.requests, what="the request")
        await reply_done(pilot)
        reply = app.store.messages(pane(app).chat.id)[1]
        assert reply.status == "error" and reply.error.startswith(
            f"The request is larger than 127.0.0.1:{fake_server.port} accepts (413). Attachments on this branch are "
            "sent again with every turn")
        assert "(413)" in screen_text(app)


async def test_at_completion_lists_files_and_folders_and_tab_completes(make_app, fake_server, work):
    app = started(make_app, work)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        prompt = pane(app).prompt
        prompt.focus()
        for key in ["s", "e", "e", "space", "@", "p"]:
            await pilot.press(key)
        completion = pane(app).completion
        await wait_for(pilot, lambda: completion.shown and completion.rows, what="the list")
        assert [c.name for c in completion.rows] == ["photo.jpg", "proj/"]
        assert "photo.jpg  image, " in screen_text(app) and "proj/  folder" in screen_text(app)
        await pilot.press("down", "tab")  # proj/: completed, and its entries listed
        assert prompt.text == "see @proj/"
        await wait_for(pilot, lambda: [c.name for c in completion.rows] == [".gitignore", "debug.log", "README.md",
                                                                              "src/"][1:], what="its entries")
        await pilot.press("r", "tab")  # README.md: a file, attached at once
        assert prompt.text == "see @proj/README.md "
        await wait_for(pilot, lambda: pane(app).tray.ready, what="the attachment")
        assert not completion.shown and "proj/README.md · text, 1 line" in screen_text(app)
        await pilot.press("@", "n", "o")
        await wait_for(pilot, lambda: completion.shown, what="the list again")
        await pilot.press("escape")  # closes the list, keeps the text
        assert not completion.shown and prompt.text == "see @proj/README.md @no"
        await pilot.press("tab")  # no list: tab moves on, as before
        assert not prompt.has_focus


async def test_ctrl_l_lists_the_attachments_and_delete_removes_one(make_app, fake_server, work):
    app = started(make_app, work)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        chat = pane(app)
        chat.attach_path(work / "notes.md")
        chat.attach_path(work / "shot.png")
        await wait_for(pilot, lambda: len(chat.tray.ready) == 2, what="both ready")
        chat.prompt.focus()
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AttachmentsDialog", what="the list")
        text = screen_text(app)
        assert "notes.md  text, 2 lines" in text and "shot.png  image 640×400" in text
        await pilot.press("enter")  # no image protocol in a test terminal: what it is, and its size
        await wait_for(pilot, lambda: "notes.md: text, 2 lines" in notices(app), what="the preview's sentence")
        await pilot.press("delete")
        await wait_for(pilot, lambda: [i.name for i in chat.tray.items] == ["shot.png"], what="the removal")
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConversationScreen", what="the chat")
        await ask(pilot, fake_server, "only the image")
        content = fake_server.chat_requests[-1]["json"]["messages"][-1]["content"]
        assert content[0]["text"] == "only the image" and image_sizes(content) == [(640, 400)]
        assert not chat.has_attachments


async def test_a_pasted_path_is_attached(make_app, fake_server, work):
    from textual import events

    app = started(make_app, work)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        chat = pane(app)
        chat.prompt.focus()
        chat.prompt.insert("Here: ")
        app.post_message(events.Paste(f"'{work / 'shot.png'}'"))  # as a terminal pastes a dropped file
        await wait_for(pilot, lambda: chat.has_attachments and chat.tray.ready, what="the attachment")
        assert chat.prompt.text == "Here: "  # the path is not typed in
        assert "Attached shot.png (a pasted path)" in notices(app)
        app.post_message(events.Paste("just some words"))  # (the app hands it to the focused widget)
        await wait_for(pilot, lambda: chat.prompt.text == "Here: just some words", what="an ordinary paste")
        chat.prompt.clear()
        await pilot.press("enter")  # an attachment alone is a message
        await wait_for(pilot, lambda: fake_server.chat_requests, what="the request")
        await reply_done(pilot)
        assert chat.chat.title == "shot.png"
        assert image_sizes(fake_server.chat_requests[-1]["json"]["messages"][-1]["content"]) == [(640, 400)]


async def test_editing_a_message_keeps_its_attachments(make_app, fake_server, work):
    app = started(make_app, work, model="test/vision")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ask(pilot, fake_server, "Look @shot.png")
        chat = pane(app)
        await pilot.press("ctrl+up", "up", "e")
        await wait_for(pilot, lambda: chat.editing is not None, what="editing")
        assert [i.name for i in chat.tray.items] == ["shot.png"]
        chat.prompt.insert(" closely")
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(fake_server.chat_requests) == 2, what="the new version")
        await reply_done(pilot)
        assert image_sizes(fake_server.chat_requests[-1]["json"]["messages"][-1]["content"]) == [(640, 400)]
        assert app.store.stored_attachments() == 1 and not chat.has_attachments


async def test_export_carries_the_attachments(make_app, fake_server, work, tmp_path):
    import json

    from apertis_tui.core.store.export import export_to_file

    app = started(make_app, work, model="test/vision")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ask(pilot, fake_server, "Look @shot.png @notes.md")
        chat_id = pane(app).chat.id
    record = json.loads(export_to_file(app.store, chat_id, "json", tmp_path / "out" / "chat.json"
                                       if (tmp_path / "out").mkdir() is None else None).read_text())
    attached = record["messages"][0]["attachments"]
    assert [(a["name"], a["kind"]) for a in attached] == [("shot.png", "image"), ("notes.md", "text")]
    image = record["attachments"][attached[0]["sha256"]]
    assert Image.open(io.BytesIO(base64.b64decode(image["data"]))).size == (640, 400)
    assert base64.b64decode(record["attachments"][attached[1]["sha256"]]["data"]) == (work / "notes.md").read_bytes()
    markdown = export_to_file(app.store, chat_id, "md", tmp_path / "out" / "chat.md")
    text = markdown.read_text()
    shot, notes = (f"chat.files/{a['sha256'][:8]}-{name}" for a, name in zip(attached, ("shot.png", "notes.md")))
    assert f"- [shot.png](<{shot}>) (image 640×400, " in text and f"- [notes.md](<{notes}>) (text, 2 lines, " in text
    assert (tmp_path / "out" / shot).read_bytes() == (work / "shot.png").read_bytes()
    assert (tmp_path / "out" / notes).read_bytes() == (work / "notes.md").read_bytes()


async def test_the_limits_are_settings_checked_as_typed_and_used_at_once(make_app, fake_server, work, tmp_path):
    import tomllib

    from textual.widgets import Input

    from apertis_tui.ui.screens.settings import SettingsScreen
    from tests.test_settings_screen import config_file, note, note_is_error, open_settings, type_into

    app = started(make_app, work, model="test/vision")
    async with app.run_test(size=(140, 50), notifications=True) as pilot:
        screen = await open_settings(pilot)
        assert [screen.query_one(f"#attach-{n}", Input).value for n in ("image_max_side", "image_max_mb",
                                                                          "text_max_kb")] == ["2048", "4", "200"]
        await type_into(pilot, "attach-text_max_kb", "lots")
        assert note_is_error(screen, "text_max_kb")
        assert note(screen, "text_max_kb") == "The text limit must be a whole number from 1 to 102400"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen) and app.screen.focused.id == "attach-text_max_kb"
        await type_into(pilot, "attach-text_max_kb", "")  # empty: the default
        await type_into(pilot, "attach-image_max_side", "1024")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen), what="saved")
        assert tomllib.loads(config_file(tmp_path).read_text())["attachments"] == {"image_max_side": 1024}
        assert app.settings.attachments.image_max_side == 1024
        await ask(pilot, fake_server, "@photo.jpg")
        # Reduced in the decoder to a quarter (1008 is within 10 % under 1024).
        assert image_sizes(fake_server.chat_requests[-1]["json"]["messages"][-1]["content"]) == [(1008, 756)]


async def test_enter_while_preparing_sends_when_ready_and_escape_holds_it(make_app, fake_server, work, monkeypatch):
    import threading

    from apertis_tui.core.attachments import prepare as preparing

    release = threading.Event()
    original = preparing.prepare

    def slow(*args, **kwargs):  # a big file on a slow disk: ready when the test says so
        release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(preparing, "prepare", slow)
    app = started(make_app, work)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        chat = pane(app)
        await type_and_send(pilot, "Summarise @notes.md")
        await wait_for(pilot, lambda: "preparing · notes.md · sent when ready · esc: not now" in screen_text(app),
                       what="the status")
        assert not chat.completing  # (the list of paths went with enter: escape is "not now")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not chat._send_when_ready, what="the send held")
        assert chat.prompt.text == "Summarise @notes.md"
        release.set()
        await wait_for(pilot, lambda: chat.tray.ready, what="the attachment ready")
        await pilot.pause(0.2)
        assert fake_server.chat_requests == []  # held
        release.clear()
        await pilot.press("enter")  # now: ready already, sent at once
        await wait_for(pilot, lambda: fake_server.chat_requests, what="the request")
        await reply_done(pilot)
        assert "notes.md:\n```markdown\n" in fake_server.chat_requests[-1]["json"]["messages"][-1]["content"]


async def test_a_preview_in_an_image_terminal_reads_the_image(make_app, fake_server, work, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-kitty")
    monkeypatch.delenv("TMUX", raising=False)
    app = started(make_app, work)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        chat = pane(app)
        chat.attach_path(work / "shot.png")
        await wait_for(pilot, lambda: chat.tray.ready, what="ready")
        chat.prompt.focus()
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AttachmentsDialog", what="the list")
        await pilot.press("enter")
        # Headless, the app cannot hand the terminal over (suspend): it says what the image is instead.
        await wait_for(pilot, lambda: "shot.png: image 640×400" in notices(app), what="the preview's fallback")


async def test_the_palette_starts_a_mention_and_lists_the_attachments(make_app, fake_server, work):
    app = started(make_app, work)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        chat = pane(app)
        for entry, done in (("Attachments of the prompt", lambda: "The prompt has no attachments" in notices(app)),
                            ("Attach a file or folder", lambda: chat.prompt.text == "@" and chat.completing)):
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="the palette")
            await pilot.press(*entry)
            await wait_for(pilot, lambda: entry in screen_text(app), what=f"the {entry!r} entry")
            await pilot.press("enter")
            await wait_for(pilot, done, what=entry)
        assert [c.name for c in chat.completion.rows][:2] == ["blob.bin", "notes.md"]
