"""Branches: a stored 1,000-message chat with 100 branch points — open it, flip a version, build
the context of its 1,000-deep path.

    .venv/bin/python benchmarks/branches.py [--runs N] [--profile]

A temporary history gets one chat whose current path is 1,000 messages long (user questions and
Markdown answers, as in long_chat.py); every tenth reply has another version beside it, so the
tree has 100 branch points and 1,100 messages. Each run starts the real app headless (120x40):

- open: ``await app.open_chat(chat_id)`` until the first painted frame showing the newest
  message's last line;
- flip: on the newest reply that has another version, the previous version (left) and back
  (right), each until the frame that shows the label of the version flipped to; the worse of
  the two counts;
- context: ``store.context(chat_id)`` for the 1,000-deep path (what every request is built from),
  the median of 50 calls.

Targets (issue 16): open <= 0.5 s; flip <= 50 ms; context <= 5 ms.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    PaintWatch,
    Result,
    ServerProcess,
    closing_line,
    make_app,
    median,
    message_text,
    on_screen,
    profile_top,
    report,
    run_isolated,
)

BENCH = "branches"
SIZE = (120, 40)
OPEN_S, FLIP_MS, CONTEXT_MS = 0.5, 50.0, 5.0
MESSAGES, EVERY = 1000, 10


def other_version(n: int) -> str:
    return f"Closing words of the other version of message {n}."


def build(store) -> int:
    """The chat: a 1,000-message path, another version beside every tenth reply."""
    rng = random.Random(16)
    chat = store.create_chat("gpt-4o", title="Benchmark chat with branches")
    parent = None
    for n in range(1, MESSAGES + 1):
        role = "user" if n % 2 else "assistant"
        model = "gpt-4o" if role == "assistant" else None
        if role == "assistant" and n % (2 * EVERY) in (0, EVERY):
            store.add_message(chat.id, role, message_text(rng, role, other_version(n)), model="gpt-4o-mini",
                              parent_id=parent)
        parent = store.add_message(chat.id, role, message_text(rng, role, closing_line(1, n, MESSAGES)),
                                   model=model, parent_id=parent).id
    store.set_current(chat.id, parent)
    return chat.id


async def once(db: Path, base_url: str, folder: Path, chat_id: int,
               profile: cProfile.Profile | None = None) -> tuple[float | None, float | None, int]:
    """(seconds to open, worse flip in ms, message widgets mounted)."""
    from apertis_tui.core.store import History

    store = History(db)
    app = make_app(store, base_url, folder)
    newest = closing_line(1, MESSAGES, MESSAGES)
    try:
        async with app.run_test(size=SIZE) as pilot:
            watch = PaintWatch(app)
            await pilot.pause()
            gc.collect()
            started = time.monotonic()
            if profile is not None:
                profile.enable()
            painted = await watch.until(lambda: on_screen(app, newest), 30, trigger=lambda: app.open_chat(chat_id))
            opened = None if painted is None else painted - started
            pane = app.active_pane
            await pilot.pause()
            flips = []
            view = next(v for v in reversed(pane.messages.views) if v.versions is not None)
            pane.messages.focus()
            pane.messages.select(view)
            await pilot.pause()
            # The label of the version flipped to (its model, its place): a long message is shown
            # from its top, so its last line may be out of sight.
            for step, words in ((-1, "gpt-4o-mini ‹ 1/2 ›"), (1, "gpt-4o ‹ 2/2 ›")):
                await pilot.pause()
                gc.collect()
                started = time.monotonic()
                target = pane.messages.selected
                painted = await watch.until(lambda w=words: on_screen(app, w), 10,
                                            trigger=lambda t=target, s=step: pane.flip(t, s))
                flips.append(None if painted is None else (painted - started) * 1000)
            if profile is not None:
                profile.disable()
            worse = None if None in flips else max(flips)
            return opened, worse, len(pane.messages.views)
    finally:
        store.close()


async def bench(args: argparse.Namespace, folder: Path) -> None:
    from apertis_tui.core.store import History

    db = folder / "branches.db"
    built = time.monotonic()
    with History(db) as store:
        chat_id = build(store)
        total = len(store.messages(chat_id))
        contexts = []
        for _ in range(50):
            started = time.perf_counter()
            context = store.context(chat_id)
            contexts.append((time.perf_counter() - started) * 1000)
        assert len(context) == MESSAGES
    print(f"  stored one chat of {total:,} messages ({MESSAGES:,} on the path) in "
          f"{time.monotonic() - built:.1f} s", flush=True)
    with ServerProcess() as server:
        await once(db, server.base_url, folder, chat_id)  # warm-up: file cache, imports
        opens, flips, mounted = [], [], 0
        for _ in range(args.runs):
            opened, flip, mounted = await once(db, server.base_url, folder, chat_id)
            if opened is None or flip is None:
                print("  a frame did not come within its time limit", file=sys.stderr)
                continue
            opens.append(opened)
            flips.append(flip)
        whole = len(opens) == args.runs
        report([
            Result(BENCH, f"open a {MESSAGES:,}-message chat with 100 branch points until painted",
                   median(opens) if whole else None, "s", OPEN_S, args.runs),
            Result(BENCH, "flip to another version of a reply until painted (worse of back and forth)",
                   median(flips) if whole else None, "ms", FLIP_MS, args.runs),
            Result(BENCH, f"build the context of a {MESSAGES:,}-deep path", median(contexts), "ms",
                   CONTEXT_MS, 50),
            Result(BENCH, "message widgets mounted after opening and flipping", mounted, "", runs=1,
                   note=f"of {total:,}"),
        ], title=f"Branches, {SIZE[0]}x{SIZE[1]} headless, median of {args.runs} runs")
        if args.profile or not whole or median(opens) > OPEN_S or median(flips) > FLIP_MS:
            profile = cProfile.Profile()
            await once(db, server.base_url, folder, chat_id, profile)
            print("\ncProfile of one more run (open and flips):")
            print(profile_top(profile, 30, "cumulative"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="profile a run even when on target")
    args = parser.parse_args()
    run_isolated(bench, args)


if __name__ == "__main__":
    main()
