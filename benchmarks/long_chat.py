"""Long chat: open a stored 1,000-message chat until its newest messages are painted.

    .venv/bin/python benchmarks/long_chat.py [--runs N] [--messages N] [--profile]

A temporary history gets one chat of 1,000 messages (user questions and Markdown answers of
150-350 words with lists, code and tables), written through the store's own API. Each run starts
the real app headless (``App.run_test``, 120x40) on that history, then times
``await app.open_chat(chat_id)`` until the first painted frame that shows the newest message's
last line. It also counts the message widgets mounted, since only what is near the view should be.

Target (issue 9): <= 0.5 s. When it is missed (or with ``--profile``), one more run is profiled.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    run_isolated,
    PaintWatch,
    Result,
    ServerProcess,
    closing_line,
    fill_store,
    make_app,
    median,
    on_screen,
    profile_top,
    report,
)

BENCH = "long chat"
SIZE = (120, 40)
TARGET_S = 0.5


async def open_once(db: Path, base_url: str, folder: Path, chat_id: int, newest: str,
                    profile: cProfile.Profile | None = None) -> tuple[float | None, int]:
    from apertis_tui.core.store import History

    store = History(db)
    app = make_app(store, base_url, folder)
    try:
        async with app.run_test(size=SIZE) as pilot:
            watch = PaintWatch(app)
            await pilot.pause()
            gc.collect()  # earlier runs' garbage is not this run's to collect
            started = time.monotonic()
            if profile is not None:
                profile.enable()
            painted = await watch.until(lambda: on_screen(app, newest), 30, trigger=lambda: app.open_chat(chat_id))
            if profile is not None:
                profile.disable()
            pane = app.active_pane
            mounted = len(pane.messages.views) if pane is not None else 0
            return (None if painted is None else painted - started), mounted
    finally:
        store.close()


async def bench(args: argparse.Namespace, folder: Path) -> None:
    from apertis_tui.core.store import History

    db = folder / "long.db"
    built = time.monotonic()
    with History(db) as store:
        (chat_id,) = fill_store(store, 1, args.messages)
    print(f"  stored one chat of {args.messages:,} messages in {time.monotonic() - built:.1f} s", flush=True)
    newest = closing_line(1, args.messages, args.messages)
    with ServerProcess() as server:
        await open_once(db, server.base_url, folder, chat_id, newest)  # warm-up: file cache, imports
        times, mounted = [], 0
        for _ in range(args.runs):
            seconds, mounted = await open_once(db, server.base_url, folder, chat_id, newest)
            if seconds is None:
                print("  the newest message was not painted within 30 s", file=sys.stderr)
            else:
                times.append(seconds)
        value = median(times) if len(times) == args.runs else None
        report([
            Result(BENCH, f"open a {args.messages:,}-message chat until its newest is painted", value, "s",
                   TARGET_S, args.runs),
            Result(BENCH, "message widgets mounted after opening it", mounted, "",
                   runs=1, note=f"of {args.messages:,}"),
        ], title=f"Long chat, {SIZE[0]}x{SIZE[1]} headless, median of {args.runs} runs")
        if args.profile or value is None or value > TARGET_S:
            profile = cProfile.Profile()
            seconds, _ = await open_once(db, server.base_url, folder, chat_id, newest, profile)
            print(f"\ncProfile of one more opening ({'n/a' if seconds is None else f'{seconds:.2f} s'} profiled):")
            print(profile_top(profile, 30, "cumulative"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="profile a run even when on target")
    args = parser.parse_args()
    run_isolated(bench, args)


if __name__ == "__main__":
    main()
