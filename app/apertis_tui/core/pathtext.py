"""Paths as a person reads and types them: ``~/...`` under the home folder."""

from __future__ import annotations

from pathlib import Path


def home_relative(path: Path) -> str:
    """``~/x`` for a path under the home folder, else the path as it is.

    The path as given is tried first, so a folder reached through a link under the home folder
    keeps the name the user knows; then both resolved, so a relative path, or a home folder
    that is itself a link, still comes out as ``~/...``.
    """
    home = Path.home()
    try:
        return "~/" + path.relative_to(home).as_posix()
    except ValueError:
        pass
    try:
        return "~/" + path.resolve().relative_to(home.resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):
        return str(path)
