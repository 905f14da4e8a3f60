"""Attachments: what attaching a 12-megapixel JPEG adds before the request starts, and the
event loop meanwhile.

    .venv/bin/python benchmarks/attachments.py [--runs N] [--profile]

The real app, headless (120x40, frames turned into escape sequences as for a terminal:
``PaintWatch``), against the fake server (tests/fake_server.py, rate 0) in a process of its own,
which reports when each chat request reaches it (its request line and headers read:
``time.monotonic()``, the same clock in both processes). A 4032×3024 photo-like JPEG (~6 MB,
quality 90) is made with Pillow when the script starts.

Each run opens a new chat and does what enter does (``ChatPane.submit``) with the prompt
already typed. With the attachment the prompt is ``@photo.jpg What is in this picture?``: the
mention is found, the JPEG read, reduced while decoding and re-encoded, hashed (a thread); the
send waits for it; the message and the image are stored; the context is built from the store,
the image base64-encoded (a thread); the body (~600 KB of JSON) goes out. Without it the prompt
is ``What is in this picture?``. ``T`` runs from the call to the request's arrival, and

    added = median(T with the attachment) - median(T without)

Target (issue 20): <= 0.3 s. The worst event-loop stall (a 5 ms sleep's lateness,
``StallProbe``) from the call until the answer is painted, with the attachment: target <= 50 ms
(keys typed meanwhile wait that long).

The first attachment in a process also imports Pillow (~25 ms): that first run is measured on
its own and printed (no target); then ``--runs`` pairs alternate without / with (default 7).
Over a target, or with ``--profile``, a cProfile of the runs with the attachment is printed, and
the stalls are sampled (where the loop was while it stalled).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    PaintWatch,
    Result,
    ServerProcess,
    StallProbe,
    StallSampler,
    make_app,
    median,
    profile_top,
    report,
    run_isolated,
)

BENCH = "attachments"
SIZE = (120, 40)
ADDED_S = 0.3
STALL_MS = 50.0
QUESTION = "What is in this picture?"


def make_photo(path: Path) -> int:
    """A 12-megapixel photo-like JPEG (a gradient under noise: it compresses like a photo)."""
    from PIL import Image

    size = (4032, 3024)
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    Image.blend(base, Image.effect_noise(size, 30).convert("RGB"), 0.3).save(path, "JPEG", quality=90)
    return path.stat().st_size


async def one_run(app, pilot, server: ServerProcess, watch: PaintWatch, *, attach: bool, count: int,
                  profile: cProfile.Profile | None = None) -> tuple[float, float, dict]:
    """(T in s, worst stall in s, what was sent) for one send in a new chat."""
    conversation = app.conversation
    await conversation.action_new_chat()
    pane = app.active_pane
    while not pane.query_children("#prompt"):
        await pilot.pause(0.01)
    pane.prompt.insert(f"@photo.jpg {QUESTION}" if attach else QUESTION)
    await pilot.pause()
    await asyncio.sleep(0.05)  # the new chat's frames are done with
    probe = StallProbe().start()
    if profile is not None:
        profile.enable()
    started = time.monotonic()
    pane.submit(pane.prompt.text)
    arrived = await asyncio.to_thread(server.wait_request, count, 60)
    if arrived is None:
        raise RuntimeError("the request did not reach the server")
    await watch.until(lambda: pane.chat is not None and not pane.is_streaming and len(pane.messages.views) == 2
                      and pane.messages.views[1].message.status == "complete", timeout=30)
    if profile is not None:
        profile.disable()
    stall = await probe.stop()
    message = app.store.messages(pane.chat.id)[0]
    sent = {"attachments": [(a.name, a.width, a.height, a.size, a.note) for a in message.attachments]}
    if attach and not message.attachments:
        raise RuntimeError("the attachment was not sent")
    await conversation.action_close_chat()
    return arrived - started, stall, sent


async def bench(args: argparse.Namespace, folder: Path) -> None:
    from apertis_tui.core.store import History

    work = folder / "work"
    work.mkdir()
    photo_size = make_photo(work / "photo.jpg")
    profile = cProfile.Profile() if args.profile else None
    with ServerProcess(rate=0, report_requests=True) as server:
        store = History(folder / "attachments.db")
        app = make_app(store, server.base_url, folder, model="gpt-4o")
        app.startup.cwd = work
        count = 0
        plain: list[float] = []
        attached: list[tuple[float, float]] = []
        plain_stalls: list[float] = []
        sampler = StallSampler(threshold=STALL_MS / 1000)
        try:
            async with app.run_test(size=SIZE) as pilot:
                watch = PaintWatch(app)
                while not app.active_pane.query_children("#prompt"):
                    await pilot.pause(0.01)
                count += 1  # warm-up, not counted: httpx's connection, the first Markdown render
                await one_run(app, pilot, server, watch, attach=False, count=count)
                count += 1
                first, first_stall, sent = await one_run(app, pilot, server, watch, attach=True, count=count)
                sampler.start()
                for _ in range(args.runs):
                    count += 1
                    seconds, stall, _ = await one_run(app, pilot, server, watch, attach=False, count=count)
                    plain.append(seconds)
                    plain_stalls.append(stall)
                    count += 1
                    seconds, stall, sent = await one_run(app, pilot, server, watch, attach=True, count=count,
                                                         profile=profile)
                    attached.append((seconds, stall))
                    print(f"  pair {len(attached)}: T {seconds * 1000:.0f} ms, worst stall {stall * 1000:.0f} ms "
                          f"(without: {plain[-1] * 1000:.0f} ms, {plain_stalls[-1] * 1000:.0f} ms)", flush=True)
                await sampler.stop()
        finally:
            store.close()
    added = median(s for s, _ in attached) - median(plain)
    worst = max(stall for _, stall in attached)
    name, width, height, size, note = sent["attachments"][0]
    results = [
        Result(BENCH, "attaching a 12-megapixel JPEG and sending it: added before the request starts",
               added, "s", ADDED_S, args.runs, note="median(T with) - median(T without)"),
        Result(BENCH, "  T with the attachment (submit -> request at the server)", median(s for s, _ in attached) * 1000,
               "ms", runs=args.runs, note=f"{photo_size / 1e6:.1f} MB JPEG -> {note}, {size // 1024} KB sent"),
        Result(BENCH, "  T without", median(plain) * 1000, "ms", runs=args.runs),
        Result(BENCH, "  the first attachment of the process (Pillow imported too)", first * 1000, "ms", runs=1,
               note=f"worst stall {first_stall * 1000:.0f} ms; reference"),
        Result(BENCH, "worst event-loop stall, submit -> answer painted, with the attachment", worst * 1000, "ms",
               STALL_MS, args.runs, note=f"median of the runs' worst {median(s for _, s in attached) * 1000:.0f} ms; "
               f"without the attachment: {max(plain_stalls) * 1000:.0f} ms"),
    ]
    report(results, title=f"Attachments, {SIZE[0]}x{SIZE[1]} headless: {args.runs} sends with and without a "
                          f"{width}×{height} image sent ({name})")
    if profile is not None or added > ADDED_S or worst * 1000 > STALL_MS:
        print("\nWhere the stalls were:")
        print(sampler.summary())
        if profile is not None:
            print("\ncProfile of the sends with the attachment, by cumulative time:")
            print(profile_top(profile, 30, "cumulative"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="sends with, and as many without, the attachment")
    parser.add_argument("--profile", action="store_true", help="profile the sends with the attachment")
    run_isolated(bench, parser.parse_args())


if __name__ == "__main__":
    main()
