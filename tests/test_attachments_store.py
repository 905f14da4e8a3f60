"""Attachments in the history (a real SQLite file): stored once by hash, linked in order, sent
as context on every later turn and after reopening, copied by forks, gone with their chat,
never in the full-text index."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

from apertis_tui.core.attachments.limits import AttachmentLimits
from apertis_tui.core.attachments.prepare import prepare
from apertis_tui.core.store import History


def image_file(path: Path, size=(300, 200), color="teal") -> Path:
    Image.new("RGB", size, color).save(path)
    return path


def test_a_message_with_attachments_is_stored_and_sent_on_every_later_turn(tmp_path: Path) -> None:
    image = prepare(image_file(tmp_path / "shot.png"), "shot.png", AttachmentLimits())
    (tmp_path / "notes.txt").write_text("the secret word is zucchini\n")
    text = prepare(tmp_path / "notes.txt", "notes.txt", AttachmentLimits())
    db = tmp_path / "history.db"
    with History(db) as history:
        chat = history.create_chat("gpt-4o", title="t")
        question = history.add_message(chat.id, "user", "What is this?", attachments=[image, text])
        assert [a.name for a in question.attachments] == ["shot.png", "notes.txt"]
        assert question.attachments[0] == image.info  # what is shown: no bytes
        answer = history.start_assistant(chat.id, "gpt-4o")
        history.finish_message(answer.id, content="A teal square.", status="complete")
        history.add_message(chat.id, "user", "And now?")
        # Search finds the words typed, not the files' contents.
        assert history.search("zucchini") == []
    with History(db) as history:  # a restart: the context still carries the image
        context = history.context(chat.id)
        first = context[0]["content"]
        assert first[0] == {"type": "text", "text": "What is this?\n\nnotes.txt:\n```\nthe secret word is zucchini\n```"}
        assert first[1] == {"type": "text", "text": "shot.png:"}
        url = first[2]["image_url"]["url"]
        sent = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
        assert url.startswith("data:image/png;base64,") and sent.size == (300, 200)
        assert context[1:] == [{"role": "assistant", "content": "A teal square."}, {"role": "user", "content": "And now?"}]
        path = history.path_to(history.get_chat(chat.id).current_id)
        assert [m.attachments for m in path] == [(image.info, text.info), (), ()]


def test_the_same_file_twice_is_stored_once_and_goes_with_its_last_message(tmp_path: Path) -> None:
    image = prepare(image_file(tmp_path / "shot.png"), "shot.png", AttachmentLimits())
    again = prepare(image_file(tmp_path / "copy.png"), "copy.png", AttachmentLimits())
    assert again.sha256 == image.sha256
    with History(tmp_path / "history.db") as history:
        one = history.create_chat("m", title="one")
        two = history.create_chat("m", title="two")
        history.add_message(one.id, "user", "a", attachments=[image])
        history.add_message(two.id, "user", "b", attachments=[again, image])
        assert history.stored_attachments() == 1
        assert [a.name for a in history.messages(two.id)[0].attachments] == ["copy.png", "shot.png"]
        history.delete_chat(one.id)
        assert history.stored_attachments() == 1  # still linked from chat two
        history.delete_chat(two.id)
        assert history.stored_attachments() == 0


def test_a_fork_keeps_the_attachments(tmp_path: Path) -> None:
    image = prepare(image_file(tmp_path / "shot.png"), "shot.png", AttachmentLimits())
    with History(tmp_path / "history.db") as history:
        chat = history.create_chat("m", title="t")
        question = history.add_message(chat.id, "user", "look", attachments=[image])
        fork = history.fork_chat(chat.id, question.id, "Fork of t")
        assert history.context(fork.id) == history.context(chat.id)
        history.delete_chat(chat.id)
        assert history.messages(fork.id)[0].attachments == (image.info,)
        assert isinstance(history.context(fork.id)[0]["content"], list)


def test_an_attachment_alone_is_a_message(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha\n")
    text = prepare(tmp_path / "a.txt", "a.txt", AttachmentLimits())
    with History(tmp_path / "history.db") as history:
        chat = history.create_chat("m", title="t")
        history.add_message(chat.id, "user", "", attachments=[text])
        assert history.context(chat.id) == [{"role": "user", "content": "a.txt:\n```\nalpha\n```"}]


def test_the_cli_exports_attachments_beside_markdown_and_inside_json(tmp_path: Path, capsys) -> None:
    import json

    from apertis_tui import cli

    image = prepare(image_file(tmp_path / "shot.png"), "shot.png", AttachmentLimits())
    db = tmp_path / "h.db"
    with History(db) as history:
        chat = history.create_chat("m", title="t")
        history.add_message(chat.id, "user", "look", attachments=[image])
    assert cli.main(["--db", str(db), "export", str(chat.id), "-o", str(tmp_path / "out.md")]) == 0
    written = tmp_path / "out.files" / f"{image.sha256[:8]}-shot.png"
    assert written.read_bytes() == (tmp_path / "shot.png").read_bytes()
    assert f"- [shot.png](<out.files/{written.name}>) (image 300×200, " in (tmp_path / "out.md").read_text()
    assert "Wrote its 1 attached file to" in capsys.readouterr().err
    assert cli.main(["--db", str(db), "export", str(chat.id), "--format", "md"]) == 0
    out = capsys.readouterr()
    assert "- shot.png (image 300×200, " in out.out and "not written: export to a file" in out.out
    assert "Its 1 attached file was not written: export to a file (-o FILE)" in out.err
    assert cli.main(["--db", str(db), "export", str(chat.id), "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert base64.b64decode(record["attachments"][image.sha256]["data"]) == (tmp_path / "shot.png").read_bytes()
