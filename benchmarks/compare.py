"""Compare: six models answering one prompt at once, each 5,000 tokens at 2,000 tok/s.

    .venv/bin/python benchmarks/compare.py [--runs N] [--models N] [--tokens N] [--rate R]
                                           [--size WxH] [--profile]

The real ApertisApp, headless (``App.run_test``, 246x50: the narrowest screen that shows six
columns side by side, the list's scrollbar and padding taken, ``comparison_view.MIN_COLUMN``
cells each; narrower, they are stacked and most columns' ends are out of sight; frames are
still composed and turned into escape sequences, only not written: ``PaintWatch``). The chat pane compares
six models (``set_comparing``) and one prompt is sent (``pane.send``, what enter calls). The
fake server runs in a process of its own (its CPU is not ours) and streams each answer at the
given rate (each its own thread, each at the full rate); six real-looking model ids are made to
answer as ``test/long`` does (``ServerProcess(long_models=...)``), a 5,000-token Markdown
answer each, and it reports when it wrote each answer's last byte, per model.

What is "painted": the script keeps the screen a terminal would show, from the frames the app
paints (each update's strips written into a character grid, as a terminal would apply the
escape sequences). A column's end is painted at the first frame after which its answer is
finished (the view no longer streaming) and the grid, inside the column's visible part, shows
the answer's last words. Its time is taken against the moment the app had read and parsed that
column's own last byte (the client's last event for that model), as streaming.py does; the
server's last write is printed beside it. Per run the slowest column counts.

Meanwhile a key is typed into the prompt every 0.2 s while the answers arrive (a key event
sent through the driver, as a terminal's input thread does); it is echoed at the first frame
after which the grid, inside the prompt, shows all the keys typed so far. Per run the slowest
key counts. The worst event-loop stall is a 5 ms sleep's lateness, looping the whole time.

CPU: this process's CPU time (``time.process_time``) from sending the prompt to the frame that
shows the last column's end, without the script's own watching (the grid, the checks: timed
and taken off). "One answer alone" is the same app at the same size streaming one such answer
(one of the six ids, same rate, same length, keys typed the same way) in a normal chat; runs
of the two alternate, after one short warm-up of each that is not counted.

Targets (issue 18): every column's end painted <= 100 ms after its own last byte; worst stall
<= 50 ms; a key typed meanwhile echoed <= 50 ms; the six at once <= 6.5 x the CPU of one answer
alone. When one is missed (or with ``--profile``), two more comparisons show where the time
goes: one samples the event loop's stack while it stalls, one runs under cProfile.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import string
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    GcWatch,
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
    tail_words,
)

from tests.fake_server import long_markdown  # noqa: E402

BENCH = "compare"
SIZE = (246, 50)  # six columns of 39 cells side by side (240x50 stacks them)
TOKENS = 5000
RATE = 2000.0
MODELS = ("gpt-4o", "claude-sonnet-4-20250514", "gemini-2.5-pro", "deepseek-chat",
          "llama-3.3-70b-instruct", "qwen-max")
LATENCY_MS, STALL_MS, ECHO_MS, CPU_RATIO = 100.0, 50.0, 50.0, 6.5
KEY_START, KEY_EVERY = 0.3, 0.2  # seconds: the first key after sending, then one every KEY_EVERY
KEYS = string.ascii_lowercase  # typed in order: all different, so each echo is told apart
WARMUP_TOKENS = 300
TIMEOUT = 120.0  # seconds for every answer to be painted in full


# ---------------------------------------------------------------------------
# What a terminal shows


class TerminalGrid:
    """The characters a terminal would show, kept from the updates the app paints (Textual's
    ``LayoutUpdate`` and ``ChopsUpdate``, applied as their escape sequences would be)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.rows = [[" "] * width for _ in range(height)]

    def apply(self, update) -> None:
        from textual._compositor import ChopsUpdate, LayoutUpdate  # (imported once; then a dict look-up)

        if isinstance(update, LayoutUpdate):
            x0 = update.region.x
            for y, line in enumerate(update.strips, update.region.y):
                x = x0
                for strip in line:
                    self._put(y, x, strip)
                    x += strip.cell_length
        elif isinstance(update, ChopsUpdate):
            for y, x1, x2 in update.spans:
                for end, (x, strip) in zip(update.chop_ends[y], update.chops[y].items()):
                    if strip is None or x > x2 or end <= x1:
                        continue
                    start, stop = max(x, x1), min(end, x2)
                    if start < stop:
                        self._put(y, start, strip.crop(start - x, stop - x) if (start, stop) != (x, end) else strip)

    def _put(self, y: int, x: int, strip) -> None:
        if not 0 <= y < self.height:
            return
        row = self.rows[y]
        text = strip.text
        if len(text) == strip.cell_length:
            row[x:x + len(text)] = text
            del row[self.width:]
            return
        from rich.cells import cell_len

        for char in text:  # double-width characters: the cell after one is covered by it
            width = cell_len(char)
            if x < self.width and width:
                row[x] = char
                if width == 2 and x + 1 < self.width:
                    row[x + 1] = ""
            x += width

    def text(self, region) -> str:
        """The characters inside ``region`` (screen coordinates), line by line."""
        x1, x2 = max(0, region.x), min(self.width, region.right)
        return "\n".join("".join(self.rows[y][x1:x2]) for y in range(max(0, region.y), min(self.height, region.bottom)))


def shows(text: str, words: str) -> bool:
    """``words`` (whitespace-normalised) appear in ``text``, possibly wrapped over lines."""
    return " ".join(words.split()) in " ".join(text.split())


def visible_region(app, widget):
    """The part of ``widget`` on the screen (screen coordinates); None when it is not there."""
    from textual.errors import NoWidget

    try:
        geometry = app.screen.find_widget(widget)
    except NoWidget:
        return None
    return geometry.region.intersection(geometry.clip)


# ---------------------------------------------------------------------------
# One run


@dataclass
class Column:
    model: str
    received: float | None = None  # the client's last event for this model (monotonic)
    painted: float | None = None  # the frame that shows its end
    written: float | None = None  # the server's last write

    @property
    def latency(self) -> float | None:
        return None if self.painted is None or self.received is None else max(0.0, self.painted - self.received)

    @property
    def sent(self) -> float | None:
        return None if self.painted is None or self.written is None else max(0.0, self.painted - self.written)


@dataclass
class Run:
    columns: list[Column]
    cpu: float  # s, the script's own watching taken off
    stall: float  # s
    echoes: list[float]  # s, one per key typed
    wall: float  # s
    frames: int
    gc_worst: float = 0.0
    gc: str = ""
    watching: float = 0.0  # CPU s of the script's own watching (taken off ``cpu``)
    statuses: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(c.latency is not None for c in self.columns)

    @property
    def worst_latency(self) -> float | None:
        return max(c.latency for c in self.columns) if self.complete else None  # type: ignore[type-var]

    @property
    def worst_sent(self) -> float | None:
        sent = [c.sent for c in self.columns]
        return max(sent) if sent and None not in sent else None  # type: ignore[type-var]

    @property
    def worst_echo(self) -> float | None:
        return max(self.echoes) if self.echoes else None


class Watch:
    """On every painted frame: the grid, then which columns' ends and which typed keys it shows."""

    def __init__(self, app, pane, models: tuple[str, ...], tail: str, compare: bool) -> None:
        self.app, self.pane, self.tail, self.compare = app, pane, tail, compare
        self.paints = PaintWatch(app)  # frames turned into escape sequences, as for a terminal
        self.grid = TerminalGrid(*app.size)
        self.columns = {model: Column(model) for model in models}
        self.all_painted = asyncio.get_running_loop().create_future()
        self.typed = ""
        self.echo: asyncio.Future[float] | None = None
        self.watching = 0.0  # CPU s of the loop's thread spent here, after each frame
        self.active = False
        inner = app._display

        def display(screen, renderable) -> None:
            inner(screen, renderable)
            if renderable is None:
                return
            started = time.thread_time()
            try:
                self.grid.apply(renderable)
                if self.active:
                    self._check(self.paints.last_paint)
            finally:
                self.watching += time.thread_time() - started

        app._display = display

    def views(self) -> list[tuple[str, object]]:
        """(model, its answer's view) for every answer shown so far."""
        if self.compare:
            grid = self.pane.comparison_view
            if grid is None or not grid.rows:
                return []
            return [(cell.model, cell.view) for cell in grid.rows[-1] if cell.view is not None]
        view = self.pane._last_assistant_view()
        return [] if view is None else [(view.message.model, view)]

    def _check(self, painted: float) -> None:
        for model, view in self.views():
            column = self.columns.get(model)
            if column is None or column.painted is not None or view.streaming:
                continue
            region = visible_region(self.app, view)
            if region is not None and shows(self.grid.text(region), self.tail):
                column.painted = painted
        if not self.all_painted.done() and all(c.painted is not None for c in self.columns.values()):
            # (the CPU and the watching up to that frame: this call's own watching came after it)
            self.all_painted.set_result((painted, self.paints.last_paint_cpu, self.watching))
        if self.echo is not None and not self.echo.done():
            prompt = self.pane.prompt
            if self.typed in prompt.text:
                region = visible_region(self.app, prompt)
                if region is not None and self.typed in self.grid.text(region):
                    self.echo.set_result(painted)


def note_received(app, columns: dict[str, Column]) -> None:
    """Wrap the client's stream_chat: each column's ``received`` becomes the time its last
    event came out, i.e. when the app had read and parsed that answer's last byte."""
    original = app.client.stream_chat

    async def stream_chat(model, *args, **kwargs):
        column = columns.get(model)
        async for event in original(model, *args, **kwargs):
            if column is not None:
                column.received = time.monotonic()
            yield event

    app.client.stream_chat = stream_chat


async def type_keys(app, watch: Watch, pane, echoes: list[float]) -> None:
    """While the answers arrive: a key every KEY_EVERY seconds, each timed until echoed."""
    from textual import events

    await asyncio.sleep(KEY_START)
    for key in KEYS:
        if not pane.is_streaming:
            return
        loop = asyncio.get_running_loop()
        watch.echo = loop.create_future()
        watch.typed += key
        event = events.Key(key, key)
        event.set_sender(app)
        typed = time.monotonic()
        app._driver.send_message(event)  # what the driver's input thread does with a keystroke
        try:
            echoed = await asyncio.wait_for(asyncio.shield(watch.echo), 10)
        except asyncio.TimeoutError:
            print(f"  the key {key!r} was not echoed within 10 s", file=sys.stderr)
            return
        echoes.append(echoed - typed)
        await asyncio.sleep(max(0.0, typed + KEY_EVERY - time.monotonic()))


async def one_run(server: ServerProcess, folder: Path, number: int, models: tuple[str, ...], tokens: int, *,
                  profile: cProfile.Profile | None = None, sampler: StallSampler | None = None) -> Run:
    """One prompt to ``models`` (one model: a normal chat; several: compared), to the frame that
    shows every answer's end."""
    from apertis_tui.core.store import History

    compare = len(models) > 1
    text = long_markdown(tokens)
    tail = tail_words(text)
    store = History(folder / f"compare-{number}.db")
    app = make_app(store, server.base_url, folder, model=models[0])
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            pane = app.active_pane
            assert pane is not None
            pane.swap_in_prompt()
            await pilot.pause()
            pane.focus_prompt()
            if compare:
                pane.set_comparing(list(models))
                if pane.comparing != models:
                    raise RuntimeError(f"set_comparing({models}) left {pane.comparing}")
            watch = Watch(app, pane, models, tail, compare)
            note_received(app, watch.columns)
            await pilot.pause()
            # Earlier runs' garbage is not this run's to collect (see streaming.py).
            gc.collect()
            ends = {m: len(server.ends_by_model.get(m, ())) for m in models}
            probe = StallProbe()
            echoes: list[float] = []
            frames = watch.paints.frames
            cpu, wall = time.process_time(), time.monotonic()
            watching = watch.watching
            probe.start()
            if sampler is not None:
                sampler.start()
            if profile is not None:
                profile.enable()
            watch.active = True
            with GcWatch() as gc_watch:
                if not pane.send(f"Compare your long answers, please: tokens={tokens}"):
                    raise RuntimeError("the prompt was not sent")
                if compare and (grid := pane.comparison_view) is not None and grid.query("CompareRow.-stacked"):
                    raise RuntimeError(f"the columns are stacked at {SIZE[0]}x{SIZE[1]}: not side by side")
                typist = asyncio.get_running_loop().create_task(type_keys(app, watch, pane, echoes))
                try:
                    painted, painted_cpu, watched = await asyncio.wait_for(asyncio.shield(watch.all_painted),
                                                                           TIMEOUT)
                except asyncio.TimeoutError:
                    painted, painted_cpu, watched = None, time.process_time(), watch.watching
                    print(f"  not every answer's end was painted within {TIMEOUT:.0f} s", file=sys.stderr)
                typist.cancel()
            watch.active = False
            if profile is not None:
                profile.disable()
            if sampler is not None:
                await sampler.stop()
            stall = await probe.stop()
            cpu = painted_cpu - cpu - (watched - watching)
            wall = (painted or time.monotonic()) - wall
            frames = watch.paints.frames - frames
            await pane._worker.wait()
            columns = list(watch.columns.values())
            for column in columns:
                column.written = server.wait_model_end(column.model, ends[column.model] + 1)
            statuses = [view.message.status for _, view in watch.views()]
            if statuses != ["complete"] * len(models):
                raise RuntimeError(f"the answers did not all complete: {statuses}")
            lengths = {len(view.text) for _, view in watch.views()}
            if lengths != {len(text)}:
                raise RuntimeError(f"an answer is not the whole text: lengths {lengths}, expected {len(text)}")
            run = Run(columns, cpu, stall, echoes, wall, frames, gc_watch.worst, gc_watch.describe(),
                      watched - watching, statuses)
            return run
    finally:
        store.close()


# ---------------------------------------------------------------------------
# Where the time goes


async def diagnose(server: ServerProcess, folder: Path, models: tuple[str, ...], tokens: int) -> None:
    sampler = StallSampler(threshold=STALL_MS / 1000)
    run = await one_run(server, folder, 998, models, tokens, sampler=sampler)
    print(f"\nWhere the event loop was while it stalled over {STALL_MS:.0f} ms, one more comparison "
          f"(CPU {run.cpu:.2f} s, worst stall {run.stall * 1000:.0f} ms):")
    print(sampler.summary())
    profile = cProfile.Profile()
    run = await one_run(server, folder, 999, models, tokens, profile=profile)
    print(f"\ncProfile of one more comparison (profiled, so slower: CPU {run.cpu:.2f} s), most cumulative time:")
    print(profile_top(profile, 35, "cumulative"))
    print("Most time in the function itself:")
    print(profile_top(profile, 25, "tottime"))


# ---------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 1000:.0f} ms"


def describe(run: Run) -> str:
    return (f"slowest column {_ms(run.worst_latency)} [" + ", ".join(_ms(c.latency) for c in run.columns)
            + f"] / CPU {run.cpu:.2f} s / stall {_ms(run.stall)} / echo worst {_ms(run.worst_echo)} "
            f"of {len(run.echoes)} keys / {run.frames} frames / wall {run.wall:.1f} s")


def median_ms(values: list[float | None]) -> float | None:
    return median(values) * 1000 if values and None not in values else None  # type: ignore[arg-type]


async def bench(args: argparse.Namespace, folder: Path) -> None:
    models = MODELS[:args.models]
    alone: list[Run] = []
    together: list[Run] = []
    with ServerProcess(rate=args.rate, long_models=models) as server:
        # Not counted: the first answer and the first comparison import and warm up what they use.
        await one_run(server, folder, 900, models[:1], WARMUP_TOKENS)
        await one_run(server, folder, 901, models, WARMUP_TOKENS)
        for n in range(args.runs):
            alone.append(await one_run(server, folder, 2 * n, models[:1], args.tokens))
            print(f"  one answer alone, run {n + 1}: {describe(alone[-1])}", flush=True)
            together.append(await one_run(server, folder, 2 * n + 1, models, args.tokens))
            print(f"  {len(models)} at once, run {n + 1}: {describe(together[-1])}", flush=True)

        n = args.runs
        k = len(models)
        cpu, cpu_alone = median(r.cpu for r in together), median(r.cpu for r in alone)
        echoes = [e for r in together for e in r.echoes]
        columns = [c.latency for r in together for c in r.columns]
        results = [
            Result(BENCH, f"{k} at once: slowest column, last byte received -> painted",
                   median_ms([r.worst_latency for r in together]), "ms", LATENCY_MS, n,
                   note=f"per run the slowest of {k}; all {len(columns)} columns' median "
                        f"{median_ms(columns) or float('nan'):.0f} ms"),
            Result(BENCH, f"{k} at once: slowest column, server's last write -> painted",
                   median_ms([r.worst_sent for r in together]), "ms", runs=n, note="includes catching up"),
            Result(BENCH, f"{k} at once: worst event-loop stall", median(r.stall for r in together) * 1000, "ms",
                   STALL_MS, n, note="median over runs of each run's worst"),
            Result(BENCH, f"{k} at once: key typed -> echoed, slowest key", median_ms([r.worst_echo for r in together]),
                   "ms", ECHO_MS, n, note=f"per run the slowest of ~{median(len(r.echoes) for r in together):.0f} keys; "
                                          f"all {len(echoes)} keys' median {median_ms(echoes) or float('nan'):.0f} ms"),
            Result(BENCH, f"{k} at once: worst garbage-collector pause", median(r.gc_worst for r in together) * 1000,
                   "ms", runs=n, note=f"part of the stall; first run: {together[0].gc}"),
            Result(BENCH, f"{k} at once: CPU", cpu, "s", runs=n,
                   note=f"send -> last end painted; script's watching ({median(r.watching for r in together):.2f} s) "
                        "taken off"),
            Result(BENCH, f"{k} at once: frames painted", median(r.frames for r in together), "", runs=n,
                   note=f"{1000 * cpu / max(1, median(r.frames for r in together)):.1f} ms CPU per frame"),
            Result(BENCH, "one answer alone: CPU", cpu_alone, "s", runs=n, note="same app, size, rate, length"),
            Result(BENCH, f"{k} at once CPU / one answer alone", cpu / cpu_alone if cpu_alone else None, "x",
                   CPU_RATIO, n),
            Result(BENCH, "one answer alone: last byte received -> painted", median_ms([r.worst_latency for r in alone]),
                   "ms", runs=n, note="reference"),
            Result(BENCH, "one answer alone: worst stall", median(r.stall for r in alone) * 1000, "ms", runs=n,
                   note="reference"),
            Result(BENCH, "one answer alone: key typed -> echoed, slowest key",
                   median_ms([r.worst_echo for r in alone]), "ms", runs=n, note="reference"),
        ]
        report(results, title=f"Comparing: {k} answers of {args.tokens:,} tokens at once, each at "
                              f"{args.rate:g} tok/s, {SIZE[0]}x{SIZE[1]} headless; median of {n} runs")
        if args.profile or any(r.verdict == "MISS" for r in results):
            await diagnose(server, folder, models, args.tokens)


def main() -> None:
    global SIZE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each (alone, at once), alternating (default 5)")
    parser.add_argument("--models", type=int, default=len(MODELS), choices=range(2, len(MODELS) + 1),
                        help=f"models compared (default {len(MODELS)})")
    parser.add_argument("--tokens", type=int, default=TOKENS, help=f"answer length (default {TOKENS:,})")
    parser.add_argument("--rate", type=float, default=RATE, help=f"tokens/s of each answer (default {RATE:g})")
    parser.add_argument("--size", default=f"{SIZE[0]}x{SIZE[1]}", help="screen size, WxH (default %(default)s)")
    parser.add_argument("--profile", action="store_true", help="profile a comparison even when every target is met")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    SIZE = (width, height)
    run_isolated(bench, args)


if __name__ == "__main__":
    main()
