"""Streaming: a 20,000-token Markdown answer, in the real app and in Textual's own Markdown stream.

    .venv/bin/python benchmarks/streaming.py [--runs N] [--baseline-runs N] [--rates 2000,0] [--tokens N] [--profile]

Ours: the real ApertisApp, headless (``App.run_test``, 120x40; frames are still composed and
turned into escape sequences, only not written), asks the fake server's ``test/long`` model for
its ~20,000-token answer (headings, lists, tables, code, quotes). The server runs in a process of
its own (its CPU is not ours) at each rate (tokens/s; 0 = as fast as it can), and reports when it
wrote the answer's last byte. Per run:

- last byte -> painted: from the moment the app has read (and parsed) the answer's last byte to
  the first painted frame that shows the answer's last words, with the reply finished;
- server's last write -> painted: the same from the moment the server wrote that byte; this
  also counts the time the app needs to catch up with data waiting in its socket (flat out, it
  is most of the answer);
- CPU: this process's CPU time (``time.process_time``) from sending the prompt to that frame;
- worst stall: the largest lateness of a 5 ms sleep looping on the app's event loop meanwhile
  (a keystroke waits at least that long to echo).

Baseline, in the same run: a bare Textual app with one ``Markdown`` widget in an anchored
``VerticalScroll``, fed the same text token by token through ``Markdown.get_stream()`` at the
same pace (no network, no SSE to parse), to the frame showing the last words. It runs in a
process of its own, so its thousands of widgets are not garbage-collected during our runs. It
takes 40-110 s a run, hence one run by default; its CPU time varies from run to run by up to 2x
(how much it batches depends on how fast it is going), so read the ratio with that in mind.

Targets (issue 9): last byte -> painted <= 100 ms; worst stall <= 50 ms; our CPU <= 10% of the
baseline's. When one is missed (or with ``--profile``), two more runs of ours show where the time
goes: one samples the event loop's stack while it stalls, one runs under cProfile.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
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
    StallProbe,
    StallSampler,
    make_app,
    median,
    on_screen,
    profile_top,
    report,
    tail_words,
)

from tests.fake_server import long_markdown, split_tokens  # noqa: E402

BENCH = "streaming"
SIZE = (120, 40)
TOKENS = 20000
LATENCY_MS, STALL_MS, CPU_SHARE = 100.0, 50.0, 10.0
TIMEOUT = 600.0  # seconds for one answer to be painted in full


class Run:
    """``latency``: last byte received -> painted; ``sent``: server's last write -> painted."""

    def __init__(self, latency: float | None, cpu: float, stall: float, wall: float,
                 sent: float | None = None, gc_worst: float = 0.0, frames: int = 0) -> None:
        self.latency, self.cpu, self.stall, self.wall = latency, cpu, stall, wall
        self.sent = latency if sent is None else sent
        self.gc_worst = gc_worst
        self.frames = frames
        self.gc = ""  # GcWatch.describe()


def note_last_event(client) -> dict[str, float]:
    """Wrap the client's stream_chat: ``box["t"]`` becomes the time its last event came out,
    i.e. when the app had read and parsed the answer's last byte."""
    original = client.stream_chat
    box: dict[str, float] = {}

    async def stream_chat(*args, **kwargs):
        async for event in original(*args, **kwargs):
            box["t"] = time.monotonic()
            yield event

    client.stream_chat = stream_chat
    return box


def _rate_name(rate: float) -> str:
    return f"{rate:g} tok/s" if rate else "flat out"


# ---------------------------------------------------------------------------
# Ours


async def run_ours(server: ServerProcess, folder: Path, number: int, tail: str, tokens: int, *,
                   profile: cProfile.Profile | None = None, sampler: StallSampler | None = None) -> Run:
    from apertis_tui.core.store import History

    store = History(folder / f"stream-{number}.db")
    app = make_app(store, server.base_url, folder, model="test/long")
    received = note_last_event(app.client)
    try:
        async with app.run_test(size=SIZE) as pilot:
            watch = PaintWatch(app)
            await pilot.pause()
            # Earlier runs' garbage is not this run's to collect. (Only now: until this app
            # started, Textual's context still pointed at the previous one.)
            gc.collect()
            pane = app.active_pane
            assert pane is not None
            answers = len(server.stream_ends)
            probe = StallProbe()
            finished = lambda: not pane.is_streaming and on_screen(app, tail)  # noqa: E731
            cpu, wall, frames = time.process_time(), time.monotonic(), watch.frames
            probe.start()
            if sampler is not None:
                sampler.start()
            if profile is not None:
                profile.enable()
            with GcWatch() as gc_watch:
                painted = await watch.until(finished, TIMEOUT, trigger=lambda: pane.send(f"The long answer, please: tokens={tokens}"))
            if profile is not None:
                profile.disable()
            if sampler is not None:
                await sampler.stop()
            cpu, wall = (watch.hit_cpu if painted is not None else time.process_time()) - cpu, time.monotonic() - wall
            frames = watch.frames - frames
            stall = await probe.stop()
            written = server.wait_stream_end(answers + 1)
            if painted is None or written is None or "t" not in received:
                print(f"  ours: the answer's end was not painted within {TIMEOUT:.0f} s", file=sys.stderr)
                run = Run(None, cpu, stall, wall, None, gc_watch.worst, frames)
            else:
                run = Run(max(0.0, painted - received["t"]), cpu, stall, wall, max(0.0, painted - written),
                          gc_watch.worst, frames)
            run.gc = gc_watch.describe()
            return run
    finally:
        store.close()


# ---------------------------------------------------------------------------
# Baseline: Textual's MarkdownStream


def baseline_app():
    from textual.app import App, ComposeResult
    from textual.containers import VerticalScroll
    from textual.widgets import Markdown

    class Baseline(App):
        def compose(self) -> ComposeResult:
            with VerticalScroll():
                yield Markdown(open_links=False)

        def on_mount(self) -> None:
            self.query_one(VerticalScroll).anchor()

    return Baseline()


async def run_baseline(text: str, rate: float, tail: str) -> Run:
    from textual.widgets import Markdown

    tokens = split_tokens(text)
    app = baseline_app()
    async with app.run_test(size=SIZE) as pilot:
        watch = PaintWatch(app)
        await pilot.pause()
        gc.collect()
        stream = Markdown.get_stream(app.query_one(Markdown))
        probe = StallProbe()
        cpu, wall, frames = time.process_time(), time.monotonic(), watch.frames
        probe.start()
        started = time.monotonic()
        for i, token in enumerate(tokens):
            if rate:
                delay = started + i / rate - time.monotonic()
                if delay > 0.005:  # like the server: tokens due within 5 ms go together
                    await asyncio.sleep(delay)
            await stream.write(token)
        last_byte = time.monotonic()
        painted = await watch.until(lambda: on_screen(app, tail), TIMEOUT, trigger=stream.stop)
        cpu, wall = (watch.hit_cpu if painted is not None else time.process_time()) - cpu, time.monotonic() - wall
        frames = watch.frames - frames
        stall = await probe.stop()
        if painted is None:
            print(f"  baseline: the end was not painted within {TIMEOUT:.0f} s", file=sys.stderr)
            return Run(None, cpu, stall, wall, frames=frames)
        return Run(max(0.0, painted - last_byte), cpu, stall, wall, frames=frames)


# ---------------------------------------------------------------------------
# Where the time goes


async def diagnose(server: ServerProcess, folder: Path, tail: str, tokens: int) -> None:
    """Two more runs of ours: one with a stack sampler for the stalls, one under cProfile."""
    sampler = StallSampler(threshold=STALL_MS / 1000)
    run = await run_ours(server, folder, 998, tail, tokens, sampler=sampler)
    print(f"\nWhere the event loop was while it stalled over {STALL_MS:.0f} ms, one more run at "
          f"{_rate_name(server.rate)} (CPU {run.cpu:.2f} s, worst stall {run.stall * 1000:.0f} ms):")
    print(sampler.summary())
    profile = cProfile.Profile()
    run = await run_ours(server, folder, 999, tail, tokens, profile=profile)
    print(f"\ncProfile of one more run at {_rate_name(server.rate)} (profiled, so slower: CPU {run.cpu:.2f} s), "
          "most cumulative time:")
    print(profile_top(profile, 35, "cumulative"))
    print("Most time in the function itself:")
    print(profile_top(profile, 20, "tottime"))


# ---------------------------------------------------------------------------


def baseline_in_process_of_its_own(rate: float, tokens: int) -> Run:
    """One baseline run in a fresh process: its widgets' garbage must not land on our runs."""
    import subprocess

    done = subprocess.run([sys.executable, __file__, "--baseline-only", str(rate), "--tokens", str(tokens)],
                          capture_output=True, text=True, check=True)
    values = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(**values)


async def bench(args: argparse.Namespace, folder: Path) -> None:
    text = long_markdown(args.tokens)
    tail = tail_words(text)
    results: list[Result] = []
    missed_at: list[float] = []
    for rate in args.rates:
        name = _rate_name(rate)
        with ServerProcess(rate=rate) as server:
            ours = [await run_ours(server, folder, n, tail, args.tokens) for n in range(args.runs)]
            print(f"  ours at {name}: " + ", ".join(
                f"{'n/a' if r.latency is None else f'{r.latency * 1000:.0f} ms'} / CPU {r.cpu:.2f} s / "
                f"stall {r.stall * 1000:.0f} ms / wall {r.wall:.1f} s" for r in ours), flush=True)
        base = [baseline_in_process_of_its_own(rate, args.tokens) for _ in range(args.baseline_runs)]
        print(f"  baseline at {name}: " + ", ".join(
            f"{'n/a' if r.latency is None else f'{r.latency * 1000:.0f} ms'} / CPU {r.cpu:.2f} s / "
            f"stall {r.stall * 1000:.0f} ms / wall {r.wall:.1f} s / {r.frames} frames" for r in base), flush=True)

        latencies = [r.latency for r in ours if r.latency is not None]
        latency = median(latencies) * 1000 if len(latencies) == len(ours) else None
        sent = [r.sent for r in ours if r.sent is not None]
        sent_ms = median(sent) * 1000 if len(sent) == len(ours) else None
        cpu, stall = median(r.cpu for r in ours), median(r.stall for r in ours) * 1000
        base_cpu = median(r.cpu for r in base)
        base_lat = [r.latency for r in base if r.latency is not None]
        share = 100 * cpu / base_cpu if base_cpu else None
        n, b = len(ours), len(base)
        rows = [
            Result(BENCH, f"{name}: last byte received -> painted", latency, "ms", LATENCY_MS, n),
            Result(BENCH, f"{name}: server's last write -> painted", sent_ms, "ms", runs=n,
                   note="includes catching up"),
            Result(BENCH, f"{name}: worst event-loop stall", stall, "ms", STALL_MS, n,
                   note="median over runs of each run's worst"),
            Result(BENCH, f"{name}: worst garbage-collector pause", median(r.gc_worst for r in ours) * 1000, "ms",
                   runs=n, note=f"part of the stall; first run: {ours[0].gc}"),
            Result(BENCH, f"{name}: our CPU", cpu, "s", runs=n),
            Result(BENCH, f"{name}: our frames painted", median(r.frames for r in ours), "", runs=n,
                   note=f"{1000 * cpu / max(1, median(r.frames for r in ours)):.1f} ms CPU per frame"),
            Result(BENCH, f"{name}: baseline CPU (MarkdownStream)", base_cpu, "s", runs=b),
            Result(BENCH, f"{name}: our CPU / baseline CPU", share, "%", CPU_SHARE, n),
            Result(BENCH, f"{name}: baseline last byte -> painted",
                   median(base_lat) * 1000 if base_lat else None, "ms", runs=b, note="reference"),
            Result(BENCH, f"{name}: baseline worst stall", median(r.stall for r in base) * 1000, "ms", runs=b,
                   note="reference"),
        ]
        results += rows
        if any(r.verdict == "MISS" for r in rows):
            missed_at.append(rate)
    report(results, title=f"Streaming a {args.tokens:,}-token Markdown answer, {SIZE[0]}x{SIZE[1]} headless; "
                          f"ours: median of {args.runs} runs, baseline: median of {args.baseline_runs}")
    if args.profile or missed_at:
        rate = missed_at[0] if missed_at else args.rates[0]
        with ServerProcess(rate=rate) as server:
            await diagnose(server, folder, tail, args.tokens)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of ours per rate (default 3)")
    parser.add_argument("--baseline-runs", type=int, default=1,
                        help="runs of the baseline per rate (default 1: it is slow)")
    parser.add_argument("--rates", default="2000,0", help="tokens/s, comma-separated; 0 = as fast as possible")
    parser.add_argument("--tokens", type=int, default=TOKENS, help=f"answer length (default {TOKENS:,})")
    parser.add_argument("--profile", action="store_true", help="profile a run even when every target is met")
    parser.add_argument("--baseline-only", type=float, metavar="RATE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_only is not None:  # one baseline run, for baseline_in_process_of_its_own()
        text = long_markdown(args.tokens)
        run = asyncio.run(run_baseline(text, args.baseline_only, tail_words(text)))
        print(json.dumps({k: getattr(run, k) for k in ("latency", "cpu", "stall", "wall", "sent", "gc_worst", "frames")}))
        return
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    run_isolated(bench, args)


if __name__ == "__main__":
    main()
