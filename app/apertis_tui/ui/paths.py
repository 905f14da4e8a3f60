"""Where the .tcss files are: inside the installed package, or at the top of a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def styles_dir() -> Path:
    for candidate in (_PACKAGE / "styles", _PACKAGE.parent.parent / "styles"):
        if (candidate / "base.tcss").is_file():
            return candidate
    raise FileNotFoundError(f"apertis-tui's styles are missing (looked in {_PACKAGE / 'styles'})")


def stylesheets(*names: str) -> list[Path]:
    folder = styles_dir()
    return [folder / f"{name}.tcss" for name in names]
