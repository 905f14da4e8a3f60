"""Startup: launch to the first painted frame of the conversation screen, in a real terminal.

    .venv/bin/python benchmarks/startup.py [--runs N] [--profile]

Each run starts the installed console script as a user usually does, without arguments
(``.venv/bin/apertis-tui``; the fake server's URL in APERTIS_BASE_URL, the key in
APERTIS_API_KEY, XDG dirs of its own) in a pseudo-terminal of 120x40 and reads what
it writes until the status line's "ready" is painted (it appears only in the painted
conversation screen), then quits it with ctrl+q. The app's bytecode is compiled first, as
``pip install`` leaves it. Keys typed at launch (held by the terminal until the app reads
them) are timed too, until they are echoed in the prompt: the first frame shows a stand-in for
the prompt, replaced right after it, so that figure says when typing is live. In the same run,
alternating with it:

- the floor: ``python -c "import textual.app"``, timed the same way: from launch until it
  prints a marker right after the import (so neither side counts the interpreter's exit,
  which adds ~50 ms to the floor when it is timed to the process's end);
- for reference, a hello-world Textual app to its first frame in the same kind of terminal.

The history database exists already (a first launch of the series creates it and is not
counted), as it does for everyone but a first-time user. No chat is restored: the first frame
shows an empty chat (restoring chats adds the Markdown renderer and their messages).

Target (issue 9): the app's first frame <= 1.3 x the floor. When it is missed (or with
``--profile``) the script prints where the time goes: plain timings of the imports and the
HTTP client the start adds over the floor, the same imports by package (``-X importtime``), and
a cProfile of the start after its imports, up to the first frame.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import APP_BIN, KEY, PYTHON, ROOT, Result, ServerProcess, isolated_env, median, report  # noqa: E402

BENCH = "startup"
COLS, ROWS = 120, 40
MARKER = "ready"  # the status line of a painted conversation screen
TYPED = "qzx"  # typed at launch; not otherwise on the screen
FLOOR_CODE = "import textual.app"
FLOOR_MARKER = "textual-imported"
HELLO_CODE = (
    "from textual.app import App\n"
    "from textual.widgets import Static\n"
    "class Hello(App):\n"
    "    def compose(self):\n"
    "        yield Static('hello-first-frame')\n"
    "Hello().run()\n"
)
_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|P[^\x1b]*\x1b\\|[@-Z\\-_])")


class Launch:
    """A process in a fresh pseudo-terminal; ``time_to(marker)`` reads until it is painted."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # the child: size its terminal, then become the program
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.raw = b""

    def time_to(self, marker: str, timeout: float = 30.0, after: str | None = None) -> float | None:
        """Seconds from launch until ``marker`` is painted (after ``after``, if given)."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # the child exited
                return None
            if not data:
                return None
            now = time.perf_counter()
            self.raw += data
            text = _ESCAPES.sub("", self.raw.decode("utf-8", "replace"))
            if after is not None:
                start = text.find(after)
                text = text[start + len(after):] if start >= 0 else ""
            if marker in text:
                return now - self.started
        return None

    def quit(self, keys: bytes = b"\x11") -> None:
        """ctrl+q, then wait for the exit (draining the output); kill it if it hangs."""
        try:
            os.write(self.fd, keys)
        except OSError:
            pass
        deadline = time.perf_counter() + 5
        while time.perf_counter() < deadline:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    os.read(self.fd, 65536)
                except OSError:
                    pass
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def run_app(env: dict[str, str], base_url: str) -> tuple[float | None, float | None, float | None]:
    """Seconds to the first frame; the app's RSS (MiB) right then; seconds until keys typed at
    launch are echoed in the prompt (the terminal holds them until the app reads them)."""
    launch = Launch([str(APP_BIN)], {**env, "APERTIS_BASE_URL": base_url})
    os.write(launch.fd, TYPED.encode())
    seconds = launch.time_to(MARKER)
    rss = None
    try:
        for line in Path(f"/proc/{launch.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
    except OSError:
        pass
    # The terminal echoes the keys itself until the app takes it over: only count them after
    # the first frame.
    echoed = launch.time_to(TYPED, after=MARKER) if seconds is not None else None
    launch.quit()
    if seconds is None:
        tail = _ESCAPES.sub("", launch.raw.decode("utf-8", "replace"))[-600:]
        print(f"  the app did not paint {MARKER!r}; it wrote: {tail!r}", file=sys.stderr)
    return seconds, rss, echoed


RESTORED = (3, 20)  # chats restored, messages in each


def restore_chats(env: dict[str, str], runs: int) -> int:
    """Store RESTORED chats in the app's history and make them the last session's open chats,
    as the app leaves them when quit. Returns ``runs``."""
    saved = {var: os.environ.get(var) for var in ("XDG_DATA_HOME", "XDG_STATE_HOME")}
    os.environ.update({var: env[var] for var in saved})  # where the app will look
    try:
        from apertis_tui.core.paths import default_db_path, session_path
        from apertis_tui.core.session import Session, save_session
        from apertis_tui.core.store import History
        from common import fill_store

        store = History(default_db_path())
        try:
            ids = fill_store(store, *RESTORED)
        finally:
            store.close()
        save_session(session_path(default_db_path()), Session(ids, len(ids) - 1))
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
    return runs


def run_hello(env: dict[str, str]) -> float | None:
    launch = Launch([PYTHON, "-c", HELLO_CODE], env)
    seconds = launch.time_to("hello-first-frame")
    launch.quit()
    return seconds


def run_floor(env: dict[str, str]) -> float | None:
    launch = Launch([PYTHON, "-c", f"{FLOOR_CODE}\nprint({FLOOR_MARKER!r}, flush=True)"], env)
    seconds = launch.time_to(FLOOR_MARKER)
    launch.quit()
    return seconds


# ---------------------------------------------------------------------------
# Where the time goes


def importtime(code: str, env: dict[str, str]) -> dict[str, tuple[int, int]]:
    """module -> (self us, cumulative us), from ``python -X importtime -c code``."""
    done = subprocess.run([PYTHON, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True)
    out: dict[str, tuple[int, int]] = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if match:
            out[match.group(4)] = (int(match.group(1)), int(match.group(2)))
    return out


_STEPS = '''
import json, sys, time
steps = []
def step(name, code):
    started = time.perf_counter()
    exec(code, globals())
    steps.append((name, time.perf_counter() - started))
step("import textual.app (the floor)", "import textual.app")
step("import apertis_tui.cli", "import apertis_tui.cli")
step("import apertis_tui.core.settings (file, validation, resolve)", "import apertis_tui.core.settings.resolve")
step("import apertis_tui.core.store (sqlite_utils ...)", "import apertis_tui.core.store")
step("import apertis_tui.ui.app (the rest)", "import apertis_tui.ui.app")
step("import httpx (not at start: on the first request)", "import httpx")
step("import rich.markdown + markdown_it (not at start: on the first answer)", "import rich.markdown")
step("httpx.AsyncClient() (not at start: on the first request)", "httpx.AsyncClient()")
print(json.dumps(steps))
'''


def step_report(env: dict[str, str], runs: int = 5) -> None:
    """Plain timings (no -X importtime overhead) of what the app's start imports and builds,
    in the order it does, each after the ones above it."""
    import json

    samples = [json.loads(subprocess.run([PYTHON, "-c", _STEPS], env=env, capture_output=True, text=True,
                                         check=True).stdout) for _ in range(runs)]
    print(f"\nWhat the start adds, step by step (plain timings, median of {runs}; each after the steps above):")
    for i, (name, _) in enumerate(samples[0]):
        print(f"  {median(s[i][1] for s in samples) * 1000:7.1f} ms  {name}")


def import_report(env: dict[str, str], runs: int = 3) -> None:
    """The modules the app imports beyond ``import textual.app``, by package and by our module."""
    app_code = ("import apertis_tui.cli, apertis_tui.core.settings.resolve, apertis_tui.core.store, "
                "apertis_tui.ui.app")  # what cli.main() imports before the app runs
    floors, apps = [importtime(FLOOR_CODE, env) for _ in range(runs)], [importtime(app_code, env) for _ in range(runs)]

    def med(samples: list[dict[str, tuple[int, int]]], module: str, index: int) -> float:
        return median(s[module][index] for s in samples if module in s) / 1000

    extra = sorted(set(apps[0]) - set(floors[0]))
    total_floor = med(floors, "textual.app", 1) if "textual.app" in floors[0] else float("nan")
    by_package: dict[str, float] = defaultdict(float)
    for module in extra:
        by_package[module.split(".")[0]] += med(apps, module, 0)
    print(f"\nImports (python -X importtime, median of {runs}): textual.app itself takes {total_floor:.0f} ms "
          f"cumulative; the app's start imports {len(extra)} more modules:")
    print("  self time of the extra modules, by top-level package:")
    for package, ms in sorted(by_package.items(), key=lambda kv: -kv[1])[:15]:
        print(f"    {package:<28} {ms:7.1f} ms")
    print(f"    {'(all extra modules)':<28} {sum(by_package.values()):7.1f} ms")
    print("  our modules, cumulative (each includes what it imported first):")
    ours = [m for m in apps[0] if m.startswith("apertis_tui")]
    for module in sorted(ours, key=lambda m: -med(apps, m, 1))[:14]:
        print(f"    {module:<40} {med(apps, module, 1):7.1f} ms")


def cprofile_report(env: dict[str, str], base_url: str, folder: Path) -> None:
    """cProfile of the app from launch to its first frame (the profile is written at exit)."""
    out = folder / "startup.prof"
    launcher = (
        "import cProfile, sys\n"
        "from apertis_tui.ui.app import ApertisApp\n"
        "profile = cProfile.Profile()\n"
        "profile.enable()\n"
        "def ready(self, _original=ApertisApp.conversation_ready):\n"
        "    _original(self)\n"
        "    self.call_after_refresh(lambda: (profile.disable(), profile.dump_stats(sys.argv[1])))\n"
        "ApertisApp.conversation_ready = ready\n"
        "from apertis_tui.cli import main\n"
        "sys.exit(main(sys.argv[2:]))\n"
    )
    # The package imports above run before enable(): profile them separately (importtime).
    launch = Launch([PYTHON, "-c", launcher, str(out), "--base-url", base_url], env)
    launch.time_to(MARKER)
    deadline = time.perf_counter() + 5
    while not out.exists() and time.perf_counter() < deadline:
        time.sleep(0.05)
    launch.quit()
    if not out.exists():
        print("  (no profile written)")
        return
    import pstats

    stats = pstats.Stats(str(out))
    total = max(v[3] for v in stats.stats.values())  # type: ignore[attr-defined]
    print(f"\ncProfile of the app after its imports, to the first frame ({total * 1000:.0f} ms profiled, "
          "so slower than unprofiled); most cumulative time:")
    rows = []
    for (filename, line, name), (_cc, calls, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = filename.split("site-packages/")[-1].split("/app/")[-1]
        rows.append((ct, tt, calls, f"{short}:{line}({name})"))
    # Leave out the frames every call passes through (event loop, message dispatch, import machinery).
    generic = ("message_pump.py", "_callback.py", "asyncio/", "<frozen", "{built-in", "{method", "_contextvars",
               "runners.py", "base_events.py", "events.py", "app.py:2308(run)", "app.py:2220(run_async)",
               "app.py:2334(run_app)", "app.py:3364(_process_messages)", "app.py:3420(run_process_messages)",
               "cli.py")
    interesting = [r for r in rows if not any(g in r[3] for g in generic)]
    for ct, tt, calls, where in sorted(interesting, reverse=True)[:30]:
        print(f"  {ct * 1000:7.1f} ms cum  {tt * 1000:6.1f} ms self  {calls:6d} calls  {where}")


# ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--profile", action="store_true", help="show where the time goes even when on target")
    args = parser.parse_args()
    if not APP_BIN.exists():
        sys.exit(f"{APP_BIN} not found: run `make bench` (or pip install -e . into .venv) first")

    with tempfile.TemporaryDirectory(prefix="apertis-bench-") as tmp, ServerProcess(rate=0) as server:
        folder = Path(tmp)
        env = isolated_env(folder, key=KEY, TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8")
        env.pop("TEXTUAL", None)
        # As `pip install` leaves a package, and as Python leaves it after a first run: with
        # its bytecode compiled. (Without this, PYTHONDONTWRITEBYTECODE=1 in the environment
        # would make every launch compile the app's modules again, ~12 ms.)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "app" / "apertis_tui")], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        # Warm-up, not counted: creates the history database and settles the file cache.
        run_floor(env)
        run_hello(env)
        if run_app(env, server.base_url)[0] is None:
            sys.exit("the app did not start; see above")
        apps, rss, floors, hellos, echoes = [], [], [], [], []
        for _ in range(args.runs):
            floor_seconds = run_floor(env)
            if floor_seconds is not None:
                floors.append(floor_seconds)
            seconds, mem, echoed = run_app(env, server.base_url)
            if seconds is not None:
                apps.append(seconds)
            if echoed is not None:
                echoes.append(echoed)
            if mem is not None:
                rss.append(mem)
            hello = run_hello(env)
            if hello is not None:
                hellos.append(hello)
        # For reference: the first frame when the last session's chats come back.
        restored = [t for t in (run_app(env, server.base_url)[0] for _ in range(restore_chats(env, args.runs))) if t]
        floor = median(floors)
        app = median(apps) if apps else None
        ratio = app / floor if app is not None else None
        runs = args.runs
        report([
            Result(BENCH, "floor: python -c 'import textual.app' (pty)", floor * 1000, "ms", runs=len(floors)),
            Result(BENCH, "hello-world Textual app, first frame (pty)", median(hellos) * 1000, "ms", runs=len(hellos),
                   note="reference"),
            Result(BENCH, "apertis-tui, first frame (pty)", None if app is None else app * 1000, "ms",
                   limit=1.3 * floor * 1000, runs=len(apps), target_text=f"<= 1.3 x floor = {1.3 * floor * 1000:.0f} ms"),
            Result(BENCH, "apertis-tui / floor", ratio, "x", limit=1.3, runs=len(apps)),
            Result(BENCH, f"first frame with {RESTORED[0]} chats restored (pty)", median(restored) * 1000 if restored
                   else None, "ms", runs=len(restored),
                   note=f"reference: {RESTORED[1]} messages in front, Markdown rendered"),
            Result(BENCH, "keys typed at launch, echoed in the prompt", median(echoes) * 1000 if echoes else None,
                   "ms", runs=len(echoes), note="the prompt is live"),
            Result(BENCH, "apertis-tui RSS at first frame", median(rss) if rss else None, "MiB", runs=len(rss)),
        ], title=f"Startup, {COLS}x{ROWS} pseudo-terminal, median of {runs} runs each")
        if args.profile or ratio is None or ratio > 1.3:
            step_report(env)
            import_report(env)
            cprofile_report(env, server.base_url, folder)


if __name__ == "__main__":
    main()
