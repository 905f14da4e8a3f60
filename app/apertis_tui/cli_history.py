"""The history from the shell: ``apertis-tui history`` lists (or searches) chats,
``apertis-tui export CHAT_ID`` writes one as Markdown or JSON, ``apertis-tui compare-report
CHAT_ID`` its comparisons as a Markdown table; ``apertis-tui usage`` is in ``cli_usage``. No Textual
import.

``cli.main`` hands over when the first word that is not an option is one of SUBCOMMANDS, so
``apertis-tui "some prompt"`` still starts a chat (and ``apertis-tui -- history`` sends the word).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import APP_NAME

SUBCOMMANDS = ("history", "export", "compare-report", "usage")
# Options of the main parser that take a value: their value is not a subcommand.
_VALUE_OPTIONS = {"-m", "--model", "--base-url", "--config", "--db"}


def subcommand_index(argv: list[str]) -> int | None:
    """Where the subcommand is in ``argv``, or None if the first positional word is not one."""
    skip = False
    for index, word in enumerate(argv):
        if skip:
            skip = False
            continue
        if word == "--":
            return None
        if word.startswith("-") and word != "-":
            skip = word in _VALUE_OPTIONS
            continue
        return index if word in SUBCOMMANDS else None
    return None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="PATH", type=Path, help="history database file")
    parser.add_argument("--config", metavar="PATH", type=Path, help="settings file")


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", type=Path, help="write to FILE instead of the standard output")
    parser.add_argument("-f", "--force", action="store_true", help="replace FILE if it exists")


def _chat_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a chat number; `{APP_NAME} history` lists them") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a chat number; `{APP_NAME} history` lists them")
    return value


def _history_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{APP_NAME} history",
        description="List the stored chats, newest activity first, or search them.",
    )
    parser.add_argument("-s", "--search", metavar="WORDS",
                        help="only messages and titles containing every word (as prefixes)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--archived", action="store_true", help="list the archived chats instead")
    which.add_argument("--all", action="store_true", help="list archived chats too")
    parser.add_argument("-n", "--limit", metavar="N", type=int, default=50, help="at most N rows (0: all; default 50)")
    _common(parser)
    return parser


def _export_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{APP_NAME} export",
        description="Write one chat, every message with its model, time, status and token usage, "
        "as Markdown or JSON. The API key is never written.",
    )
    parser.add_argument("chat_id", metavar="CHAT_ID", type=_chat_id, help="the chat's number (see `history`)")
    parser.add_argument("--format", choices=("md", "json"),
                        help="md (Markdown) or json; default: from the -o file's suffix, else md")
    _output_options(parser)
    _common(parser)
    return parser


def _report_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{APP_NAME} compare-report",
        description="Write a chat's comparisons (one prompt to several models) as Markdown: for every "
        "compared turn, each model's first token, tokens/s, tokens, cost and first lines, the chosen one marked.",
    )
    parser.add_argument("chat_id", metavar="CHAT_ID", type=_chat_id, help="the chat's number (see `history`)")
    _output_options(parser)
    _common(parser)
    return parser


def _fail(message: str, code: int = 1) -> int:
    print(f"{APP_NAME}: {message}", file=sys.stderr)
    return code


def _db_path(args: argparse.Namespace) -> Path:
    from .core.paths import default_db_path

    return (args.db or default_db_path()).expanduser()


def run_subcommand(argv: list[str], index: int) -> int:
    name, rest = argv[index], argv[:index] + argv[index + 1 :]
    if name == "history":
        return _history(_history_parser().parse_args(rest))
    if name == "compare-report":
        return _compare_report(_report_parser().parse_args(rest))
    if name == "usage":  # (cli_usage.py: the key's spend, and the history's)
        from .cli_usage import run_usage, usage_parser

        return run_usage(usage_parser().parse_args(rest))
    return _export(_export_parser().parse_args(rest))


# ---------------------------------------------------------------------------


def _history(args: argparse.Namespace) -> int:
    from .cli import open_store
    from .core.text import one_line
    from .core.timefmt import local_stamp

    path = _db_path(args)
    if not path.exists():
        print(f"No history yet ({path} does not exist).")
        return 0
    store = open_store(path)
    try:
        if args.search is not None:
            return _search(store, args)
        archived = None if args.all else bool(args.archived)
        total = store.count_chats(archived)
        limit = args.limit if args.limit > 0 else total
        rows, after = [], None
        while len(rows) < limit:
            page = store.chat_page(archived=archived, after=after, limit=min(500, limit - len(rows)))
            rows += page
            if len(page) < min(500, limit - len(rows) + len(page)):
                break
            after = (page[-1].chat.updated_at, page[-1].chat.id)
        if not rows:
            print("No archived chats." if args.archived else "No chats yet.")
            return 0
        width = max(2, *(len(str(s.chat.id)) for s in rows))
        print(f"{'ID':>{width}}  {'LAST ACTIVITY':<16}  {'MSGS':>5}  {'MODELS':<30}  TITLE")
        for summary in rows:
            chat = summary.chat
            models = one_line(", ".join(summary.models) or chat.model, 30)
            title = one_line(chat.title, 200) or "Untitled chat"
            if chat.archived and archived is None:
                title += "  (archived)"
            print(f"{chat.id:>{width}}  {local_stamp(chat.updated_at):<16}  {summary.message_count:>5}  {models:<30}  {title}")
        if len(rows) < total:
            print(f"({len(rows)} of {total:,} chats; -n 0 lists them all)", file=sys.stderr)
        return 0
    finally:
        store.close()


def _search(store, args: argparse.Namespace) -> int:
    from .core.store import fts_query
    from .core.text import one_line, snippet_spans
    from .core.timefmt import local_stamp

    if not fts_query(args.search):
        return _fail("search for words (letters or digits); punctuation such as \" * - : ( is ignored.", 2)
    hits = store.search(args.search, limit=args.limit if args.limit > 0 else 10_000)
    if not hits:
        print("No title or message contains those words.")
        return 0
    summaries = store.chat_summaries([h.chat_id for h in hits])
    bold = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    start, end = ("\x1b[1;7m", "\x1b[0m") if bold else ("", "")
    width = max(2, *(len(str(h.chat_id)) for h in hits))
    print(f"{'ID':>{width}}  {'MESSAGE':>7}  {'UPDATED':<16}  TITLE / MATCH")
    for hit in hits:
        summary = summaries.get(hit.chat_id)
        title = one_line(hit.chat_title, 200) or "Untitled chat"
        if summary is not None and summary.chat.archived:
            title += "  (archived)"
        where = str(hit.message_id) if hit.message_id is not None else "title"
        print(f"{hit.chat_id:>{width}}  {where:>7}  {local_stamp(hit.updated_at):<16}  {title}")
        snippet = "".join(f"{start}{text}{end}" if match else text for text, match in snippet_spans(hit.snippet))
        print(f"{'':>{width + 29}}{snippet}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from .cli import open_store
    from .core.store.export import ExportError, export_chat, format_for_path
    from .core.store.export_files import files_folder, write_chat_files

    path = _db_path(args)
    if not path.exists():
        return _fail(f"there is no chat {args.chat_id}: no history at {path}.")
    fmt = args.format or (format_for_path(args.output) if args.output else "md")
    from .core.paths import config_path
    from .core.settings.file import ConfigError, Settings, load_settings
    from .core.settings.resolve import resolve_api_key

    try:  # the key, only to make sure it is not in the output (someone may have pasted it)
        settings = load_settings(args.config or config_path())
    except ConfigError:
        settings = Settings()
    secret = resolve_api_key(settings, os.environ).value
    # A Markdown export to a file writes the attachments beside it (chat.md -> chat.files/).
    target = Path(args.output).expanduser() if args.output else None
    store = open_store(path)
    try:
        folder = files_folder(target) if target is not None and fmt == "md" else None
        text = export_chat(store, args.chat_id, fmt, secret=secret, files_dir=folder)
        code = _write_out(args, text, f"chat {args.chat_id}")
        attached = {info.sha256 for m in store.messages(args.chat_id) for info in m.attachments}
        if code == 0 and folder is not None and attached:
            count, where = write_chat_files(store, args.chat_id, target)  # type: ignore[arg-type]
            print(f"Wrote its {count} attached file{'s' if count != 1 else ''} to {where}.", file=sys.stderr)
        elif code == 0 and fmt == "md" and attached:
            print(f"Its {len(attached)} attached file{'s were' if len(attached) != 1 else ' was'} not written: "
                  "export to a file (-o FILE) to have them beside it.", file=sys.stderr)
    except ExportError as error:
        return _fail(str(error))
    except OSError as error:
        return _fail(f"the attached files could not be written: {error.strerror or error}.")
    finally:
        store.close()
    return code


def _compare_report(args: argparse.Namespace) -> int:
    from .cli import open_store
    from .core.store.compare_report import ExportError, comparison_report

    path = _db_path(args)
    if not path.exists():
        return _fail(f"there is no chat {args.chat_id}: no history at {path}.")
    store = open_store(path)
    try:
        text = comparison_report(store, args.chat_id)
    except ExportError as error:
        return _fail(str(error))
    finally:
        store.close()
    return _write_out(args, text, f"the comparisons of chat {args.chat_id}")


def _write_out(args: argparse.Namespace, text: str, what: str) -> int:
    """``text`` to the standard output, or to ``-o FILE`` (replaced only with ``--force``)."""
    from .core.store.export import ExportError, ExportExists, write_export

    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        written = write_export(args.output, text, overwrite=args.force)
    except ExportExists as error:
        return _fail(f"{error.path} already exists; add --force to replace it.")
    except ExportError as error:
        return _fail(str(error))
    print(f"Wrote {what} to {written}.", file=sys.stderr)
    return 0
