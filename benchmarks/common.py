"""Shared helpers for the benchmark scripts (not part of the test suite).

- ``Result`` rows and ``report()``: print a table with each figure's target and PASS/MISS; when
  run by ``run_all.py`` (``APERTIS_BENCH_RESULTS`` names a file) the rows are also appended there
  as JSON lines, so one combined table can be printed at the end.
- ``ServerProcess``: the fake server (tests/fake_server.py) in a process of its own, so its CPU
  time is not counted as ours. It reports when it wrote the last byte of each streamed answer
  (``time.monotonic()``, the same clock in every process on Linux), and for which model;
  ``long_models`` are ids that answer as ``test/long`` does (several models streaming long
  answers at once, each under its own id).
- ``PaintWatch``: hooks ``App._display`` to learn when a frame is painted. Headless apps
  (``run_test``) skip turning a frame into escape sequences; the watch does that work too (and
  throws the result away) so headless CPU figures include it.
- ``StallProbe``: the worst lateness of a 5 ms sleep on the app's event loop.
- ``rss_mb`` / ``cpu_seconds``: from /proc.

Run as ``python benchmarks/common.py serve --rate R [--long-models a,b]`` it is the fake server
process.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
for _path in (str(ROOT), str(ROOT / "app")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

PYTHON = sys.executable
APP_BIN = Path(sys.executable).parent / "apertis-tui"
KEY = "bench-key"
RESULTS_ENV = "APERTIS_BENCH_RESULTS"


# ---------------------------------------------------------------------------
# Figures and tables


def median(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


@dataclass
class Result:
    """One figure. ``limit`` is the target (lower is better); None: shown for information."""

    bench: str  # which script
    name: str  # what was measured
    value: float | None  # None: could not be measured (see note)
    unit: str = "ms"
    limit: float | None = None
    runs: int | None = 1  # the value is the median of this many runs (None: not known)
    note: str = ""
    target_text: str = ""  # how the target reads, when it is not simply "<= limit unit"
    given_verdict: str = ""  # a verdict decided elsewhere (a script's own printout, a failure)

    @property
    def target(self) -> str:
        if self.target_text:
            return self.target_text
        return "" if self.limit is None else f"<= {_number(self.limit)} {self.unit}".rstrip()

    @property
    def verdict(self) -> str:
        if self.given_verdict:
            return self.given_verdict
        if self.limit is None:
            return ""
        if self.value is None:
            return "MISS"
        return "PASS" if self.value <= self.limit else "MISS"

    @property
    def shown(self) -> str:
        return "n/a" if self.value is None else f"{_number(self.value)} {self.unit}".rstrip()


def _number(x: float) -> str:
    if x != x:  # nan
        return "nan"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def table(results: list[Result], *, with_bench: bool = False) -> str:
    header = (["benchmark"] if with_bench else []) + ["measure", "value", "target", "", "runs", "note"]
    rows = [
        ([r.bench] if with_bench else []) + [r.name, r.shown, r.target, r.verdict,
                                               "" if r.runs is None else str(r.runs), r.note]
        for r in results
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    right = {header.index("value"), header.index("runs")}

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(header), line(["-" * w for w in widths])]
    out += [line(row) for row in rows]
    return "\n".join(out)


def report(results: list[Result], title: str = "") -> None:
    """Print the table; hand the rows to run_all.py when it is the caller."""
    if title:
        print(f"\n{title}")
    print(table(results), flush=True)
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            for r in results:
                out.write(json.dumps(asdict(r)) + "\n")


def load_results(path: Path) -> list[Result]:
    if not path.exists():
        return []
    return [Result(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------------------
# Environment


def isolated_env(folder: Path, key: str | None = KEY, **extra: str) -> dict[str, str]:
    """os.environ with XDG dirs under ``folder`` and only the given API key."""
    env = {k: v for k, v in os.environ.items() if k not in ("APERTIS_API_KEY", "STIMA_API_KEY", "APERTIS_BASE_URL")}
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        d = folder / var.lower()
        d.mkdir(parents=True, exist_ok=True)
        env[var] = str(d)
    if key:
        env["APERTIS_API_KEY"] = key
    env.update(extra)
    return env


def isolate_here(folder: Path) -> None:
    """The same isolation for this process (for apps run in-process with run_test)."""
    os.environ.update(isolated_env(folder, key=None))
    for var in ("APERTIS_API_KEY", "STIMA_API_KEY", "APERTIS_BASE_URL"):
        os.environ.pop(var, None)


def make_app(store, base_url: str, folder: Path, *, model: str = "gpt-4o", session: bool = False,
             settings=None):
    """The real ApertisApp on ``store``, pointed at ``base_url``, as the tests build it
    (``settings``: a ``Settings``, by default the defaults)."""
    from apertis_tui.core.settings.file import Settings
    from apertis_tui.core.settings.resolve import resolve_connection
    from apertis_tui.ui.app import ApertisApp, Startup

    env = {"APERTIS_API_KEY": KEY}
    settings = settings or Settings()
    return ApertisApp(Startup(
        settings=settings,
        config_path=folder / "config" / "config.toml",
        store=store,
        connection=resolve_connection(settings, env, base_url_flag=base_url),
        model=model,
        env=env,
        session_path=folder / "session.json" if session else None,
    ))


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size (VmRSS) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------
# Stored chats


_VOCABULARY = (
    "the a an stream token model answer server client widget render terminal buffer latency frame "
    "markdown table code block list heading paragraph quote history message chat screen cursor scroll "
    "line cache layout width height style theme color key binding worker event request response "
    "socket chunk header body retry error quota limit usage cost prompt context window reasoning tool"
).split()
_SNIPPETS = [
    ("python", "def fib(n: int) -> int:\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a"),
    ("sql", "SELECT chat_id, COUNT(*) AS n\nFROM messages\nGROUP BY chat_id\nORDER BY n DESC\nLIMIT 10;"),
    ("bash", 'for f in *.md; do\n  wc -w "$f"\ndone'),
]


def message_text(rng, role: str, closing: str) -> str:
    """A plausible message: a user's question, or a Markdown answer of ~150-350 words with a
    heading, paragraphs, a list and now and then a code block or a table. Ends with
    ``closing`` (a sentence that tells the message apart on screen)."""

    def words(n: int) -> str:
        return " ".join(rng.choice(_VOCABULARY) for _ in range(n)).capitalize()

    if role == "user":
        return f"{words(rng.randint(8, 30))}? {closing}"
    blocks = [f"## {words(rng.randint(2, 5))}"]
    for k in range(rng.randint(3, 6)):
        blocks.append(" ".join(words(rng.randint(8, 16)) + "." for _ in range(rng.randint(2, 5))))
        if k == 1:
            blocks.append("\n".join(f"- {words(rng.randint(3, 8))}" for _ in range(rng.randint(3, 5))))
        if k == 2 and rng.random() < 0.5:
            lang, code = rng.choice(_SNIPPETS)
            blocks.append(f"```{lang}\n{code}\n```")
        if k == 3 and rng.random() < 0.3:
            blocks.append("| a | b |\n|---|---|\n" + "\n".join(f"| {words(2)} | {rng.randint(1, 999)} |"
                                                           for _ in range(3)))
    blocks.append(closing)
    return "\n\n".join(blocks)


def closing_line(chat: int, number: int, total: int) -> str:
    return f"Closing words of chat {chat} message {number} of {total}."


def fill_store(store, chats: int, messages: int, seed: int = 9) -> list[int]:
    """``chats`` stored chats of ``messages`` messages each (user and assistant in turn); the
    n-th message of chat c ends with ``closing_line(c, n, messages)``. Returns the chat ids."""
    import random

    rng = random.Random(seed)
    ids = []
    for c in range(1, chats + 1):
        chat = store.create_chat("gpt-4o", title=f"Benchmark chat {c}")
        for n in range(1, messages + 1):
            role = "user" if n % 2 else "assistant"
            store.add_message(chat.id, role, message_text(rng, role, closing_line(c, n, messages)),
                              model="gpt-4o" if role == "assistant" else None)
        ids.append(chat.id)
    return ids


# ---------------------------------------------------------------------------
# The fake server in its own process


class ServerProcess:
    """``tests/fake_server.py`` in a child process; ``stream_ends`` are the monotonic times at
    which it wrote the last byte of each streamed answer, ``ends_by_model`` the same per model.
    ``long_models``: model ids that answer as ``test/long`` (the fake server's long Markdown
    answer, "tokens=N" in the last user message asking for N tokens)."""

    def __init__(self, rate: float = 0, key: str = KEY, long_models: Iterable[str] = (),
                 report_requests: bool = False) -> None:
        self.rate = rate
        self.key = key
        self.long_models = tuple(long_models)
        # With ``report_requests``: when each chat request reached the server (its headers read).
        self.report_requests = report_requests
        self.request_times: list[float] = []
        self.stream_ends: list[float] = []
        self.ends_by_model: dict[str, list[float]] = {}
        self._proc: subprocess.Popen[str] | None = None
        self._ended = threading.Condition()
        self.base_url = ""

    def start(self) -> "ServerProcess":
        argv = [PYTHON, str(Path(__file__).resolve()), "serve", "--rate", str(self.rate), "--key", self.key]
        if self.long_models:
            argv += ["--long-models", ",".join(self.long_models)]
        if self.report_requests:
            argv += ["--report-requests"]
        self._proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self._proc.stdout is not None
        first = self._proc.stdout.readline()
        if not first.startswith("url "):
            self.stop()
            raise RuntimeError(f"the fake server did not start: {first!r}")
        self.base_url = first.split()[1]
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            if line.startswith("request "):
                with self._ended:
                    self.request_times.append(float(line.split()[1]))
                    self._ended.notify_all()
            elif line.startswith("end "):
                fields = line.split()
                with self._ended:
                    self.stream_ends.append(float(fields[1]))
                    if len(fields) > 2:
                        self.ends_by_model.setdefault(fields[2], []).append(float(fields[1]))
                    self._ended.notify_all()

    def wait_stream_end(self, count: int, timeout: float = 10.0) -> float | None:
        """The time the ``count``-th answer's last byte was written (waits for the report)."""
        with self._ended:
            self._ended.wait_for(lambda: len(self.stream_ends) >= count, timeout)
            return self.stream_ends[count - 1] if len(self.stream_ends) >= count else None

    def wait_request(self, count: int, timeout: float = 10.0) -> float | None:
        """The time the ``count``-th chat request reached the server (``report_requests``)."""
        with self._ended:
            self._ended.wait_for(lambda: len(self.request_times) >= count, timeout)
            return self.request_times[count - 1] if len(self.request_times) >= count else None

    def wait_model_end(self, model: str, count: int, timeout: float = 10.0) -> float | None:
        """The time the ``count``-th answer of ``model`` had its last byte written."""
        with self._ended:
            self._ended.wait_for(lambda: len(self.ends_by_model.get(model, ())) >= count, timeout)
            ends = self.ends_by_model.get(model, [])
            return ends[count - 1] if len(ends) >= count else None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _serve(argv: list[str]) -> None:
    import argparse
    import signal

    from tests import fake_server

    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=0)
    parser.add_argument("--key", default=KEY)
    parser.add_argument("--long-models", default="", help="comma-separated ids that answer as test/long")
    parser.add_argument("--report-requests", action="store_true", help="print when each chat request arrives")
    args = parser.parse_args(argv)

    original = fake_server._Handler._stream

    said = threading.Lock()

    def stream(self, model, *a, **k):  # report when the last byte of an answer has been written
        try:
            return original(self, model, *a, **k)
        finally:
            ended = time.monotonic()
            with said:  # answers end in threads of their own: one whole line at a time
                sys.stdout.write(f"end {ended:.6f} {model}\n")
                sys.stdout.flush()

    fake_server._Handler._stream = stream  # type: ignore[method-assign]
    if args.report_requests:
        dispatch = fake_server._Handler._dispatch

        def arrived(self, method):  # the request line and headers are read; the body not yet
            if method == "POST" and "/chat/completions" in self.path:
                with said:
                    sys.stdout.write(f"request {time.monotonic():.6f}\n")
                    sys.stdout.flush()
            return dispatch(self, method)

        fake_server._Handler._dispatch = arrived  # type: ignore[method-assign]
    long_models = frozenset(m for m in args.long_models.split(",") if m)
    if long_models:
        answer_for = fake_server._Handler._answer_for

        def long_answer_for(self, model, messages):  # the model keeps its id in the chunks
            return answer_for(self, "test/long" if model in long_models else model, messages)

        fake_server._Handler._answer_for = long_answer_for  # type: ignore[method-assign]
    server = fake_server.FakeServer(key=args.key, rate=args.rate).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(f"url {server.base_url}", flush=True)
    done.wait()
    server.stop()


# ---------------------------------------------------------------------------
# Watching a running app


def screen_text(app) -> str:
    """The characters on the app's screen, as the user sees them."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def on_screen(app, words: str) -> bool:
    """``words`` (whitespace-normalised) appear on the screen, possibly wrapped over lines."""
    return " ".join(words.split()) in " ".join(screen_text(app).split())


def tail_words(text: str, n: int = 6) -> str:
    return " ".join(text.split()[-n:])


class PaintWatch:
    """Notes every frame the app paints; ``until(condition)`` waits for the first frame
    painted after the call at which ``condition()`` holds (checked right after the paint)."""

    def __init__(self, app, *, render_output: bool = True) -> None:
        self.app = app
        self.frames = 0
        self.last_paint = 0.0
        self.last_paint_cpu = 0.0
        self.hit_cpu = 0.0  # process_time() at the paint ``until`` returned
        self._render_output = render_output
        self._condition: Callable[[], bool] | None = None
        self._hit: asyncio.Future[float] | None = None
        original = app._display

        def display(screen, renderable) -> None:
            original(screen, renderable)
            if renderable is None:
                return
            if self._render_output and app.is_headless and hasattr(renderable, "render_segments"):
                renderable.render_segments(app.console)  # what a terminal would be sent
            self.frames += 1
            self.last_paint = time.monotonic()
            self.last_paint_cpu = time.process_time()
            self._check()

        app._display = display

    def _check(self) -> None:
        if self._condition is not None and self._hit is not None and not self._hit.done():
            if self._condition():
                self.hit_cpu = self.last_paint_cpu
                self._hit.set_result(self.last_paint)
                self._condition = None

    async def until(self, condition: Callable[[], bool], timeout: float = 30.0, *,
                    trigger: Callable[[], object] | None = None) -> float | None:
        """time.monotonic() of the first paint after which ``condition()`` holds; None on timeout.
        (``hit_cpu`` is then the process_time() at that paint.) ``trigger`` (sync or async)
        runs after the watch is armed."""
        self._hit = asyncio.get_running_loop().create_future()
        self._condition = condition
        if trigger is not None:
            result = trigger()
            if asyncio.iscoroutine(result):
                await result
        try:
            return await asyncio.wait_for(asyncio.shield(self._hit), timeout)
        except asyncio.TimeoutError:
            return None
        finally:
            self._condition = None


class StallProbe:
    """Sleeps 5 ms in a loop on the running event loop; ``worst`` is the largest lateness (s)."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.worst = 0.0
        self.samples = 0
        self._task: asyncio.Task | None = None

    def start(self) -> "StallProbe":
        self.worst, self.samples = 0.0, 0
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def _run(self) -> None:
        period = self.period
        while True:
            started = time.perf_counter()
            await asyncio.sleep(period)
            late = time.perf_counter() - started - period
            self.samples += 1
            if late > self.worst:
                self.worst = late

    async def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        return self.worst


class GcWatch:
    """Times the garbage collector's passes (a full collection of a big heap stalls the loop)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []  # (generation, seconds)
        self._started = 0.0

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info.get("generation", -1), time.perf_counter() - self._started))

    def __enter__(self) -> "GcWatch":
        import gc

        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        import gc

        gc.callbacks.remove(self._callback)

    @property
    def worst(self) -> float:
        return max((seconds for _, seconds in self.pauses), default=0.0)

    @property
    def total(self) -> float:
        return sum(seconds for _, seconds in self.pauses)

    def describe(self) -> str:
        full = [seconds for generation, seconds in self.pauses if generation == 2]
        return (f"{len(self.pauses)} passes, {self.total * 1000:.0f} ms in all; {len(full)} full (gen 2), "
                f"{sum(full) * 1000:.0f} ms")


class StallSampler:
    """Where the event loop is while it stalls: a thread samples the loop thread's stack every
    few ms whenever the loop has not ticked for ``threshold`` seconds.

    ``summary()`` shows the worst stall's samples, then all stalled time added up by the
    innermost frame of our package, by the first frames under the event loop's dispatch
    machinery, and by leaf function. A sample stands for the time since the previous sample of
    the same stall: the loop thread holds the GIL, so samples come every ~5 ms at best."""

    _PLUMBING = ("/asyncio/", "/threading.py", "textual/message_pump.py", "textual/_callback.py",
                 "textual/timer.py", "textual/app.py", "textual/_context.py", "textual/worker.py",
                 "benchmarks/", "contextvars", "/selectors.py")

    def __init__(self, threshold: float = 0.05, interval: float = 0.002) -> None:
        self.threshold, self.interval = threshold, interval
        # stall start (the last tick before it) -> [(weight, innermost of ours, entry path, leaf)]
        self.stalls: dict[float, list[tuple[float, str, str, str]]] = {}
        self._last_tick = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop_thread = threading.get_ident()
        self._task: asyncio.Task | None = None

    async def _tick(self) -> None:
        while True:
            self._last_tick = time.monotonic()
            await asyncio.sleep(0.005)

    def start(self) -> "StallSampler":
        self._loop_thread = threading.get_ident()
        self._last_tick = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._tick())
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    async def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._task is not None:
            self._task.cancel()

    @staticmethod
    def _where(frame) -> str:
        code = frame.f_code
        short = code.co_filename.split("site-packages/")[-1].split("/app/")[-1].split("/lib/python3.")[-1]
        return f"{short}:{frame.f_lineno} {code.co_name}"

    def _watch(self) -> None:
        previous = 0.0
        while not self._stop.wait(self.interval):
            now, tick = time.monotonic(), self._last_tick
            stalled_since = tick + self.threshold
            if now < stalled_since:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is None:
                continue
            weight = now - max(previous, stalled_since)
            previous = now
            stack = []
            while frame is not None:
                stack.append(frame)
                frame = frame.f_back
            if stack[0].f_code is GcWatch._callback.__code__:
                # A collection holds the GIL from start to end: the first chance to sample is
                # in GcWatch's callback as it ends, so this sample stands for the collection.
                stack = stack[1:]
                leaf = "(the garbage collector: a pass that just ended)"
            else:
                leaf = self._where(stack[0])
            ours = next((f for f in stack if "apertis_tui" in f.f_code.co_filename), None)
            below = [f for f in reversed(stack)
                     if f.f_code.co_name != "<module>" and not any(p in f.f_code.co_filename for p in self._PLUMBING)]
            self.stalls.setdefault(tick, []).append((
                weight,
                self._where(ours) if ours is not None else "(none of our code on the stack)",
                " > ".join(self._where(f) for f in below[:3]) or "(event loop)",
                leaf,
            ))

    def summary(self, limit: int = 8) -> str:
        if not self.stalls:
            return f"  no stall over {self.threshold * 1000:.0f} ms was sampled"
        ms = self.threshold * 1000
        samples = [s for stall in self.stalls.values() for s in stall]

        def grouped(rows, index: int, indent: str = "    ") -> list[str]:
            totals: dict[str, float] = {}
            for row in rows:
                totals[row[index]] = totals.get(row[index], 0.0) + row[0]
            return [f"{indent}{t * 1000:7.0f} ms  {where}"
                    for where, t in sorted(totals.items(), key=lambda kv: -kv[1])[:limit]]

        worst = max(self.stalls.values(), key=lambda rows: sum(r[0] for r in rows))
        out = [f"  {len(self.stalls)} stalls over {ms:.0f} ms, {sum(s[0] for s in samples) * 1000:.0f} ms past "
               f"their first {ms:.0f} ms in all ({len(samples)} samples)",
               f"  the worst stall ({sum(r[0] for r in worst) * 1000 + ms:.0f} ms), by entry path:"]
        out += grouped(worst, 2)
        for title, index in (("innermost frame of our code", 1), ("entry path under the event loop", 2),
                             ("leaf function", 3)):
            out.append(f"  all stalls, by {title}:")
            out += grouped(samples, index)
        return "\n".join(out)


_PROFILE_PLUMBING = ("message_pump.py", "_callback.py", "/asyncio/", "<frozen", "_contextvars", "timer.py",
                     "worker.py", "{method 'poll'", "{built-in method builtins.exec}", "benchmarks/",
                     "{built-in method builtins.next}", "selectors.py")


def profile_top(profile, limit: int = 25, sort: str = "cumulative") -> str:
    """The top of a cProfile.Profile as text, without the event loop's and Textual's dispatch
    frames (every call passes through them). ``sort``: "cumulative" or "tottime"."""
    import pstats

    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    rows = []
    for (filename, line, name), (_cc, calls, self_time, cumulative, _callers) in stats.items():
        where = f"{filename}:{line}({name})" if filename != "~" else name
        if any(p in where for p in _PROFILE_PLUMBING):
            continue
        short = where.split("site-packages/")[-1].split("/app/")[-1].split("/lib/python3.11/")[-1]
        rows.append((cumulative if sort == "cumulative" else self_time, self_time, cumulative, calls, short))
    out = [f"  {'cumulative':>10}  {'self':>8}  {'calls':>7}  function"]
    for _key, self_time, cumulative, calls, where in sorted(rows, reverse=True)[:limit]:
        out.append(f"  {cumulative * 1000:7.0f} ms  {self_time * 1000:5.0f} ms  {calls:7d}  {where}")
    return "\n".join(out)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        _serve(sys.argv[2:])
    else:
        print(__doc__)


def run_isolated(bench, args) -> None:
    """Run ``await bench(args, folder)`` with a throwaway folder for every file the app writes."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="apertis-bench-") as tmp:
        folder = Path(tmp)
        isolate_here(folder)
        asyncio.run(bench(args, folder))
