"""core.attachments on real files: what a path becomes (image, text, folder) or why it cannot
be attached, and how it is sent. Images are made with Pillow here, at test time."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from apertis_tui.core.attachments.model import AttachmentError, AttachmentLimits, describe, human_size
from apertis_tui.core.attachments.prepare import prepare
from apertis_tui.core.attachments.sending import has_images, images_refused, refuses_images, user_content
from apertis_tui.core.types import ApiError

LIMITS = AttachmentLimits()


def photo(path: Path, size=(4032, 3024), fmt="JPEG", **save) -> Path:
    """A photo-like picture (a gradient with noise: it compresses like a photo)."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    noise = Image.effect_noise(size, 30).convert("RGB")
    Image.blend(image, noise, 0.3).save(path, fmt, **save)
    return path


def decoded(attachment) -> Image.Image:
    return Image.open(io.BytesIO(attachment.data))


# -- images -----------------------------------------------------------------


def test_a_small_png_is_sent_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "shot.png"
    Image.new("RGB", (640, 400), "navy").save(path)
    attachment = prepare(path, "shot.png", LIMITS)
    assert (attachment.kind, attachment.mime, attachment.width, attachment.height) == ("image", "image/png", 640, 400)
    assert attachment.data == path.read_bytes() and attachment.note == ""
    assert describe(attachment.info) == f"image 640×400, {human_size(len(attachment.data))}"


def test_a_12_megapixel_jpeg_is_scaled_under_the_long_side_limit(tmp_path: Path) -> None:
    attachment = prepare(photo(tmp_path / "photo.jpg"), "photo.jpg", LIMITS)
    assert attachment.mime == "image/jpeg"
    # Reduced while decoding: half of 4032×3024, within 10 % under 2048.
    assert (attachment.width, attachment.height) == (2016, 1512) == decoded(attachment).size
    assert attachment.note == "4032×3024 → 2016×1512"
    assert attachment.size <= LIMITS.image_max_bytes
    assert describe(attachment.info).startswith("image 4032×3024 → 2016×1512, ")


def test_a_jpeg_whose_half_is_too_small_is_resampled_to_the_limit(tmp_path: Path) -> None:
    attachment = prepare(photo(tmp_path / "wide.jpg", (3000, 1000)), "wide.jpg", LIMITS)
    assert decoded(attachment).size == (2048, 683) and attachment.note == "3000×1000 → 2048×683"


def test_a_large_png_stays_png_scaled(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.new("RGBA", (4000, 1000), (10, 200, 30, 128)).save(path)
    attachment = prepare(path, "big.png", AttachmentLimits(image_max_side=1000))
    assert attachment.mime == "image/png" and decoded(attachment).size == (1000, 250)
    assert decoded(attachment).mode == "RGBA"


def test_an_image_over_the_byte_limit_is_reencoded_until_it_fits(tmp_path: Path) -> None:
    path = photo(tmp_path / "noisy.png", (1500, 1500), "PNG")
    assert path.stat().st_size > 1024 * 1024
    attachment = prepare(path, "noisy.png", AttachmentLimits(image_max_mb=0.25))
    assert attachment.size <= 0.25 * 1024 * 1024
    assert attachment.mime == "image/jpeg"  # no transparency: JPEG is far smaller for a photo
    assert "sent as JPEG" in attachment.note


def test_exif_rotation_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "portrait.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to show
    Image.new("RGB", (800, 600), "white").save(path, "JPEG", exif=exif)
    attachment = prepare(path, "portrait.jpg", LIMITS)
    assert decoded(attachment).size == (600, 800) == (attachment.width, attachment.height)


def test_an_animated_gif_is_sent_as_its_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (40, 30), color) for color in ("red", "green", "blue")]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    attachment = prepare(path, "anim.gif", LIMITS)
    assert attachment.mime == "image/png" and "first frame of 3" in attachment.note
    assert decoded(attachment).size == (40, 30)


def test_a_bmp_is_sent_as_png(tmp_path: Path) -> None:
    path = tmp_path / "old.bmp"
    Image.new("RGB", (20, 10), "red").save(path)
    attachment = prepare(path, "old.bmp", LIMITS)
    assert attachment.mime == "image/png" and "sent as PNG (BMP file)" in attachment.note


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, b"\xff\xd8\xff" + b"\x00" * 50])
def test_an_image_that_cannot_be_read_is_a_sentence(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(content)
    with pytest.raises(AttachmentError, match=r"^broken\.png is not an image that can be read \("):
        prepare(path, "broken.png", LIMITS)


def test_heic_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "IMG_1.heic"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100)
    with pytest.raises(AttachmentError, match="HEIC image, which this app cannot read: save it as JPEG or PNG"):
        prepare(path, "IMG_1.heic", LIMITS)


# -- text files ---------------------------------------------------------------


def test_a_text_file_is_sent_fenced_under_its_name(tmp_path: Path) -> None:
    path = tmp_path / "notes.py"
    path.write_text("print('```')\nx = 1\n", encoding="utf-8")
    attachment = prepare(path, "notes.py", LIMITS)
    assert (attachment.kind, attachment.note) == ("text", "2 lines")
    content = user_content("Explain @notes.py", [(attachment.info, attachment.data)])
    assert content == "Explain @notes.py\n\nnotes.py:\n````python\nprint('```')\nx = 1\n````"


def test_a_latin1_text_is_read_not_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes("café crème\n".encode("cp1252"))
    assert prepare(path, "old.txt", LIMITS).data == "café crème\n".encode()


@pytest.mark.parametrize("name, content", [("blob.bin", b"\x00\x01\x02text"), ("doc.pdf", b"%PDF-1.7\n1 0 obj"),
                                           ("random.dat", bytes(range(1, 32)) * 100)])
def test_a_binary_file_is_refused(tmp_path: Path, name: str, content: bytes) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(AttachmentError, match=rf"^{name.replace('.', '[.]')} is a binary file: only text files, "
                                              r"folders and images \(PNG, JPEG, WebP, GIF\) can be attached\.$"):
        prepare(tmp_path / name, name, LIMITS)


def test_a_text_over_the_limit_says_so(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    path.write_text("x" * 3000)
    with pytest.raises(AttachmentError, match=r"^big\.log is 2\.9 KB, over the 2\.0 KB limit for text \(Settings, f2"):
        prepare(path, "big.log", AttachmentLimits(text_max_kb=2))


def test_a_missing_path_is_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(AttachmentError, match=r"^nope\.txt does not exist"):
        prepare(tmp_path / "nope.txt", "nope.txt", LIMITS)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_a_sentence(tmp_path: Path) -> None:  # pragma: no cover - not as root
    path = tmp_path / "secret.txt"
    path.write_text("x")
    path.chmod(0)
    with pytest.raises(AttachmentError, match="cannot be read: permission denied"):
        prepare(path, "secret.txt", LIMITS)


def test_a_file_name_is_cleaned(tmp_path: Path) -> None:
    path = tmp_path / "evil.txt"
    path.write_text("hi")
    attachment = prepare(path, "evil\x1b]0;pwned\x07[red]x[/].txt", LIMITS)
    assert "\x1b" not in attachment.name and "\x07" not in attachment.name


# -- folders ----------------------------------------------------------------


def make_project(root: Path) -> Path:
    (root / "proj" / "src" / "lib").mkdir(parents=True)
    (root / "proj" / "build").mkdir()
    (root / "proj" / ".git").mkdir()
    (root / "proj" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "proj" / ".gitignore").write_text("build/\n*.log\n")
    (root / "proj" / "README.md").write_text("# Project\n")
    (root / "proj" / "debug.log").write_text("noise\n")
    (root / "proj" / "build" / "out.txt").write_text("built\n")
    (root / "proj" / "src" / "main.py").write_text("print('main')\n")
    (root / "proj" / "src" / "logo.bin").write_bytes(b"\x00\x01binary")
    (root / "proj" / "src" / "lib" / ".gitignore").write_text("secret.txt\n")
    (root / "proj" / "src" / "lib" / "secret.txt").write_text("do not send\n")
    (root / "proj" / "src" / "lib" / "util.py").write_text("def util():\n    pass\n")
    return root / "proj"


def test_a_folder_lists_its_tree_then_its_texts_honouring_gitignore(tmp_path: Path) -> None:
    attachment = prepare(make_project(tmp_path), "proj", LIMITS)
    text = attachment.data.decode()
    assert (attachment.kind, attachment.name, attachment.note) == ("folder", "proj/", "5 files, 1 left out")
    assert text.startswith(
        "Folder proj/ (5 files, 1 left out):\n"
        "proj/\n"
        "├── .gitignore\n"
        "├── README.md\n"
        "└── src/\n"
        "    ├── lib/\n"
        "    │   ├── .gitignore\n"
        "    │   └── util.py\n"
        "    ├── logo.bin  (binary, left out)\n"
        "    └── main.py\n"
    )
    assert "proj/src/main.py:\n```python\nprint('main')\n```" in text
    assert "proj/src/lib/util.py:\n```python\n" in text
    for absent in ("do not send", "built", "noise", "refs/heads", "binary\n```"):
        assert absent not in text
    # Sent as text, after the message's own words.
    content = user_content("Review this", [(attachment.info, attachment.data)])
    assert isinstance(content, str) and content.startswith("Review this\n\nFolder proj/")


def test_a_subfolder_honours_the_gitignore_of_its_work_tree(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project / "src" / "trace.log").write_text("ignored by the top .gitignore\n")
    text = prepare(project / "src", "src", LIMITS).data.decode()
    assert "trace.log" not in text and "do not send" not in text and "src/main.py:" in text


def test_a_folder_past_the_limit_leaves_files_out_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    for n in range(5):
        (folder / f"{n}.txt").write_text(f"{n}" * 900 + "\n")
    attachment = prepare(folder, "logs", AttachmentLimits(text_max_kb=3))
    assert attachment.size <= 3 * 1024
    assert attachment.note.endswith("left out") and "(over the limit, left out)" in attachment.data.decode()


def test_an_empty_folder_is_a_sentence(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(AttachmentError, match=r"^empty has no files to attach"):
        prepare(tmp_path / "empty", "empty", LIMITS)


# -- sending ------------------------------------------------------------------


def test_images_make_content_parts_with_data_uris(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    Image.new("RGB", (3, 2), "red").save(path)
    image = prepare(path, "a.png", LIMITS)
    (tmp_path / "n.txt").write_text("hello\n")
    text = prepare(tmp_path / "n.txt", "n.txt", LIMITS)
    content = user_content("What is this?", [(image.info, image.data), (text.info, text.data)])
    assert content[0] == {"type": "text", "text": "What is this?\n\nn.txt:\n```\nhello\n```"}
    assert content[1] == {"type": "text", "text": "a.png:"}
    url = content[2]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == path.read_bytes()
    assert has_images([{"role": "user", "content": content}]) and not has_images([{"role": "user", "content": "x"}])


def test_a_refusal_of_images_becomes_a_sentence_offering_ctrl_o() -> None:
    openai = ApiError("bad_request", "The server rejected the request (400): Invalid content type. image_url is only "
                      "supported by certain models.", status=400,
                      detail="Invalid content type. image_url is only supported by certain models.")
    assert refuses_images(openai)
    assert not refuses_images(ApiError("bad_request", "temperature is out of range", status=400))
    assert not refuses_images(ApiError("server", "image service down", status=500))
    error = images_refused("gpt-3.5-turbo", openai)
    assert error.sentence.startswith("gpt-3.5-turbo does not take images (400: Invalid content type. image_url is "
                                     "only supported by certain models.). Pick a model that does with ctrl+o")


def test_the_app_imports_no_image_or_gitignore_library_until_used() -> None:
    import subprocess
    import sys

    code = ("import sys, apertis_tui.ui.app, apertis_tui.cli; "
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('PIL', 'pathspec')]; assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent / "app")
