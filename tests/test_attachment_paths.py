"""Paths in the prompt (core.attachments.mentions) and the terminal image protocols
(core.attachments.preview), on real folders in tmp_path."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from apertis_tui.core.attachments.mentions import (
    candidates,
    display_name,
    existing,
    mention_at,
    mentions,
    pasted_paths,
    written,
)
from apertis_tui.core.attachments.preview import fit, image_protocol, iterm_sequence, kitty_sequence


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    tmp_path = tmp_path / "work"
    (tmp_path / "src").mkdir(parents=True)
    (tmp_path / "src" / "main.py").write_text("x")
    (tmp_path / "Screenshots").mkdir()
    (tmp_path / "my photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "notes.md").write_text("n")
    (tmp_path / ".hidden").write_text("h")
    (tmp_path / "evil\x1b]0;pwned\x07.txt").write_text("e")  # never offered: it would go into the prompt as is
    return tmp_path


def test_mention_at_the_cursor() -> None:
    line = 'look at @src/ma and @"my photo.png" or mail@example.com'
    assert mention_at(line, 15).path == "src/ma"  # the cursor right after it
    assert mention_at(line, 10).start == 8
    assert mention_at(line, 5) is None
    assert mention_at(line, len('look at @src/ma and @"my ')).path == "my photo.png"  # the whole of it
    assert mention_at(line, len(line)) is None  # mail@example.com is no mention
    assert mention_at("@", 1).path == ""
    assert mention_at(r"@my\ photo.png", 13).path == "my photo.png"


def test_mentions_in_a_prompt() -> None:
    assert mentions('compare @a.py with @"b c.py", @a.py again; x@y.z @') == ["a.py", "b c.py"]
    assert written("my photo.png") == '"my photo.png"' and written("a.py") == "a.py"


def test_existing_drops_trailing_punctuation(tree: Path) -> None:
    assert existing("notes.md.", tree) == tree / "notes.md"
    assert existing("src/main.py)", tree) == tree / "src" / "main.py"
    assert existing("missing.md", tree) is None
    assert existing("~", tree) == Path.home()


def test_pasted_paths_as_terminals_paste_dropped_files(tree: Path) -> None:
    photo = tree / "my photo.png"
    assert pasted_paths(f"'{photo}'") == [photo]
    assert pasted_paths(str(photo).replace(" ", "\\ ")) == [photo]
    assert pasted_paths(f"file://{str(photo).replace(' ', '%20')}") == [photo]
    assert pasted_paths(f"{photo}\n") == [photo]  # unquoted with its space, as some terminals do
    assert pasted_paths(f"'{photo}' '{tree / 'notes.md'}'") == [photo, tree / "notes.md"]
    assert pasted_paths(f"{tree}/notes.md is where I keep them") is None  # a sentence stays text
    assert pasted_paths("notes.md") is None  # a relative name stays text
    assert pasted_paths(f"{tree}/missing.png") is None
    assert pasted_paths("file://otherhost/etc/hosts") is None
    assert pasted_paths("") is None


def test_completion_candidates(tree: Path) -> None:
    assert [c.name for c in candidates("", tree)] == ["my photo.png", "notes.md", "Screenshots/", "src/"]
    assert candidates("evil", tree) == []
    assert [c.text for c in candidates("s", tree)] == ["Screenshots/", "src/"]
    assert [c.text for c in candidates("src/", tree)] == ["src/main.py"]
    assert [(c.name, c.kind) for c in candidates("pho", tree)] == [("my photo.png", "image")]  # contains, after
    assert [c.name for c in candidates(".h", tree)] == [".hidden"]
    assert candidates("nothing/", tree) == []
    home = candidates("~/", tree)
    assert all(c.text.startswith("~/") for c in home)
    main = candidates("src/m", tree)[0]
    assert (main.is_dir, main.size, main.kind) == (False, 1, "file")


def test_display_names(tree: Path) -> None:
    assert display_name(tree / "evil\x1b]0;pwned\x07.txt", tree) == "evil]0;pwned.txt"
    assert display_name(tree / "src" / "main.py", tree) == "src/main.py"
    assert display_name(tree / "src", tree) == "src/"
    assert display_name(Path("/etc/hosts"), tree) == "hosts"


# -- preview ------------------------------------------------------------------


@pytest.mark.parametrize("env, protocol", [
    ({"TERM": "xterm-kitty"}, "kitty"),
    ({"TERM": "xterm-256color", "KITTY_WINDOW_ID": "1"}, "kitty"),
    ({"TERM_PROGRAM": "ghostty"}, "kitty"),
    ({"TERM_PROGRAM": "iTerm.app"}, "iterm"),
    ({"TERM_PROGRAM": "WezTerm"}, "iterm"),
    ({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux-0/default,1,0"}, None),
    ({"TERM": "screen-256color"}, None),
    ({"TERM": "xterm-256color"}, None),
])
def test_the_image_protocol_comes_from_the_environment(env: dict, protocol: str | None) -> None:
    assert image_protocol(env) == protocol


def test_kitty_sends_png_in_chunks() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    sequence = kitty_sequence(png, 40, 10)
    chunks = sequence.split("\x1b\\")[:-1]
    assert chunks[0].startswith("\x1b_Ga=T,f=100,q=2,c=40,r=10,m=1;")
    assert chunks[-1].startswith("\x1b_Gm=0;") and all(c.startswith("\x1b_Gm=1;") for c in chunks[1:-1])
    assert base64.b64decode("".join(c.split(";", 1)[1] for c in chunks)) == png


def test_iterm_inline_image() -> None:
    sequence = iterm_sequence(b"abc", 30, 8)
    assert sequence == "\x1b]1337;File=inline=1;size=3;width=30;height=8;preserveAspectRatio=1:YWJj\x07"


def test_fit_keeps_the_shape() -> None:
    assert fit(2000, 1000, 80, 40) == (80, 20)  # a wide image: the width decides
    assert fit(1000, 2000, 80, 20) == (20, 20)  # a tall one: the height decides
