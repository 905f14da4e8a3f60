"""History at scale: 100,000 chats and 1,000,000 messages.

    .venv/bin/python benchmarks/history_scale.py [--chats N] [--messages N] [--runs N] [--no-ui]

Builds the store once through the store's own schema (History() runs the migrations, so the
tables, indexes, FTS tables and triggers are the real ones), filling it with bulk inserts in one
transaction, and caches it under /tmp; later runs reuse the file. Then prints medians of:

- the store's first page of the history list, a page 99,900 chats deep, and searches;
- the history screen itself (Pilot, headless): ctrl+r until the first page is on screen, and
  typing a query until the hits are on screen.

Targets (issue 6): the first page <= 0.3 s, a search <= 0.1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "app"), str(ROOT)]

from apertis_tui.core.store import History  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "apertis-tui-bench"
FORMAT = 2  # bump when the generated content or the schema changes, so old caches are not reused

MODELS = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-20250514", "gemini-2.5-pro", "deepseek-r1",
          "llama-3.3-70b", "qwen-max", "o3-mini"]
COMMON = ("the a to of and in is it you that for on with as this be are can not or your use if "
          "by from but at an have will which when more one all do so how what there about would "
          "file query index table data database sqlite python function error value list string "
          "code test server request model answer time page line cache memory thread process "
          "write read update delete insert select join column row key type class method return "
          "loop async await stream token prompt search history chat message user assistant").split()
# Words planted at known rates, for the searches below.
PLANTED = {"walrus": 1e-4, "wal": 3e-3, "checkpoint": 1e-3, "fsync": 5e-4}


def _vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "si", "pe", "do", "gu", "be", "za", "fi", "ho", "ly"]
    made = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(12000)}
    words = COMMON + sorted(made - set(COMMON))
    weights = [1.0 / (rank + 8) for rank in range(len(words))]  # Zipf-like, a flat head
    total = 0.0
    cumulative = []
    for w in weights:
        total += w
        cumulative.append(total)
    return words, cumulative


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build(path: Path, chats: int, messages: int, seed: int = 6) -> None:
    """Create the store at ``path`` (a temporary name first, renamed when complete)."""
    rng = random.Random(seed)
    words, cumulative = _vocabulary(rng)
    planted = list(PLANTED.items())
    partial = path.with_name(path.name + ".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    History(partial).close()  # the real schema, through the real migrations

    conn = sqlite3.connect(partial)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    started = time.perf_counter()
    start = datetime(2023, 1, 1, tzinfo=timezone.utc)
    span = 3 * 365 * 24 * 3600
    # Chat i starts at a random moment; its messages follow a minute or so apart.
    starts = sorted(rng.uniform(0, span) for _ in range(chats))
    per_chat = [messages // chats] * chats
    for i in range(messages - sum(per_chat)):
        per_chat[i % chats] += 1
    for i in range(0, chats - 1, 2):  # vary the lengths, keep the total
        shift = rng.randint(0, min(per_chat[i], per_chat[i + 1]) - 1)
        per_chat[i] += shift
        per_chat[i + 1] -= shift

    conn.execute("BEGIN")
    chat_rows = []
    message_id = 0
    batch: list[tuple] = []
    for chat_id, (offset, count) in enumerate(zip(starts, per_chat), start=1):
        model = rng.choice(MODELS)
        moment = start + timedelta(seconds=offset)
        created = _iso(moment)
        title_words = rng.choices(words, cum_weights=cumulative, k=rng.randint(2, 7))
        for m in range(count):
            message_id += 1
            moment += timedelta(seconds=rng.uniform(5, 120))
            role = "user" if m % 2 == 0 else "assistant"
            n = rng.randint(3, 30) if role == "user" else rng.randint(20, 90)
            text = rng.choices(words, cum_weights=cumulative, k=n)
            for word, rate in planted:
                if rng.random() < rate * n:
                    text[rng.randrange(n)] = word
            reply_model = (model if rng.random() < 0.9 else rng.choice(MODELS)) if role == "assistant" else None
            tokens = (n * 3, n) if role == "assistant" else (None, None)
            batch.append((message_id, chat_id, role, " ".join(text), reply_model, "complete", _iso(moment),
                          _iso(moment) if role == "assistant" else None, *tokens))
        chat_rows.append((chat_id, " ".join(title_words).capitalize(), model, "{}",
                          int(rng.random() < 0.05), created, _iso(moment)))
        if len(batch) >= 50_000:
            conn.executemany("INSERT INTO messages (id, chat_id, role, content, model, status, created_at, "
                             "finished_at, prompt_tokens, completion_tokens) VALUES (?,?,?,?,?,?,?,?,?,?)", batch)
            batch.clear()
        if len(chat_rows) >= 50_000 or chat_id == chats:
            # Chats go in before their messages would need them: foreign keys are off on this
            # connection, so the order within the transaction does not matter.
            conn.executemany("INSERT INTO chats (id, title, model, params, archived, created_at, updated_at) "
                             "VALUES (?,?,?,?,?,?,?)", chat_rows)
            chat_rows.clear()
    if batch:
        conn.executemany("INSERT INTO messages (id, chat_id, role, content, model, status, created_at, "
                         "finished_at, prompt_tokens, completion_tokens) VALUES (?,?,?,?,?,?,?,?,?,?)", batch)
    conn.commit()
    conn.execute("PRAGMA optimize")
    conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    partial.rename(path)
    print(f"built {path} in {time.perf_counter() - started:.0f} s ({path.stat().st_size / 1e6:.0f} MB)")


def store_path(chats: int, messages: int) -> Path:
    path = CACHE / f"history-v{FORMAT}-{chats}-{messages}.db"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"building a store of {chats:,} chats / {messages:,} messages (once; cached) ...", flush=True)
        build(path, chats, messages)
    return path


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def line(label: str, ms: float, target_ms: float | None = None) -> None:
    verdict = "" if target_ms is None else (f"  ok (target <= {target_ms:.0f} ms)" if ms <= target_ms
                                             else f"  OVER the {target_ms:.0f} ms target")
    print(f"  {label:<58} {ms:8.1f} ms{verdict}")


def bench_store(path: Path, runs: int) -> None:
    with History(path) as h:
        print(f"store: {h.count_chats(None):,} chats")
        line("first page (100 chats, counts, models)", median_ms(lambda: h.chat_page(limit=100), runs), 300)
        deep_after = None
        page = h.chat_page(limit=1)  # walk to ~99,900 deep once, then time the next page from there
        rows = h._rows("SELECT updated_at, id FROM chats WHERE archived = 0 "
                       "ORDER BY updated_at DESC, id DESC LIMIT 1 OFFSET 90000")
        if rows and page:
            deep_after = (rows[0][0], rows[0][1])
            line("a page 90,000 chats deep (keyset)", median_ms(lambda: h.chat_page(after=deep_after, limit=100), runs),
                 300)
        line("count of chats", median_ms(lambda: h.count_chats(), runs))
        # Two-letter prefixes ("th", "ka lo") are what the search sees while a word is typed;
        # they are the costly ones without FTS5 prefix indexes (migration m003).
        for query in ("walrus", "wal", "checkpoint fsync", "sqlite index", "the", "th", "pyth", "ka lo",
                      "th ka lo mi", '"NEAR( -*:'):
            hits = h.search(query)
            line(f"search {query!r} ({len(hits)} hits)", median_ms(lambda: h.search(query), runs), 100)


async def _bench_ui(path: Path, runs: int) -> None:
    from apertis_tui.core.settings.file import Settings
    from apertis_tui.core.settings.resolve import resolve_connection
    from apertis_tui.ui.app import ApertisApp, Startup
    from apertis_tui.ui.screens.history import PAGE, SEARCH_DELAY, HistoryScreen

    async def until(condition) -> None:
        while not condition():
            await asyncio.sleep(0.001)

    from textual.screen import Screen
    from textual.widgets import Footer, Input

    class Bare(Screen):
        """Textual's own cost of showing a screen: an input and a Footer, nothing else."""

        def compose(self):
            yield Input()
            yield Footer()

    opens, bare, searches, pages = [], [], [], []
    with History(path) as store:
        for _ in range(runs):
            env = {"APERTIS_API_KEY": "bench"}
            app = ApertisApp(Startup(settings=Settings(), config_path=CACHE / "config.toml", store=store,
                                     connection=resolve_connection(Settings(), env, base_url_flag="http://127.0.0.1:9/v1"),
                                     env=env))
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause()
                t, c = time.perf_counter(), time.process_time()
                await app.push_screen(Bare())
                await pilot.pause()
                bare.append((time.perf_counter() - t, time.process_time() - c))
                app.pop_screen()
                await pilot.pause()
                t, c = time.perf_counter(), time.process_time()
                await pilot.press("ctrl+r")
                await until(lambda: isinstance(app.screen, HistoryScreen) and app.screen.rows_shown())
                await pilot.pause()  # and painted
                opens.append((time.perf_counter() - t, time.process_time() - c))
                screen = app.screen
                # The next page, as the highlight reaches the end of the first.
                screen.option_list.focus()
                await pilot.pause()
                t, c = time.perf_counter(), time.process_time()
                await pilot.press("end")
                await until(lambda: len(screen.rows) >= 2 * PAGE)
                await pilot.pause()
                pages.append((time.perf_counter() - t, time.process_time() - c))
                # A search, as if pasted (typing runs the same search once the keys pause).
                t, c = time.perf_counter(), time.process_time()
                screen.search_input.value = "walrus"
                await until(lambda: screen.searching and screen.query_text == "walrus" and screen.rows_shown())
                await pilot.pause()
                searches.append((time.perf_counter() - t, time.process_time() - c))

    def both(label: str, pairs: list[tuple[float, float]], target_ms: float | None = None) -> None:
        line(f"{label} (wall)", statistics.median(p[0] for p in pairs) * 1000, target_ms)
        line(f"{label} (CPU)", statistics.median(p[1] for p in pairs) * 1000)

    print("history screen (headless Pilot, 120x40; Textual's own work and painting included):")
    both("for scale: any screen (an input and a Footer) pushed and painted", bare)
    both("ctrl+r until the first page is painted", opens, 300)
    both(f"end of the first page until the next {PAGE} rows are painted", pages)
    both(f"search 'walrus' until its hits are painted (incl. {SEARCH_DELAY * 1000:.0f} ms debounce)", searches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-ui", action="store_true", help="only the store's figures")
    args = parser.parse_args()
    path = store_path(args.chats, args.messages)
    # Work on a copy: opening the store runs crash recovery and may write; keep the cache pristine.
    work = CACHE / "work.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(path, work)
    bench_store(work, args.runs)
    if not args.no_ui:
        asyncio.run(_bench_ui(work, max(3, args.runs // 2)))


if __name__ == "__main__":
    main()
