from __future__ import annotations

from pathlib import Path

from apertis_tui.core.pathtext import home_relative


def test_home_relative(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "real").mkdir(parents=True)
    (home / "link").symlink_to(tmp_path)  # a folder under home that leads outside it
    monkeypatch.setenv("HOME", str(home))
    assert home_relative(home / "a" / "b.md") == "~/a/b.md"
    assert home_relative(tmp_path / "elsewhere.md") == str(tmp_path / "elsewhere.md")
    assert home_relative(home / "link" / "x.md") == "~/link/x.md"  # the name the user knows
    monkeypatch.chdir(home / "real")
    assert home_relative(Path("x.db")) == "~/real/x.db"  # relative: resolved
