"""The model picker's filter, per keystroke, over the fake server's model ids.

    .venv/bin/python benchmarks/picker_filter.py [--runs N]

Types a few queries one letter at a time (and deletes them again) and prints medians and the
worst keystroke of:

- rank: ``core.models.rank`` with ``textual.fuzzy.FuzzySearch`` (a fresh one each run, so no
  query is answered from its cache) — the matching and ordering alone;
- screen: ``ModelPicker.apply_filter`` (rank + one ``Content`` row per match + ``OptionList``
  options) and rendering the list's visible lines, in the real app run headless (Pilot);
- keystroke: the CPU time (``time.process_time``) of ``pilot.press(letter)`` until the app is
  idle again: input, filter, layout and paint of the whole screen, plus Pilot's own polling;
  "idle key" is the same for a key that changes nothing (``right`` at the end of the filter), so
  the difference is what filtering adds. (Wall time is useless here: Pilot sleeps while it
  waits for idle.)

Target (issue 4): at most 16 ms per keystroke.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "app"), str(ROOT)]

from textual.fuzzy import FuzzySearch  # noqa: E402
from textual.geometry import Region  # noqa: E402

from apertis_tui.core.models import rank  # noqa: E402
from apertis_tui.core.events import ModelInfo  # noqa: E402
from tests.fake_server import MODEL_IDS, MODELS, FakeServer  # noqa: E402

QUERIES = ["claude35sonnet", "gpt4omini", "llama70b", "qwen3", "openrouter/gemini", "xyzzy", "-e-e-e-e"]
TARGET_MS = 16.0


def keystrokes() -> list[str]:
    """Every prefix of every query, typed then deleted again."""
    out: list[str] = []
    for query in QUERIES:
        prefixes = [query[:n] for n in range(1, len(query) + 1)]
        out += prefixes + prefixes[-2::-1] + [""]
    return out


def report(name: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    median = statistics.median(ms)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    verdict = "ok" if median <= TARGET_MS and p95 <= TARGET_MS else "OVER"
    print(f"{name:<10} median {median:6.2f} ms   p95 {p95:6.2f} ms   worst {ms[-1]:6.2f} ms   "
          f"({len(ms)} keystrokes)  target <= {TARGET_MS:g} ms: {verdict}")


def bench_rank(runs: int) -> list[float]:
    models = [ModelInfo(m["id"], m.get("owned_by", "")) for m in MODELS]
    favourites = MODEL_IDS[5:9]
    recents = MODEL_IDS[20:28]
    samples: list[float] = []
    for _ in range(runs):
        search = FuzzySearch()
        for query in keystrokes():
            started = time.perf_counter()
            rank(models, query, search.match, favourites, recents)
            samples.append(time.perf_counter() - started)
    return samples


async def bench_screen(runs: int) -> tuple[list[float], list[float], list[float]]:
    from apertis_tui.core.settings.file import Settings
    from apertis_tui.core.settings.resolve import resolve_connection
    from apertis_tui.core.store import History
    from apertis_tui.ui.app import ApertisApp, Startup
    from apertis_tui.ui.screens.model_picker import ModelPicker

    screen_samples: list[float] = []
    press_samples: list[float] = []
    baseline_samples: list[float] = []
    with tempfile.TemporaryDirectory() as folder, FakeServer(key="bench-key") as server:
        for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            os.environ[variable] = str(Path(folder) / variable)
        store = History(Path(folder) / "history.db")
        env = {"APERTIS_API_KEY": "bench-key"}
        app = ApertisApp(Startup(settings=Settings(), config_path=Path(folder) / "config.toml", store=store,
                                 connection=resolve_connection(Settings(), env, base_url_flag=server.base_url),
                                 model="gpt-4o", env=env))
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.press("ctrl+o")
            await app.workers.wait_for_complete()
            await pilot.pause()
            picker = app.screen
            assert isinstance(picker, ModelPicker) and picker.listing is not None
            rows = picker.row_list
            for _ in range(runs):
                for query in keystrokes():
                    started = time.perf_counter()
                    picker.apply_filter(query)
                    size = rows.scrollable_content_region.size
                    rows.render_lines(Region(0, 0, size.width, size.height))
                    screen_samples.append(time.perf_counter() - started)
            picker.filter.value = ""
            await pilot.pause()
            for _ in range(runs):  # several passes: the p95 of one pass (66 keys) was too noisy
                for query in QUERIES:
                    for letter in query:
                        idle = time.process_time()
                        await pilot.press("right")  # moves nothing: what a key costs without filtering
                        baseline_samples.append(time.process_time() - idle)
                        started = time.process_time()
                        await pilot.press(letter)
                        press_samples.append(time.process_time() - started)
                        assert picker.filter.value.endswith(letter)
                    picker.filter.value = ""
                    await pilot.pause()
        store.close()
    return screen_samples, press_samples, baseline_samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{len(MODEL_IDS)} model ids (tests/fake_server.py); queries: {', '.join(QUERIES)}; {args.runs} runs; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work makes the wall times noisy)")
    report("rank", bench_rank(args.runs))
    screen, press, baseline = asyncio.run(bench_screen(args.runs))
    report("screen", screen)
    report("keystroke", press)
    report("idle key", baseline)


if __name__ == "__main__":
    main()
