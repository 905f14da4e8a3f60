"""``apertis-tui usage``: what the key has spent and has left (asked of the server), and what the
history measured over the last 1, 7 and 30 days. No Textual import.

The server part needs the network and an Apertis-like server; without either, the history part
is printed all the same, with a sentence saying why the server's figures are missing. The key
itself is never printed (only the name the service gives it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from . import APP_NAME

if TYPE_CHECKING:
    from .core.settings.resolve import Connection
    from .core.spend import Spent, TokenUsage

WINDOWS = ((1, "last 1 day"), (7, "last 7 days"), (30, "last 30 days"))


def usage_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{APP_NAME} usage",
        description="What the API key has spent and has left (GET /token/usage), and what the replies in "
        "the history cost over the last 1, 7 and 30 days (measured by the app as they arrived).",
    )
    parser.add_argument("--base-url", metavar="URL", help="API base URL (default: as the app would use)")
    parser.add_argument("--db", metavar="PATH", type=Path, help="history database file")
    parser.add_argument("--config", metavar="PATH", type=Path, help="settings file")
    return parser


def run_usage(args: argparse.Namespace) -> int:
    from .core.paths import config_path
    from .core.settings.file import ConfigError, Settings, load_settings
    from .core.settings.resolve import resolve_connection

    try:
        settings = load_settings(args.config or config_path())
    except ConfigError as error:
        print(f"{APP_NAME}: {error} Going on with the defaults.", file=sys.stderr)
        settings = Settings()
    try:
        connection = resolve_connection(settings, os.environ, base_url_flag=args.base_url)
    except ConfigError as error:
        print(f"{APP_NAME}: {error}", file=sys.stderr)
        return 2
    _print_key(connection)
    print()
    return _print_history(args)


# ---------------------------------------------------------------------------
# The server's figures


def _print_key(connection: "Connection") -> None:
    from .core.errors import host_of
    from .core.types import ApiError

    host = host_of(connection.base_url.value)
    if connection.api_key.value is None:
        print(f"No API key is set (APERTIS_API_KEY, STIMA_API_KEY or the settings file), so {host} was not "
              "asked what it spent.")
        return
    try:
        usage = asyncio.run(_ask(connection))
    except ApiError as error:
        print(f"The server could not be asked for this key's figures: {error.sentence}")
        return
    if usage is None:
        print(f"{host} has no usage endpoint (GET /token/usage): it does not say what this key spent or has "
              "left.")
        return
    name = f" “{usage.token_name}”" if usage.token_name else ""
    print(f"This key{name} at {host}:")
    _table(_key_rows(usage))


async def _ask(connection: "Connection") -> "TokenUsage | None":
    from .core.api import ApertisClient

    client = ApertisClient(connection.base_url.value, connection.api_key.value,
                           user_agent=connection.user_agent.value)
    try:
        return await client.token_usage()
    finally:
        await client.aclose()


def _key_rows(usage: "TokenUsage") -> list[tuple[str, str, str]]:
    from .core.spend import usd

    def count(value: int | None) -> str:
        return f"{value:,}" if value is not None else "—"

    return [
        ("total", usd(usage.total_usd) if usage.total_usd is not None else "—", ""),
        ("used", usd(usage.used_usd), ""),
        ("remaining", usd(usage.remain_usd), ""),
        ("tokens", count(usage.total_tokens), ""),
        ("requests", count(usage.total_requests), ""),
    ]


# ---------------------------------------------------------------------------
# The history's figures


def _print_history(args: argparse.Namespace) -> int:
    from .cli import open_store
    from .core.paths import default_db_path

    path = (args.db or default_db_path()).expanduser()
    if not path.exists():
        print(f"No history yet ({path} does not exist): nothing was measured.")
        return 0
    store = open_store(path)
    try:
        now = datetime.now(timezone.utc)
        sums = [(label, store.spending_since(_iso(now - timedelta(days=days)))) for days, label in WINDOWS]
    finally:
        store.close()
    print("Spent, as measured in this history (each reply's change in the key's used amount):")
    _table([(label, *_spent_cells(total)) for label, total in sums])
    if all(total is None for _, total in sums):
        print("(No reply in the last 30 days had its cost measured: that needs a server with GET /token/usage.)")
    return 0


def _iso(moment: datetime) -> str:
    """As the history writes times (``core.store.now_iso``), so they compare as text."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _spent_cells(total: "Spent | None") -> tuple[str, str]:
    from .core.spend import cost_text

    if total is None:
        return "$0", "no reply measured"
    return cost_text(total.total), f"{total.replies} {'reply' if total.replies == 1 else 'replies'}"


def _table(rows: list[tuple[str, str, str]]) -> None:
    """Label, amount (right-aligned), note."""
    left = max(len(r[0]) for r in rows)
    middle = max(len(r[1]) for r in rows)
    for label, amount, note in rows:
        print(f"  {label:<{left}}  {amount:>{middle}}{'  ' + note if note else ''}")
