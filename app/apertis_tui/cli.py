"""Command line: ``apertis-tui [PROMPT] [-m MODEL] [--base-url URL] [--config PATH] [--db PATH]``.

Kept light: Textual is imported only once we know the app will run, so ``--help`` and
``--version`` answer at once.
"""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from . import APP_NAME, __version__

if TYPE_CHECKING:
    import argparse

# What the parser gives a launch without arguments - the usual one - which then skips building
# it (argparse and gettext: ~2 ms of the start). tests/test_cli.py checks the two agree.
NO_ARGUMENTS = {"prompt": None, "model": None, "base_url": None, "config": None, "db": None, "debug": False}


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog=APP_NAME,
        description="A keyboard-driven terminal chat client for Apertis AI (formerly Stima API) "
        "and any OpenAI-compatible server.",
        epilog="Key: APERTIS_API_KEY or STIMA_API_KEY, else the settings file. "
        "Base URL: --base-url, then APERTIS_BASE_URL, then the settings file. "
        "Also: `apertis-tui history [-s WORDS]` lists or searches the chats, "
        "`apertis-tui export CHAT_ID --format md|json [-o FILE]` writes one, "
        "`apertis-tui usage` says what the key spent and has left (each has --help).",
    )
    parser.add_argument("prompt", nargs="?", metavar="PROMPT", help="start a new chat and send PROMPT at once")
    parser.add_argument("-m", "--model", metavar="ID", help="model for new chats (default: the settings' default model)")
    parser.add_argument("--base-url", metavar="URL", help="API base URL, e.g. https://api.stima.tech/v1")
    parser.add_argument("--config", metavar="PATH", type=Path, help="settings file (default: %(default)s)")
    parser.add_argument("--db", metavar="PATH", type=Path, help="history database file")
    parser.add_argument("--debug", action="store_true", help="write more detail to the log file")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    return parser


def _fail(message: str, code: int = 2) -> int:
    print(f"{APP_NAME}: {message}", file=sys.stderr)
    return code


def _ask(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in {"y", "yes"}
    except (EOFError, KeyboardInterrupt):  # ctrl+d or ctrl+c: a "no", not a traceback
        print(file=sys.stderr)
        return False


def open_store(path: Path):
    """Open the history; a damaged file is set aside (never deleted) only if the user agrees."""
    from .core.store import History, StoreCorrupt, StoreError, set_aside

    try:
        return History(path)
    except StoreCorrupt as error:
        print(str(error), file=sys.stderr)
        if not _ask("Move it aside (nothing is deleted) and start a new, empty history?"):
            raise SystemExit(_fail("history not opened; the file was left as it is.", 1)) from None
    except StoreError as error:
        raise SystemExit(_fail(str(error), 1)) from None
    # Outside the handlers above, so a failure here is a sentence too, not a traceback.
    try:
        moved = set_aside(path)
        print(f"The damaged file is now {moved}.", file=sys.stderr)
        return History(path)
    except StoreError as error:
        raise SystemExit(_fail(str(error), 1)) from None


def main(argv: list[str] | None = None) -> int:
    # Starting up allocates a great deal and frees little: the garbage collector's passes over
    # it took ~12 ms of the first frame for nothing. Undone (tuned) right after the first frame
    # by ui/startup.py's tune_gc (from ApertisApp.on_ready), and on the way out at the latest.
    gc.disable()
    try:
        return _main(argv)
    finally:
        gc.enable()


def _main(argv: list[str] | None) -> int:
    from .cli_history import run_subcommand, subcommand_index

    words = sys.argv[1:] if argv is None else list(argv)
    where = subcommand_index(words)
    if where is not None:  # `history` / `export`: answered without starting the app
        gc.enable()
        return run_subcommand(words, where)
    args = build_parser().parse_args(words) if words else SimpleNamespace(**NO_ARGUMENTS)

    from .core import paths
    from .core.logs import setup_logging
    from .core.settings.file import ConfigError, Settings, load_settings
    from .core.settings.resolve import resolve_connection

    setup_logging(paths.state_dir(), debug=args.debug)
    logging.getLogger("apertis_tui").info("%s %s starting", APP_NAME, __version__)
    config_path = args.config or paths.config_path()
    config_error = None
    try:
        settings = load_settings(config_path)
    except ConfigError as error:
        # The app still starts, with defaults; it shows the problem and never overwrites the file
        # without asking.
        settings, config_error = Settings(), error
    try:
        connection = resolve_connection(settings, base_url_flag=args.base_url)
    except ConfigError as error:
        return _fail(str(error))

    db_path = args.db or paths.default_db_path()
    store = open_store(db_path)
    try:
        from .ui.app import ApertisApp, Startup

        app = ApertisApp(
            Startup(
                settings=settings,
                config_path=config_path,
                store=store,
                connection=connection,
                config_error=config_error,
                model=args.model,
                prompt=args.prompt,
                session_path=paths.session_path(db_path),
            )
        )
        app.run()
    finally:
        store.close()
    return app.return_code or 0  # 129: the terminal went away (ui/terminal_watch.py)


if __name__ == "__main__":
    sys.exit(main())
