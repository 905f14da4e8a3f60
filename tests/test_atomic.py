"""atomic_write and the modes its callers give their files (settings are in test_config.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from apertis_tui.core.atomic import atomic_write
from apertis_tui.core.events import ModelInfo
from apertis_tui.core.store.export import write_export
from apertis_tui.core.models import ModelPrefs, cache_path, save_cache
from apertis_tui.core.session import Session, load_session, save_session


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder of the test's own (tmp_path holds the test's XDG folders)."""
    path = tmp_path / "files"
    path.mkdir()
    return path


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_replaces_the_file_whole_and_leaves_no_temp_file(folder: Path) -> None:
    target = folder / "f.json"
    target.write_bytes(b"old")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new" and mode(target) == 0o600
    assert [p.name for p in folder.iterdir()] == ["f.json"]


def test_mode_none_gives_what_a_new_file_gets(folder: Path, umask_022) -> None:
    atomic_write(folder / "f.md", b"x", mode=None)
    assert mode(folder / "f.md") == 0o644


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp_file(folder: Path, monkeypatch) -> None:
    target = folder / "f.json"
    target.write_bytes(b"old")

    def full_disk(src, dst):  # noqa: ANN001
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in folder.iterdir()] == ["f.json"]


def test_each_caller_keeps_its_mode(folder: Path, umask_022) -> None:
    session = folder / "state" / "session.json"
    assert save_session(session, Session([3, 4], 1))
    assert load_session(session) == Session([3, 4], 1) and mode(session) == 0o600

    save_cache("http://x.test/v1", [ModelInfo("m")], folder=folder / "cache")
    assert mode(cache_path("http://x.test/v1", folder / "cache")) == 0o600
    prefs = ModelPrefs(folder / "data" / "model-prefs.json")
    assert prefs.save() and mode(prefs.path) == 0o600

    export = folder / "chat.md"
    write_export(export, "one")  # a new export: created as any new file
    assert mode(export) == 0o644
    write_export(export, "two", overwrite=True)  # replaced: the same
    assert export.read_text() == "two" and mode(export) == 0o644
    assert sorted(p.name for p in folder.iterdir()) == ["cache", "chat.md", "data", "state"]
