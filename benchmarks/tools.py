"""Tools (MCP): the app's own time in a tool round trip, and the first frame with three tool
servers configured.

    .venv/bin/python benchmarks/tools.py [--sessions N] [--turns N] [--runs N]
                                         [--only overhead|startup] [--profile]

1. Overhead per tool round trip. The real app, headless (120x40, frames turned into escape
   sequences as for a terminal: ``PaintWatch``), its tool server ``calc`` being
   tests/mcp_server.py over stdio, against the fake server (tests/fake_server.py, rate 0, in a
   process of its own) with model ``test/agent``. The chat always allows ``calc/add``, so no
   question is asked. Each turn sends ``call add {"a": 2, "b": 3}``: request 1 streams one
   tool call, the app runs it through the MCP server, saves the result as a ``tool`` message,
   and request 2 streams "Tool results: ...". ``T_turn`` runs from ``pane.send(...)`` (what
   enter calls) until the chat's worker has ended, the final answer stored.

   What is not the app's: the tool's own time, ``C`` (``hub.call`` timed by a shim around it,
   the MCP SDK's client work in our process included), and the server's answers. For those,
   right after each turn the same two requests (the same model, messages, parameters and
   tools, as the app passed them to its client) are sent again through the app's own client
   and read to their last event, the app idle on the same event loop: ``B1 + B2``. So

       overhead = T_turn - B1 - B2 - C

   is what the tool machinery and the chat around it add: storing the user message, the
   answers and the result, the widgets for them (the call block, the result, the second
   answer), each context, the worker and its round, and every frame painted meanwhile. The
   HTTP client and SSE decoding count as the server's answer (the same in a chat without
   tools; streaming.py measures them). This is fairer than subtracting the time each request
   took inside the turn (printed too, as a cross-check): inside the turn the loop also lays
   out and paints between reads, app work that would hide in the request's time. One caveat
   the other way: the fake server answers at once, so a frame the app would paint while a
   real model thinks lands on the turn here.

   ``--sessions`` apps (default 3) each run ``--turns`` turns (default 30) in one chat, after
   two turns not counted (imports, the first Markdown render); the median and p95 are over
   all of them. The chat grows by four messages a turn and every message stays mounted, so
   the turns are also reported by their place in the chat (the first ten, the last ten): the
   overhead grows with the chat. Target (issue 17, one figure for "a round trip"): the median
   <= 20 ms. The p95 is printed without a target: it is 28-49 ms here, the turns in which a
   full layout pass of the screen lands inside the second request, and that pass grows with the
   number of mounted messages (every message of a chat stays mounted). The CPU time of
   this process per turn beyond the replayed requests is printed too: unlike wall time, other
   processes on the machine do not inflate it. The script always prints where a turn's time
   goes, phase by phase, for all turns and for the slowest tenth, with the screen's layout
   passes and the frames painted within the turn; over target (or with ``--profile``) it adds
   a cProfile of one more chat.

2. First frame with three MCP servers configured. As startup.py measures it (the installed
   console script in a 120x40 pseudo-terminal, until "ready" is painted; the floor is
   ``python -c "import textual.app"`` timed the same way, alternating with it; ``--runs``
   launches, default 9), with a settings file naming three stdio servers (tests/mcp_server.py
   under three names). The app starts them in ``on_ready``, after the first frame: each
   server command first notes the time it was launched (``time.monotonic()``, the clock the
   pty reader uses) and then becomes the server, and the script checks that every server was
   launched after the first frame was read. For reference: the app without servers (the
   startup figure), keys typed at launch until echoed, and, in-process (run_test), how long
   the three servers take to be ready after the first frame and the event loop's longest
   stall meanwhile (keys wait that long). Target (issue 17, the start-up target of issue 9):
   <= 1.3 x the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    APP_BIN,
    KEY,
    PYTHON,
    ROOT,
    PaintWatch,
    Result,
    ServerProcess,
    isolate_here,
    isolated_env,
    make_app,
    median,
    profile_top,
    report,
)

BENCH = "tools"
SIZE = (120, 40)
OVERHEAD_MS = 20.0
FRAME_RATIO = 1.3
WARMUP_TURNS = 2
LINE = 'call add {"a": 2, "b": 3}'
MCP_SERVER = ROOT / "tests" / "mcp_server.py"
SERVER_NAMES = ("calc", "numbers", "maths")


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else float("nan")


# ---------------------------------------------------------------------------
# 1. Overhead per tool round trip


@dataclass
class Request:
    """One request the app made through its client: what it passed, and its times."""

    args: tuple
    kwargs: dict
    started: float
    ended: float | None = None
    inside: float = 0.0  # time spent waiting in the client's iterator (not in the app's loop body)


@dataclass
class Timeline:
    requests: list[Request] = field(default_factory=list)
    calls: list[tuple[float, float]] = field(default_factory=list)  # hub.call (start, end)
    layouts: int = 0  # the screen's layout passes (every widget placed again)
    frames: int = 0  # frames painted


@dataclass
class Turn:
    total: float  # T_turn, s
    baseline: tuple[float, float]  # B1, B2: the same requests replayed, s
    call: float  # C, s
    phases: dict[str, float]  # name -> s
    inside: tuple[float, float]  # the requests' time in the client's iterator during the turn
    cpu: float  # this process's CPU time during the turn, s
    cpu_baseline: float  # ... during the two replays, s
    layouts: int  # the screen's layout passes during the turn
    frames: int  # frames painted during the turn

    @property
    def overhead(self) -> float:
        return self.total - sum(self.baseline) - self.call


PHASES = (
    ("send -> request 1 sent", "store the user message, show it, start the worker, the tools, the context"),
    ("request 1, as the app reads it", "the tool call streamed, fed to the view and the accumulator"),
    ("request 1 end -> tool call starts", "save the answer, show the call block, check and approve the call"),
    ("tool call (hub.call)", "the MCP round trip: C, not counted"),
    ("tool call end -> request 2 sent", "save the result, show it, the next answer's row and context"),
    ("request 2, as the app reads it", "the answer streamed and shown"),
    ("request 2 end -> turn over", "save the answer, finish its view, end the worker"),
)


def instrument(app) -> Timeline:
    """Shims that note times and counts: the app's client (``chat``), its tool hub (``call``),
    the screen's layout passes and the frames painted."""
    timeline = Timeline()
    client = app.client
    original_chat = client.chat

    async def timed(events, record: Request):
        try:
            while True:
                started = time.perf_counter()
                try:
                    event = await events.__anext__()
                except StopAsyncIteration:
                    record.ended = time.perf_counter()
                    record.inside += record.ended - started
                    return
                record.inside += time.perf_counter() - started
                yield event
        finally:
            await events.aclose()

    def chat(*args, **kwargs):
        record = Request(args, kwargs, time.perf_counter())
        timeline.requests.append(record)
        return timed(original_chat(*args, **kwargs), record)

    client.chat = chat
    client.original_chat = original_chat  # for the replay
    hub = app.tools.hub
    original_call = hub.call

    async def call(*args, **kwargs):
        started = time.perf_counter()
        try:
            return await original_call(*args, **kwargs)
        finally:
            timeline.calls.append((started, time.perf_counter()))

    hub.call = call
    # Textual's Screen._refresh_layout: a layout pass, whose cost grows with the widgets mounted.
    screen = app.screen
    refresh_layout = screen._refresh_layout

    def counted_layout(*args, **kwargs):
        timeline.layouts += 1
        return refresh_layout(*args, **kwargs)

    screen._refresh_layout = counted_layout
    display = app._display

    def counted_display(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None:
            timeline.frames += 1

    app._display = counted_display
    return timeline


async def replay(app, request: Request) -> tuple[float, float]:
    """The same request again through the app's client, read to its last event: (seconds,
    CPU seconds of this process meanwhile)."""
    started, cpu = time.perf_counter(), time.process_time()
    async for _ in app.client.original_chat(*request.args, **request.kwargs):
        pass
    return time.perf_counter() - started, time.process_time() - cpu


async def one_turn(app, pilot, pane, timeline: Timeline, turn: int) -> Turn:
    timeline.requests.clear()
    timeline.calls.clear()
    gc.collect()
    await pilot.pause()
    await asyncio.sleep(0.05)  # the last turn's frames and messages are done with
    layouts, frames = timeline.layouts, timeline.frames
    started, cpu = time.perf_counter(), time.process_time()
    if not pane.send(LINE):
        raise RuntimeError(f"turn {turn}: the message was not sent")
    await pane._worker.wait()
    ended, cpu = time.perf_counter(), time.process_time() - cpu
    layouts, frames = timeline.layouts - layouts, timeline.frames - frames
    # What the turn must have left: the call, its result, the answer that quotes it.
    chat = app.store.get_chat(pane.chat.id) if pane.chat is not None else None
    path = app.store.path_to(chat.current_id, limit=4) if chat is not None else []
    roles = [(m.role, m.status) for m in path]
    if pane.is_streaming or roles != [("user", "complete"), ("assistant", "complete"), ("tool", "complete"),
                                      ("assistant", "complete")] or path[2].content != "5" \
            or not path[3].content.startswith("Tool results:"):
        raise RuntimeError(f"turn {turn} did not end as expected: {roles}, "
                           f"{[m.content[:60] for m in path]}")
    if len(timeline.requests) != 2 or len(timeline.calls) != 1 or None in (r.ended for r in timeline.requests):
        raise RuntimeError(f"turn {turn}: {len(timeline.requests)} requests, {len(timeline.calls)} tool calls")
    first, second = timeline.requests
    call_start, call_end = timeline.calls[0]
    assert first.ended is not None and second.ended is not None
    phases = dict(zip((name for name, _ in PHASES), (
        first.started - started,
        first.ended - first.started,
        call_start - first.ended,
        call_end - call_start,
        second.started - call_end,
        second.ended - second.started,
        ended - second.ended,
    )))
    await pilot.pause()
    await asyncio.sleep(0.05)
    (b1, cpu1), (b2, cpu2) = await replay(app, first), await replay(app, second)
    return Turn(ended - started, (b1, b2), call_end - call_start, phases, (first.inside, second.inside),
                cpu, cpu1 + cpu2, layouts, frames)


def tool_settings(names: tuple[str, ...] = ("calc",)):
    """Settings as the tests make them: tests/mcp_server.py over stdio under each name."""
    from apertis_tui.core.settings.file import Settings

    return Settings(extra={"mcp": {"servers": {name: {"command": PYTHON, "args": [str(MCP_SERVER)]}
                                               for name in names}}})


async def run_turns(folder: Path, base_url: str, turns: int,
                    profile: cProfile.Profile | None = None) -> tuple[list[Turn], int]:
    """A fresh app and chat: ``turns`` measured turns (after the warm-up ones); also how many
    message widgets were mounted at the end."""
    from apertis_tui.core.store import History
    from apertis_tui.core.types import ChatTools

    store = History(folder / f"tools-{time.monotonic_ns()}.db")
    app = make_app(store, base_url, folder, model="test/agent", settings=tool_settings())
    measured: list[Turn] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            PaintWatch(app)  # frames are turned into escape sequences, as for a terminal
            deadline = time.perf_counter() + 30
            while app.tools.hub is None:  # made in on_ready
                if time.perf_counter() > deadline:
                    raise RuntimeError("the tool hub did not appear")
                await pilot.pause(0.01)
            await app.tools.wait_started(30)
            if not app.tools.hub.tools():
                raise RuntimeError(f"the tool server did not start: {app.tools.hub.servers()}")
            pane = app.active_pane
            pane.set_chat_tools(ChatTools(always=("calc/add",)))
            timeline = instrument(app)
            for turn in range(WARMUP_TURNS + turns):
                if profile is not None and turn == WARMUP_TURNS:
                    profile.enable()
                result = await one_turn(app, pilot, pane, timeline, turn)
                if turn >= WARMUP_TURNS:
                    measured.append(result)
            if profile is not None:
                profile.disable()
            mounted = len(pane.messages.views)
    finally:
        store.close()
    return measured, mounted


def overhead_results(sessions: list[list[Turn]], mounted: int) -> list[Result]:
    turns = [t for session in sessions for t in session]
    n = len(turns)
    over = [t.overhead * 1000 for t in turns]
    per_chat = len(sessions[0])
    results = [
        Result(BENCH, "app overhead per tool round trip, median", median(over), "ms", OVERHEAD_MS, n,
               note="T_turn - B1 - B2 - C"),
        Result(BENCH, "app overhead per tool round trip, p95", p95(over), "ms", runs=n,
               note="nearest rank; no target: see the docstring"),
    ]
    if per_chat >= 20:
        first = [t.overhead * 1000 for session in sessions for t in session[:10]]
        last = [t.overhead * 1000 for session in sessions for t in session[-10:]]
        offset = 4 * WARMUP_TURNS  # messages in the chat before the first measured turn
        results += [
            Result(BENCH, "  overhead in a chat's first ten turns, median", median(first), "ms", runs=len(first),
                   note=f"{offset}-{offset + 36} messages before the turn"),
            Result(BENCH, "  overhead in its last ten turns, median", median(last), "ms", runs=len(last),
                   note=f"{offset + 4 * (per_chat - 10)}-{offset + 4 * (per_chat - 1)} messages before the turn "
                        f"({mounted} mounted at the end)"),
        ]
    results += [
        Result(BENCH, "whole turn (T_turn)", median(t.total * 1000 for t in turns), "ms", runs=n,
               note="send -> worker ended, answer stored"),
        Result(BENCH, "the two requests replayed (B1 + B2)", median(sum(t.baseline) * 1000 for t in turns), "ms",
               runs=n, note="same requests, app idle"),
        Result(BENCH, "MCP tool call (hub.call, C)", median(t.call * 1000 for t in turns), "ms", runs=n,
               note="stdio, tests/mcp_server.py's add"),
        Result(BENCH, "overhead with the requests' in-turn time subtracted instead",
               median((t.total - sum(t.inside) - t.call) * 1000 for t in turns), "ms", runs=n,
               note="cross-check; hides the loop's work during reads"),
        Result(BENCH, "CPU of this process per turn, beyond the replayed requests",
               median((t.cpu - t.cpu_baseline) * 1000 for t in turns), "ms", runs=n,
               note="the MCP client included; other processes do not inflate it"),
    ]
    return results


def print_phases(turns: list[Turn]) -> None:
    """The phases of a turn: the median of every turn, and of the slowest tenth (by overhead)."""
    slow = sorted(turns, key=lambda t: t.overhead)[-max(1, len(turns) // 10):]
    print(f"\nWhere a turn's time goes, ms: the median of all {len(turns)} turns | of the slowest {len(slow)} "
          "(by overhead); the replayed requests beside them")
    for name, what in PHASES:
        replayed = {PHASES[1][0]: 0, PHASES[5][0]: 1}.get(name)
        extra = "" if replayed is None else \
            f"(replayed alone: {median(t.baseline[replayed] * 1000 for t in turns):.1f})"
        print(f"  {median(t.phases[name] * 1000 for t in turns):6.1f} | {median(t.phases[name] * 1000 for t in slow):6.1f}"
              f"  {name:<35} {extra:<24} {what}")
    for label, value in (("whole turn", lambda t: t.total * 1000), ("overhead", lambda t: t.overhead * 1000),
                         ("CPU beyond the replays", lambda t: (t.cpu - t.cpu_baseline) * 1000),
                         ("layout passes of the screen", lambda t: t.layouts),
                         ("frames painted", lambda t: t.frames)):
        print(f"  {median(map(value, turns)):6.1f} | {median(map(value, slow)):6.1f}  {label}")


async def overhead_bench(args: argparse.Namespace, folder: Path) -> list[Result]:
    with ServerProcess(rate=0) as server:
        sessions, mounted = [], 0
        for _ in range(args.sessions):
            turns, mounted = await run_turns(folder, server.base_url, args.turns)
            sessions.append(turns)
        results = overhead_results(sessions, mounted)
        report(results, title=f"Tool round trip, {SIZE[0]}x{SIZE[1]} headless: {args.sessions} chats (a fresh app "
                              f"each) of {args.turns} turns, after {WARMUP_TURNS} not counted")
        every = [t for session in sessions for t in session]
        print_phases(every)
        over = [t.overhead * 1000 for t in every]
        if args.profile or median(over) > OVERHEAD_MS:
            profile = cProfile.Profile()
            profiled, _ = await run_turns(folder, server.base_url, args.turns, profile)
            print(f"\ncProfile of one more chat of {len(profiled)} turns (profiled, so slower; its replays are "
                  "in it too), by cumulative time:")
            print(profile_top(profile, 35, "cumulative"))
            print("\n... by own time:")
            print(profile_top(profile, 20, "tottime"))
    return results


# ---------------------------------------------------------------------------
# 2. First frame with three MCP servers configured


STAMP_THEN_SERVE = (
    "import os, sys, time\n"
    "with open(sys.argv[1], 'a') as out:\n"
    "    out.write(f'{time.monotonic():.6f}\\n')\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])\n"
)


def write_three_servers(config_home: Path, stamps: Path, wrapper: Path) -> Path:
    """A settings file with three stdio servers (tests/mcp_server.py under three names), each
    launched through ``wrapper``, which notes its launch time in ``stamps``."""
    wrapper.write_text(STAMP_THEN_SERVE, encoding="utf-8")
    path = config_home / "apertis-tui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    args = ["-S", str(wrapper), str(stamps), str(MCP_SERVER)]  # -S: the stamp is written sooner
    path.write_text("".join(
        f"[mcp.servers.{name}]\ncommand = {json.dumps(PYTHON)}\nargs = {json.dumps(args)}\n\n" for name in SERVER_NAMES
    ), encoding="utf-8")
    return path


async def servers_after_first_frame(folder: Path, base_url: str) -> tuple[float, float]:
    """In-process (run_test): the seconds from the first frame until the three servers are
    ready, and the event loop's longest stall in that time (a 5 ms sleep's lateness)."""
    from apertis_tui.core.store import History

    store = History(folder / f"three-{time.monotonic_ns()}.db")
    app = make_app(store, base_url, folder, settings=tool_settings(SERVER_NAMES))
    first: list[float] = []
    display = app._display

    def noting_first(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None and not first:
            first.append(time.perf_counter())

    app._display = noting_first
    samples: list[tuple[float, float]] = []  # (woke at, seconds late)

    async def probe() -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            samples.append((now, now - started - 0.005))

    task = asyncio.get_running_loop().create_task(probe())
    try:
        async with app.run_test(size=SIZE) as pilot:
            deadline = time.perf_counter() + 30
            while app.tools.hub is None:
                if time.perf_counter() > deadline:
                    raise RuntimeError("the tool hub did not appear")
                await pilot.pause(0.005)
            await app.tools.wait_started(30)
            ready = time.perf_counter()
            servers = app.tools.hub.servers()
            if any(status.state.value != "ready" for status in servers) or len(servers) != len(SERVER_NAMES):
                raise RuntimeError(f"the tool servers did not all start: {servers}")
    finally:
        task.cancel()
        store.close()
    stalls = [late for woke, late in samples if first and first[0] < woke <= ready]
    return ready - first[0], max(stalls, default=0.0)


def probe_servers(base_url: str) -> tuple[float, float]:
    """``servers_after_first_frame`` in a fresh process (run by this script's --probe-servers)."""
    done = subprocess.run([PYTHON, str(Path(__file__).resolve()), "--probe-servers", base_url],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"the in-process probe of the three servers failed:\n{done.stderr[-2000:]}")
    ready, stall = json.loads(done.stdout.strip().splitlines()[-1])
    return ready, stall


def startup_bench(args: argparse.Namespace, folder: Path) -> list[Result]:
    from startup import run_app, run_floor

    if not APP_BIN.exists():
        sys.exit(f"{APP_BIN} not found: run `make bench` (or pip install -e . into .venv) first")
    same_clock = time.get_clock_info("perf_counter").implementation == time.get_clock_info("monotonic").implementation
    with ServerProcess(rate=0) as server:
        env = isolated_env(folder / "pty", key=KEY, TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8")
        env.pop("TEXTUAL", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as startup.py: bytecode compiled, as pip leaves it
        subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "app" / "apertis_tui")], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        stamps = folder / "server-launches.txt"
        config_home = folder / "config-three-servers"
        write_three_servers(config_home, stamps, folder / "stamp_then_serve.py")
        three = {**env, "XDG_CONFIG_HOME": str(config_home)}

        def launch_three() -> tuple[float | None, float | None, list[float]]:
            """(first frame s, keys echoed s, each server's launch minus the first frame, s)."""
            stamps.unlink(missing_ok=True)
            before = time.perf_counter()  # (run_app's clock starts within microseconds of this)
            seconds, _rss, echoed = run_app(three, server.base_url)  # quits once the keys are echoed
            launches = [float(x) for x in stamps.read_text().split()] if stamps.exists() else []
            frame = before + seconds if seconds is not None else None
            return seconds, echoed, [t - frame for t in launches] if frame is not None else []

        # Warm-up, not counted: the history database, the file cache, mcp's modules.
        run_floor(env)
        run_app(env, server.base_url)
        if launch_three()[0] is None:
            sys.exit("the app with three tool servers did not start; see above")
        floors, plain, plain_echo, frames, echoes, gaps, launched = [], [], [], [], [], [], []
        for _ in range(args.runs):
            floor = run_floor(env)
            if floor is not None:
                floors.append(floor)
            seconds, _rss, echoed = run_app(env, server.base_url)
            if seconds is not None:
                plain.append(seconds)
            if echoed is not None:
                plain_echo.append(echoed)
            seconds, echoed, after = launch_three()
            if seconds is not None:
                frames.append(seconds)
            if echoed is not None:
                echoes.append(echoed)
            launched.append(len(after))
            if after:
                gaps.append(min(after))
        # In a process of its own each time: mcp is imported afresh, as at a real start.
        in_process = [probe_servers(server.base_url) for _ in range(3)]

    floor = median(floors)
    whole = len(frames) == args.runs and all(n == len(SERVER_NAMES) for n in launched)
    frame = median(frames) if frames and whole else None
    ratio = frame / floor if frame is not None else None
    early = [g for g in gaps if g < 0]
    if not same_clock:
        order, order_note = "", "not checked: perf_counter and monotonic are different clocks here"
    elif gaps and whole:
        order = "MISS" if early else "PASS"
        order_note = f"the earliest of all {min(gaps) * 1000:.0f} ms after; {len(early)} of {len(gaps)} runs had one before"
    else:
        order, order_note = "MISS", f"launches recorded per run: {launched}"
    results = [
        Result(BENCH, "floor: python -c 'import textual.app' (pty)", floor * 1000, "ms", runs=len(floors)),
        Result(BENCH, "apertis-tui without tool servers, first frame (pty)", median(plain) * 1000 if plain else None,
               "ms", runs=len(plain), note=f"reference (startup.py's figure): {median(plain) / floor:.2f} x floor"
               if plain else "reference"),
        Result(BENCH, f"apertis-tui, {len(SERVER_NAMES)} MCP servers configured, first frame (pty)",
               None if frame is None else frame * 1000, "ms", limit=FRAME_RATIO * floor * 1000, runs=len(frames),
               target_text=f"<= {FRAME_RATIO} x floor = {FRAME_RATIO * floor * 1000:.0f} ms"),
        Result(BENCH, f"  {len(SERVER_NAMES)} MCP servers configured / floor", ratio, "x", limit=FRAME_RATIO,
               runs=len(frames)),
        Result(BENCH, "  first server launched after the first frame, by", median(gaps) * 1000 if gaps else None,
               "ms", runs=len(gaps), target_text="> 0 in every run", given_verdict=order, note=order_note),
        Result(BENCH, "  keys typed at launch, echoed", median(echoes) * 1000 if echoes else None, "ms",
               runs=len(echoes), note=f"without servers: {median(plain_echo) * 1000:.0f} ms" if plain_echo else ""),
        Result(BENCH, "  the three servers ready, after the first frame (in-process)",
               median(r for r, _ in in_process) * 1000, "ms", runs=len(in_process),
               note="reference: mcp imported, servers started, tools listed"),
        Result(BENCH, "  the event loop's longest stall meanwhile (in-process)",
               median(s for _, s in in_process) * 1000, "ms", runs=len(in_process),
               note="keys and frames wait this long"),
    ]
    report(results, title=f"First frame with {len(SERVER_NAMES)} MCP servers configured, 120x40 pseudo-terminal, "
                          f"median of {args.runs} launches each")
    return results


# ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=3, help="apps (one chat each) for the round-trip figure")
    parser.add_argument("--turns", type=int, default=30, help="tool round trips measured per chat")
    parser.add_argument("--runs", type=int, default=9, help="launches for the first-frame figure")
    parser.add_argument("--only", choices=("overhead", "startup"), help="one of the two figures")
    parser.add_argument("--profile", action="store_true", help="profile a chat's turns even when on target")
    parser.add_argument("--probe-servers", metavar="URL", help=argparse.SUPPRESS)  # see probe_servers()
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="apertis-bench-") as tmp:
        folder = Path(tmp)
        isolate_here(folder)  # for the apps run in this process
        if args.probe_servers:
            print(json.dumps(asyncio.run(servers_after_first_frame(folder, args.probe_servers))))
            return
        if args.only in (None, "overhead"):
            asyncio.run(overhead_bench(args, folder))
        if args.only in (None, "startup"):
            startup_bench(args, folder)


if __name__ == "__main__":
    main()
