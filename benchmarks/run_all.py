"""Run every benchmark script in benchmarks/ and print one table of figures and targets.

    .venv/bin/python benchmarks/run_all.py [--only a,b] [--skip a,b] [--runs N] [--strict]
    make bench                        (the same, after setting up .venv)

Scripts run one after another, each in a process of its own (so one's memory and imports do not
weigh on the next), their own output shown as it comes. Figures reach the final table through
``common.report`` (rows written to the file named by APERTIS_BENCH_RESULTS); for a script that
only prints, lines that carry a target or a verdict (ok/OVER/PASS/MISS) are picked up instead.

``--runs N`` is passed on to the scripts that take it (fewer runs: faster, noisier).
``--strict`` exits with status 1 when a target is missed (a failed script always does).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_DIR, PYTHON, RESULTS_ENV, ROOT, Result, load_results, table  # noqa: E402

ORDER = ["startup", "streaming", "long_chat", "branches", "memory", "picker_filter", "history_scale", "tools", "compare",
         "attachments"]
NOT_BENCHMARKS = {"common", "run_all"}


def scripts() -> list[Path]:
    found = {p.stem: p for p in BENCH_DIR.glob("*.py") if p.stem not in NOT_BENCHMARKS and not p.stem.startswith("_")}
    return [found[name] for name in ORDER if name in found] + [found[n] for n in sorted(set(found) - set(ORDER))]


_VALUE = re.compile(r"(-?\d[\d,]*(?:\.\d+)?)\s*(ms|s|MiB|MB|%|x)\b")
_TARGET = re.compile(r"target\s*(?:<=|≤|<)?\s*(\d[\d,]*(?:\.\d+)?)\s*(ms|s|MiB|MB|%)|the\s+(\d[\d,]*(?:\.\d+)?)\s*(ms|s)\s+target")
_VERDICT = re.compile(r"\b(ok|OVER|PASS|MISS|FAIL)\b")


def parse_printed(bench: str, output: str) -> list[Result]:
    """Figures from a script that does not use common.report: lines with a target or a verdict."""
    rows = []
    for line in output.splitlines():
        verdict, target = _VERDICT.search(line), _TARGET.search(line)
        value = _VALUE.search(line)
        if value is None or (verdict is None and target is None):
            continue
        label = line[: value.start()].strip().rstrip(":").strip()
        label = re.sub(r"\s+(median|mean)$", "", label) or line.strip()[:40]
        limit, unit = None, value.group(2)
        if target is not None:
            number, target_unit = (target.group(1), target.group(2)) if target.group(1) else (target.group(3), target.group(4))
            limit = float(number.replace(",", ""))
            if target_unit != unit:  # e.g. a value in ms against a target in s
                scale = {("ms", "s"): 1000.0, ("s", "ms"): 0.001}.get((unit, target_unit))
                limit = limit * scale if scale else None
        given = ""
        if verdict is not None:
            given = "PASS" if verdict.group(1) in ("ok", "PASS") else "MISS"
        rows.append(Result(bench, label, float(value.group(1).replace(",", "")), unit, limit,
                           runs=None, note="as printed", given_verdict=given))
    return rows


def run(path: Path, runs: int | None, results: Path) -> tuple[int, str]:
    argv = [PYTHON, str(path)]
    if runs is not None and '"--runs"' in path.read_text(encoding="utf-8"):
        argv += ["--runs", str(runs)]
    env = dict(os.environ, **{RESULTS_ENV: str(results)}, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    captured = []
    for line in proc.stdout:
        sys.stdout.write("  " + line)
        sys.stdout.flush()
        captured.append(line)
    return proc.wait(), "".join(captured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated script names (e.g. startup,memory)")
    parser.add_argument("--skip", default="", help="comma-separated script names to leave out")
    parser.add_argument("--runs", type=int, help="runs per figure, for the scripts that take --runs")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    chosen = [p for p in scripts() if (not only or p.stem in only) and p.stem not in skip]
    if not chosen:
        sys.exit("no benchmark scripts chosen")

    print(f"Benchmarks on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} (other work makes the figures noisier)")
    everything: list[Result] = []
    failed, timings = [], []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="apertis-bench-results-") as tmp:
        for path in chosen:
            print(f"\n=== {path.name} ===", flush=True)
            results = Path(tmp) / f"{path.stem}.jsonl"
            began = time.monotonic()
            code, output = run(path, args.runs, results)
            timings.append((path.stem, time.monotonic() - began))
            rows = load_results(results) or parse_printed(path.stem.replace("_", " "), output)
            if code != 0:
                failed.append(path.stem)
                rows.append(Result(path.stem.replace("_", " "), f"{path.name} failed (exit status {code})", None,
                                   "", note="see its output above", given_verdict="FAIL"))
            everything += rows

    targets = [r for r in everything if r.verdict]
    met = [r for r in targets if r.verdict == "PASS"]
    print(f"\n=== All figures ({time.monotonic() - started:.0f} s: "
          + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings) + ") ===")
    print(table(everything, with_bench=True))
    print(f"\n{len(met)} of {len(targets)} targets met" + (f"; failed: {', '.join(failed)}" if failed else "") + ".")
    missed = len(targets) - len(met)
    sys.exit(1 if failed or (args.strict and missed) else 0)


if __name__ == "__main__":
    main()
