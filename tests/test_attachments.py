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


async def test_an_image_mentioned_is_sent_scaled_as_a_data_uri(make_app, fake_server, work):
    app = started(make_app, work, model="test/vision")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await type_and_send(pilot, "What is in @photo.jpg ?")
        await wait_for(pilot, lambda: fake_server.chat_requests, what="the request")
        await reply_done(pilot)
        content = fake_server.chat_requests[-1]["json"]["messages"][-1]["content"]
        assert content[0] == {"type": "text", "text": "What is in @photo.jpg ?"}
        assert content[1] == {"type": "text", "text": "photo.jpg:"}
        assert content[2]["image_url"]["url"].startswith("data:image/jpeg;base64,")
        assert image_sizes(content) == [(2016, 1512)]  # scaled: 4032×3024 halved
        text = screen_text(app)
        assert "Images: 1 (2016×1512 image/jpeg)" in text  # the model got it
        assert "photo.jpg · image 4032×3024 → 2016×1512" in text  # the message says what was sent
        assert pane(app).prompt.text == ""
        stored = app.store.messages(pane(app).chat.id)[0]
        assert stored.content == "What is in @photo.jpg ?" and stored.attachments[0].note == "4032×3024 → 2016×1512"
