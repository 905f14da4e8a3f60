"""Memory with many open chats, and switching between them.

    .venv/bin/python benchmarks/memory.py [--chats N] [--messages N] [--switches N] [--profile]

A temporary history gets 20 chats of 200 messages each (user questions and Markdown answers of
150-350 words), written through the store's own API. The real app runs headless in this process
(``App.run_test``, 120x40, the fake server in a process of its own); RSS is VmRSS from
/proc/self/status after a garbage collection:

- idle: the app started, its conversation screen painted, one empty chat;
- with the 20 chats opened (``await app.open_chat(id)`` each, until its newest message is
  painted); the per-chat figure is the growth over idle divided by 20;
- switching: ctrl+pagedown (the next chat), from the key press until the next chat's newest
  message is painted; median over ``--switches`` presses going round the open chats.

Targets: the issue gives none for memory (figures for information). The switch target,
<= 100 ms, is ours: it should feel immediate. Opening each chat is shown beside the long-chat
target (<= 0.5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    run_isolated,
    GcWatch,
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
    rss_mb,
)

BENCH = "memory"
SIZE = (120, 40)
SWITCH_MS = 100.0
OPEN_S = 0.5


def settled_rss() -> float:
    gc.collect()
    return rss_mb()


def object_census(limit: int = 10) -> tuple[int, str]:
    """How many objects the garbage collector tracks (a full pass visits each), and the
    commonest types among them."""
    from collections import Counter

    objects = gc.get_objects()
    counts = Counter(type(o).__module__.split(".")[0] + "." + type(o).__qualname__ for o in objects)
    top = ", ".join(f"{name} {n:,}" for name, n in counts.most_common(limit))
    return len(objects), top


async def bench(args: argparse.Namespace, folder: Path) -> None:
    from apertis_tui.core.store import History

    db = folder / "many.db"
    built = time.monotonic()
    with History(db) as store:
        chat_ids = fill_store(store, args.chats, args.messages)
    print(f"  stored {args.chats} chats of {args.messages} messages in {time.monotonic() - built:.1f} s", flush=True)
    newest = {chat: closing_line(n, args.messages, args.messages) for n, chat in enumerate(chat_ids, 1)}
    results: list[Result] = []
    with ServerProcess() as server, History(db) as store:
        app = make_app(store, server.base_url, folder)
        async with app.run_test(size=SIZE) as pilot:
            watch = PaintWatch(app)
            await pilot.pause()
            await asyncio.sleep(0.5)  # let startup's deferred work finish
            await pilot.pause()
            idle = settled_rss()
            idle_objects, _ = object_census()

            opening, opening_cpu = [], []
            gc_open = GcWatch().__enter__()
            for chat in chat_ids:
                started, cpu = time.monotonic(), time.process_time()
                painted = await watch.until(lambda: on_screen(app, newest[chat]), 30,
                                            trigger=lambda: app.open_chat(chat))
                if painted is None:
                    sys.exit(f"chat {chat} was not painted within 30 s")
                opening.append(painted - started)
                opening_cpu.append(watch.hit_cpu - cpu)
            gc_open.__exit__()
            print("  opening each chat: " + " ".join(f"{t:.2f}" for t in opening) + " s", flush=True)
            await pilot.pause()
            full = settled_rss()
            full_objects, commonest = object_census()
            collect = time.perf_counter()
            gc.collect()
            collect = time.perf_counter() - collect
            panes = app.conversation.panes if app.conversation is not None else []
            mounted = sum(len(p.messages.views) for p in panes)

            order = [p.chat.id if p.chat is not None else None for p in panes]
            switches, switches_cpu = [], []
            profile = cProfile.Profile() if args.profile else None
            gc_watch = GcWatch().__enter__()
            for _ in range(args.switches):
                pane = app.active_pane
                assert pane is not None
                index = order.index(pane.chat.id if pane.chat is not None else None)
                target = order[(index + 1) % len(order)]
                if target is None:  # the empty chat the app started with: nothing to wait for
                    await pilot.press("ctrl+pagedown")
                    continue
                started, cpu = time.monotonic(), time.process_time()
                if profile is not None:
                    profile.enable()
                painted = await watch.until(lambda: on_screen(app, newest[target]), 10,
                                            trigger=lambda: pilot.press("ctrl+pagedown"))
                if profile is not None:
                    profile.disable()
                if painted is None:
                    sys.exit(f"switching to chat {target} was not painted within 10 s")
                switches.append(painted - started)
                switches_cpu.append(watch.hit_cpu - cpu)
            gc_watch.__exit__()
            print("  each switch: " + " ".join(f"{t * 1000:.0f}" for t in switches) + " ms", flush=True)
            after = settled_rss()

    n = len(chat_ids)
    switch_ms = median(switches) * 1000
    results += [
        Result(BENCH, "RSS idle (one empty chat)", idle, "MiB"),
        Result(BENCH, f"RSS with {n} chats of {args.messages} messages open", full, "MiB",
               note=f"{mounted:,} message widgets mounted"),
        Result(BENCH, "RSS growth per open chat", (full - idle) / n, "MiB"),
        Result(BENCH, "objects tracked by the garbage collector, idle", idle_objects / 1000, "k"),
        Result(BENCH, f"objects tracked by the garbage collector, {n} chats open", full_objects / 1000, "k"),
        Result(BENCH, f"a full gc.collect() with {n} chats open", collect * 1000, "ms",
               note="nothing to free: the pass alone"),
        Result(BENCH, f"RSS after {len(switches)} switches", after, "MiB"),
        Result(BENCH, f"open one of the {n} chats until painted", median(opening), "s", OPEN_S, len(opening),
               note=f"slowest {max(opening):.2f} s"),
        Result(BENCH, "  CPU time of opening one", median(opening_cpu), "s", runs=len(opening)),
        Result(BENCH, "  worst garbage-collector pause while opening", gc_open.worst * 1000, "ms",
               runs=len(opening), note=gc_open.describe()),
        Result(BENCH, "switch to the next chat (ctrl+pagedown) until painted", switch_ms, "ms", SWITCH_MS,
               len(switches), note=f"slowest {max(switches) * 1000:.0f} ms"),
        Result(BENCH, "  CPU time of a switch", median(switches_cpu) * 1000, "ms", runs=len(switches)),
        Result(BENCH, "  worst garbage-collector pause while switching", gc_watch.worst * 1000, "ms",
               runs=len(switches), note=gc_watch.describe()),
    ]
    report(results, title=f"Memory and switching, {n} open chats of {args.messages} messages, "
                          f"{SIZE[0]}x{SIZE[1]} headless")
    print(f"\nCommonest objects with {n} chats open: {commonest}")
    if profile is not None or switch_ms > SWITCH_MS:
        if profile is None:
            print("\n(switching missed its target: run with --profile for a cProfile of the switches)")
        else:
            print(f"\ncProfile of the {len(switches)} switches:")
            print(profile_top(profile, 30, "cumulative"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--switches", type=int, default=25)
    parser.add_argument("--profile", action="store_true", help="profile the switches")
    args = parser.parse_args()
    run_isolated(bench, args)


if __name__ == "__main__":
    main()
