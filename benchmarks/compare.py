"""Compare: six models answering one prompt at once, each 5,000 tokens at 2,000 tok/s.

    .venv/bin/python benchmarks/compare.py [--runs N] [--models N] [--tokens N] [--rate R]
                                           [--size WxH] [--profile]

The real ApertisApp, headless (``App.run_test``, 246x50: the narrowest screen that shows six
columns side by side, ``comparison_view.MIN_COLUMN`` cells each once the list's scrollbar and
padding are taken; narrower, they are stacked and most columns' ends are out of sight; frames
are still composed and turned into escape sequences, only not written: ``PaintWatch``). The
chat pane compares six models (``set_comparing``) and one prompt is sent (``pane.send``, what
enter calls). The
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
alone. When one is missed (or with ``--profile``), more runs show where the time goes: one
comparison samples the event loop's stack while it stalls (``StallSampler``); one comparison
and one answer alone time each answer's end (last byte read -> its view told -> all of it
rendered -> painted), each key (typed -> in the prompt's text -> painted) and the CPU by phase
(``PhaseClock``: Markdown, layout, the frames' lines, compositing, JSON, saving ...); one
comparison runs under cProfile.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import string
import sys
import threading
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
    cpu_seconds,
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

    row = getattr(widget, "row", None)  # a comparison's column, drawn by its row
    try:
        geometry = app.screen.find_widget(row if row is not None else widget)
    except NoWidget:
        return None
    return (widget.region if row is not None else geometry.region).intersection(geometry.clip)


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
    inserted: list[float]  # s, per key: typed -> in the prompt's text (its wait in the message queues)
    wall: float  # s
    frames: int
    gc_worst: float = 0.0
    gc: str = ""
    watching: float = 0.0  # CPU s of the script's own watching (taken off ``cpu``)
    statuses: list[str] = field(default_factory=list)
    server_cpu: float = 0.0  # CPU s of the fake server's process meanwhile (not ours)

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
        self.clock: PhaseClock | None = None  # (diagnostics: this frame's phases timed)
        inner = app._display

        def display(screen, renderable) -> None:
            clock = self.clock
            if clock is not None:
                clock.enter("frames turned into terminal output (PaintWatch, as a driver would)")
            try:
                inner(screen, renderable)
            finally:
                if clock is not None:
                    clock.leave()
            if renderable is None:
                return
            started = time.thread_time()
            if clock is not None:
                clock.enter("the script's watching (taken off the CPU figure)")
            try:
                self.grid.apply(renderable)
                if self.active:
                    self._check(self.paints.last_paint)
            finally:
                if clock is not None:
                    clock.leave()
                self.watching += time.thread_time() - started

        app._display = display

    def views(self) -> list[tuple[str, object, object]]:
        """(model, its answer's view, what shows it) for every answer shown so far."""
        if self.compare:
            grid = self.pane.comparison_view
            if grid is None or not grid.rows:
                return []
            return [(cell.model, cell.view, cell) for cell in grid.rows[-1] if cell.view is not None]
        view = self.pane._last_assistant_view()
        return [] if view is None else [(view.message.model, view, view)]

    def _check(self, painted: float) -> None:
        for model, view, shown in self.views():
            column = self.columns.get(model)
            if column is None or column.painted is not None or view.streaming:
                continue
            region = visible_region(self.app, shown)
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


async def type_keys(app, watch: Watch, pane, echoes: list[float], inserted: list[float]) -> None:
    """While the answers arrive: a key every KEY_EVERY seconds, each timed until echoed (and
    until it is in the prompt's text, for where the time goes)."""
    from textual import events

    prompt = pane.prompt
    edit = prompt.edit
    edited: list[float] = []

    def noted_edit(*args, **kwargs):
        edited.append(time.monotonic())
        return edit(*args, **kwargs)

    prompt.edit = noted_edit

    await asyncio.sleep(KEY_START)
    for key in KEYS:
        if not pane.is_streaming:
            return
        loop = asyncio.get_running_loop()
        watch.echo = loop.create_future()
        watch.typed += key
        event = events.Key(key, key)
        event.set_sender(app)
        edited.clear()
        typed = time.monotonic()
        app._driver.send_message(event)  # what the driver's input thread does with a keystroke
        try:
            echoed = await asyncio.wait_for(asyncio.shield(watch.echo), 10)
        except asyncio.TimeoutError:
            print(f"  the key {key!r} was not echoed within 10 s", file=sys.stderr)
            return
        echoes.append(echoed - typed)
        if edited:
            inserted.append(edited[0] - typed)
        await asyncio.sleep(max(0.0, typed + KEY_EVERY - time.monotonic()))


async def one_run(server: ServerProcess, folder: Path, number: int, models: tuple[str, ...], tokens: int, *,
                  profile: cProfile.Profile | None = None, sampler: "StallSampler | PhaseClock | None" = None) -> Run:
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
            inserted: list[float] = []
            frames = watch.paints.frames
            cpu, wall = time.process_time(), time.monotonic()
            server_cpu = cpu_seconds(server.pid)
            watching = watch.watching
            probe.start()
            if sampler is not None:
                sampler.start()
                if isinstance(sampler, PhaseClock):
                    watch.clock = sampler
            if profile is not None:
                profile.enable()
            watch.active = True
            with GcWatch() as gc_watch:
                if not pane.send(f"Compare your long answers, please: tokens={tokens}"):
                    raise RuntimeError("the prompt was not sent")
                if compare and (grid := pane.comparison_view) is not None and grid.query("CompareRow.-stacked"):
                    raise RuntimeError(f"the columns are stacked at {SIZE[0]}x{SIZE[1]}: not side by side")
                typist = asyncio.get_running_loop().create_task(type_keys(app, watch, pane, echoes, inserted))
                try:
                    painted, painted_cpu, watched = await asyncio.wait_for(asyncio.shield(watch.all_painted),
                                                                           TIMEOUT)
                except asyncio.TimeoutError:
                    painted, painted_cpu, watched = None, time.process_time(), watch.watching
                    print(f"  not every answer's end was painted within {TIMEOUT:.0f} s", file=sys.stderr)
                typist.cancel()
            watch.active = False
            watch.clock = None
            if profile is not None:
                profile.disable()
            if sampler is not None:
                await sampler.stop()
            stall = await probe.stop()
            cpu = painted_cpu - cpu - (watched - watching)
            wall = (painted or time.monotonic()) - wall
            server_cpu = cpu_seconds(server.pid) - server_cpu
            frames = watch.paints.frames - frames
            await pane._worker.wait()
            columns = list(watch.columns.values())
            for column in columns:
                column.written = server.wait_model_end(column.model, ends[column.model] + 1)
            statuses = [view.message.status for _, view, _ in watch.views()]
            if statuses != ["complete"] * len(models):
                raise RuntimeError(f"the answers did not all complete: {statuses}")
            lengths = {len(view.text) for _, view, _ in watch.views()}
            if lengths != {len(text)}:
                raise RuntimeError(f"an answer is not the whole text: lengths {lengths}, expected {len(text)}")
            run = Run(columns, cpu, stall, echoes, inserted, wall, frames, gc_watch.worst, gc_watch.describe(),
                      watched - watching, statuses, server_cpu)
            return run
    finally:
        store.close()


# ---------------------------------------------------------------------------
# Where the time goes


class PhaseClock:
    """CPU time of the event loop's thread by phase: coarse functions (none called per token)
    wrapped to time themselves, each phase's own time only (a phase inside another is taken off
    the outer one). What is left of the run's CPU is the rest: the streams read (httpx, SSE
    lines), each event handed to its view, the event loop, the message pump, timers. (A stack
    sampler was tried first: the loop thread hands the GIL over mostly at its socket reads, so
    the samples piled up there.) The garbage collector's passes land in whatever they interrupt."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list] = []  # [label, started, time in phases inside it]
        self._saved: list[tuple[object, str, object]] = []

    def enter(self, label: str) -> None:
        self._stack.append([label, time.thread_time(), 0.0])

    def leave(self) -> None:
        label, started, inner = self._stack.pop()
        spent = time.thread_time() - started
        self.totals[label] = self.totals.get(label, 0.0) + spent - inner
        self.calls[label] = self.calls.get(label, 0) + 1
        if self._stack:
            self._stack[-1][2] += spent

    def wrap(self, owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)
        clock = self

        def timed(*args, **kwargs):
            clock.enter(label)
            try:
                return original(*args, **kwargs)
            finally:
                clock.leave()

        self._saved.append((owner, name, original))
        setattr(owner, name, timed)

    def __enter__(self) -> "PhaseClock":
        from textual._compositor import Compositor
        from textual.screen import Screen
        from textual.widget import Widget

        from apertis_tui.core.api import ApertisClient
        from apertis_tui.core.store.messages import Messages
        from apertis_tui.ui.widgets.comparison_view import CellHeader
        from apertis_tui.ui.widgets.message_view import MessageView
        from apertis_tui.ui.widgets.status_line import StatusLine

        for owner, name, label in (
            (MessageView, "_build", "Markdown rendered into lines (MessageView._build)"),
            (MessageView, "_redraw", "the views' redraws, less _build (MessageView._redraw: refresh)"),
            (Screen, "_refresh_layout", "frames: the rest of Screen._refresh_layout"),
            (Compositor, "reflow", "frames: layout (Compositor.reflow)"),
            (Compositor, "render_update", "frames: screen lines cut and joined (Compositor.render_update, less "
                                          "render_lines)"),
            (Widget, "render_lines", "frames: widgets' lines drawn (Widget.render_lines: Textual's styles cache, "
                                     "render_line)"),
            (ApertisClient, "_events", "JSON chunks parsed (ApertisClient._events)"),
            (Messages, "flush_partial", "answers saved (sqlite: flush_partial, finish_message)"),
            (Messages, "finish_message", "answers saved (sqlite: flush_partial, finish_message)"),
            (CellHeader, "show", "column headers and status line"),
            (StatusLine, "streaming", "column headers and status line"),
        ):
            self.wrap(owner, name, label)
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()

    # (for one_run: started and stopped around the measured part)
    def start(self) -> "PhaseClock":
        self.totals.clear()
        self.calls.clear()
        return self

    async def stop(self) -> None:
        pass


def phase_table(runs: list[Run], clocks: list[PhaseClock], names: list[str]) -> str:
    labels = sorted({label for clock in clocks for label in clock.totals}, key=lambda label: -clocks[0].totals.get(label, 0))
    rest = [run.cpu - sum(t for label, t in clock.totals.items() if not label.startswith("the script"))
            for run, clock in zip(runs, clocks)]
    out = ["  " + "".join(f"{name:>22}" for name in names) + "  (ms; calls)"]
    for label in labels + ["the rest: streams read, events handed on, loop, message pump, timers"]:
        cells = []
        for k, clock in enumerate(clocks):
            if label.startswith("the rest"):
                cells.append(f"{rest[k] * 1000:14.0f}        ")
            else:
                cells.append(f"{clock.totals.get(label, 0) * 1000:14.0f} {clock.calls.get(label, 0):6d} ")
        out.append("  " + "".join(cells) + f"  {label}")
    out.append("  " + "".join(f"{run.cpu * 1000:14.0f}        " for run in runs) + "  CPU of the run (the script's watching "
               "taken off)")
    return "\n".join(out)


class EndTimeline:
    """When each answer's view was told its answer ended (``MessageView.finish``) and when it
    had rendered all of it (the first ``_build`` after that with nothing left behind), per model."""

    def __init__(self) -> None:
        self.finished: dict[str, float] = {}
        self.caught_up: dict[str, float] = {}
        self._saved: list[tuple[object, str, object]] = []

    def __enter__(self) -> "EndTimeline":
        from apertis_tui.ui.widgets.message_view import MessageView

        finish, build = MessageView.finish, MessageView._build
        timeline = self

        def timed_finish(view, message):
            timeline.finished.setdefault(message.model or "", time.monotonic())
            return finish(view, message)

        def timed_build(view, width):
            result = build(view, width)
            model = view.message.model or ""
            if model in timeline.finished and model not in timeline.caught_up and not view.body.behind:
                timeline.caught_up[model] = time.monotonic()
            return result

        self._saved = [(MessageView, "finish", finish), (MessageView, "_build", build)]
        MessageView.finish, MessageView._build = timed_finish, timed_build  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in self._saved:
            setattr(owner, name, original)


def end_steps(run: Run, timeline: EndTimeline) -> str:
    """Per column, ms: last byte read -> view told it ended -> all rendered -> painted."""
    rows = []
    for c in run.columns:
        finished, caught = timeline.finished.get(c.model), timeline.caught_up.get(c.model)
        if None in (c.received, finished, caught, c.painted):
            rows.append(f"    {c.model}: incomplete")
            continue
        rows.append(f"    {c.model:<26} {(finished - c.received) * 1000:6.0f} {(caught - finished) * 1000:9.0f} "
                    f"{(c.painted - caught) * 1000:9.0f} {(c.painted - c.received) * 1000:7.0f}")
    return "\n".join([f"    {'column':<26} {'-> told':>6} {'-> all rendered':>9} {'-> painted':>9} {'total':>7}"] + rows)


async def diagnose(server: ServerProcess, folder: Path, models: tuple[str, ...], tokens: int) -> None:
    sampler = StallSampler(threshold=STALL_MS / 1000)
    run = await one_run(server, folder, 998, models, tokens, sampler=sampler)
    print(f"\nWhere the event loop was while it stalled over {STALL_MS:.0f} ms, one more comparison "
          f"(CPU {run.cpu:.2f} s, worst stall {run.stall * 1000:.0f} ms):")
    print(sampler.summary())
    clocks, runs, names = [], [], []
    for number, chosen in ((996, models), (997, models[:1])):
        clock, timeline = PhaseClock(), EndTimeline()
        with clock, timeline:
            runs.append(await one_run(server, folder, number, chosen, tokens, sampler=clock))
        clocks.append(clock)
        names.append("one alone" if len(chosen) == 1 else f"{len(chosen)} at once")
        print(f"\nAfter each answer's last byte, ms ({names[-1]}; CPU {runs[-1].cpu:.2f} s, "
              f"{runs[-1].frames} frames):")
        print(end_steps(runs[-1], timeline))
        run = runs[-1]
        if run.echoes and len(run.inserted) == len(run.echoes):
            painted = [e - i for e, i in zip(run.echoes, run.inserted)]
            print(f"  keys typed ({len(run.echoes)}), median / slowest: typed -> in the prompt's text "
                  f"{median(run.inserted) * 1000:.0f} / {max(run.inserted) * 1000:.0f} ms (waiting in the message "
                  f"queues), -> painted {median(painted) * 1000:.0f} / {max(painted) * 1000:.0f} ms (waiting for a "
                  f"frame), in all {median(run.echoes) * 1000:.0f} / {max(run.echoes) * 1000:.0f} ms")
    print(f"\nWhere the CPU goes, by phase (own time; two more runs, timed: {names[0]} {runs[0].frames} frames, "
          f"GC {runs[0].gc}; {names[1]} {runs[1].frames} frames, GC {runs[1].gc}):")
    print(phase_table(runs, clocks, names))
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
            Result(BENCH, f"{k} at once: the fake server's CPU meanwhile", median(r.server_cpu for r in together), "s",
                   runs=n, note=f"its own process, not counted; on {os.cpu_count()} CPUs"),
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
