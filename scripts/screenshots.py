#!/usr/bin/env python3
"""`make screenshots`: the README's pictures, drawn by the app itself.

The real app runs headless (Textual's Pilot) against the test suite's fake server
(tests/fake_server.py, flat out), and each scene is saved as an SVG in screenshots/. Running it
again gives byte-identical files: the data is fixed (below), the clocks are fixed and TZ=UTC
(tests/frozen.py), the terminal is 110x34 and the theme textual-dark.

For the pictures the fake server plays real-looking model ids (``ALIASES``) and answers the
scripted questions with the answers below; everything else is the app as users run it. The API
key is the fake server's, and every picture is checked for it before it is written.

    .venv/bin/python scripts/screenshots.py [--out DIR] [--only conversation,settings]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.fake_server, tests.frozen
if not (ROOT / "app" / "apertis_tui").is_dir():  # pragma: no cover - a broken checkout
    sys.exit("run this from an apertis-tui checkout")
sys.path.insert(0, str(ROOT / "app"))  # the checkout's app, even without `pip install -e .`

from tests import fake_server  # noqa: E402
from tests.fake_server import FakeServer  # noqa: E402
from tests.frozen import NOW, IsoClock, answers_drawn, frozen, steady  # noqa: E402

SIZE = (110, 34)
THEME = "textual-dark"
KEY = "demo-key-0123456789abcdef"  # the fake server's; never a real one
SHOWN_BASE_URL = "https://api.stima.tech/v1"  # where the settings picture says the app talks to
SHOWN_CONFIG = Path("~/.config/apertis-tui/config.toml")  # the path the settings picture shows

# ---------------------------------------------------------------------------
# Fixed data

#: model id in the pictures -> the fake server's scenario that plays it
ALIASES = {
    "deepseek-reasoner": "test/reasoning",  # thinks first, then answers
    "o3": "test/stall",  # sends its first words, then keeps the chat streaming
    "claude-opus-4-20250514": "test/err-429",  # rate-limited
    "gpt-4.1-mini": "test/agent",  # calls the tools it is offered (TOOL_CALLS), then answers (TOOL_ANSWERS)
}

CSV_QUESTION = "Sum a column of a 20 GB CSV file in Python?"
CSV_REASONING = (
    "The file is far bigger than memory, so nothing may load it whole. csv.DictReader already reads "
    "one row at a time; a generator keeps the reading apart from the summing."
)
CSV_ANSWER = (
    "Stream it: `csv.DictReader` reads **one row at a time**, so memory stays flat however big the file is.\n"
    "\n"
    "```python\n"
    "import csv\n"
    "\n"
    "def column(path, name):\n"
    '    with open(path, newline="", encoding="utf-8") as f:\n'
    "        for row in csv.DictReader(f):\n"
    "            yield float(row[name])\n"
    "\n"
    'print(sum(column("sales.csv", "amount")))\n'
    "```\n"
    "\n"
    '- `newline=""` lets the csv module handle line breaks inside quoted fields\n'
    "- for group-by and joins, *DuckDB* queries the file in place, no import step\n"
)

CAP_QUESTION = "Explain the CAP theorem with a real example"
HAIKU_QUESTION = "A haiku about SQLite, please"
HAIKU_ANSWER = "*One file on the disk —*\n*a thousand readers at once,*\n*one writer, and calm.*\n"
REBASE_QUESTION = "What does git rebase --onto do?"
UNDO_QUESTION = "And if it goes wrong?"
UNDO_ANSWER = (
    "The branch's old tip is still in the reflog: `git reset --hard feature@{1}` puts it back, "
    "as long as you have not rebased again since.\n"
)
REBASE_ANSWER = (
    "It moves a range of commits onto a new base. `git rebase --onto <new> <old> <branch>` takes the "
    "commits of `<branch>` that are not in `<old>` and replays them on `<new>`.\n"
    "\n"
    "```sh\n"
    "# feature was branched from topic; move it onto main, leaving topic's commits behind\n"
    "git rebase --onto main topic feature\n"
    "```\n"
    "\n"
    "The usual case: your branch started from a colleague's branch that has since been squashed "
    "into `main`. Without `--onto`, the old commits would come along.\n"
)
FRENCH_QUESTION = "How do I say 'cache invalidation' in French?"
FRENCH_ANSWER = (
    "**invalidation du cache** — and for the verb, *invalider le cache*. In French tech writing you "
    "will also meet *purger le cache*, which is closer to *purge* than to *invalidate*.\n"
)
GERMAN_QUESTION = "And in German?"

ANSWERS = {
    CSV_QUESTION: CSV_ANSWER,
    HAIKU_QUESTION: HAIKU_ANSWER,
    REBASE_QUESTION: REBASE_ANSWER,
    UNDO_QUESTION: UNDO_ANSWER,
    FRENCH_QUESTION: FRENCH_ANSWER,
    CAP_QUESTION: "In a network **partition**, a distributed store must choose: answer anyway (availability) ...",
}

NAME_QUESTION = "A name for a CLI tool that syncs dotfiles?"
NAME_EDITED = "A short name for a CLI tool that syncs dotfiles between my laptops, one word?"
#: (model, question) -> answer: different models give different versions of a turn
MODEL_ANSWERS = {
    ("gpt-4.1", NAME_QUESTION): "**dotsync** says what it does; **homeward** if you want something friendlier.\n",
    ("gpt-4.1", NAME_EDITED): "**tether** — short, easy to type, and it is what it does: keeps your machines tied "
                              "to one set of dotfiles.\n",
    ("claude-sonnet-4-20250514", NAME_EDITED): "**drift** — as in keeping your laptops from drifting apart. "
                                               "Four letters, and `drift push` / `drift pull` read well.\n",
    ("deepseek-chat", NAME_EDITED): "**roam**: your settings roam with you. Check that the name is free on PyPI "
                                    "and Homebrew first.\n",
}

COMPARE_QUESTION = "In one sentence: when should I use a Bloom filter?"
MODEL_ANSWERS.update({
    ("gpt-4.1", COMPARE_QUESTION): "When you must test set membership over a huge set in little memory and can "
                                   "accept rare false positives (never false negatives) — e.g. skipping disk "
                                   "lookups for keys that are surely absent.\n",
    ("claude-sonnet-4-20250514", COMPARE_QUESTION): "Use one in front of an expensive lookup (disk, network) when "
                                                    "most queried keys are absent: it answers \"definitely not "
                                                    "here\" in O(k) time and a few bits per item.\n",
    ("deepseek-chat", COMPARE_QUESTION): "When memory is tight and a small, tunable false-positive rate is "
                                         "fine: caches, spell checkers, and LSM-tree reads are the classic "
                                         "cases.\n",
})

#: (days ago, title, model, [(question, answer)]) for the history picture
HISTORY = [
    (0.1, "SQLite WAL mode and backups", "claude-sonnet-4-20250514", [
        ("Is it safe to copy an SQLite file while the app is running?",
         "Not with a plain `cp` in WAL mode: recent writes may still sit in the -wal file. Use "
         "`sqlite3 app.db \".backup copy.db\"` or `VACUUM INTO 'copy.db'`, which take a consistent snapshot."),
        ("Does the backup block writers?", "The online backup API copies pages in steps, so writers wait only "
         "briefly; VACUUM INTO holds a read transaction for its whole run."),
    ]),
    (0.4, "Rust lifetimes, explained simply", "gpt-4.1", [
        ("Why does the borrow checker reject this?", "The reference outlives the value it points to: `s` is "
         "dropped at the end of the block while `r` is still used after it."),
    ]),
    (1, "Index for a slow ORDER BY", "deepseek-chat", [
        ("SELECT * FROM events WHERE user_id = ? ORDER BY created_at DESC LIMIT 50 is slow",
         "Give it an index that matches both the filter and the order: in SQLite or Postgres, "
         "`CREATE INDEX events_user_time ON events (user_id, created_at)` lets the query skip the sort."),
    ]),
    (2, "Backing up a Raspberry Pi", "gpt-4o-mini", [
        ("What should I back up on my Pi?", "Your SQLite databases (with .backup, not cp), /etc and your home "
         "folder; rsync sends only what changed."),
    ]),
    (3, "Trip to Lisbon: a three-day plan", "gemini-2.5-pro", [
        ("Three days in Lisbon in October, no car", "Day 1: Alfama and the castle in the morning, the 28 tram "
         "at opening time to beat the queue …"),
    ]),
    (6, "Full-text search for a small app", "claude-sonnet-4-20250514", [
        ("Which full-text search for a desktop app?", "SQLite's FTS5 is already in Python's sqlite3: a virtual "
         "table, prefix indexes, bm25 ranking and highlighted snippets, no server to run."),
    ]),
    (8, "JSON in SQLite or Postgres?", "claude-sonnet-4-20250514", [
        ("Can I keep JSON in SQLite?", "Yes: json_extract() and the ->> operator read JSON columns, and a "
         "generated column over one field can be indexed."),
    ]),
    (9, "Regex for ISO dates", "gpt-4o-mini", [
        ("A regex for 2025-06-12", r"`^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$` — it checks the shape, "
         "not whether the day exists."),
    ]),
    (16, "Bash: rename photos by date", "o3-mini", [
        ("Rename IMG_1234.jpg to its EXIF date", "`exiftool '-FileName<DateTimeOriginal' -d '%Y-%m-%d_%H%M%S%%-c.%%e' .`"),
    ]),
    (23, "Move a Django app from SQLite to Postgres", "gpt-4.1", [
        ("Plan the move", "Dump with `dumpdata`, point DATABASES at Postgres, migrate, then `loaddata`; "
         "check sequences afterwards."),
    ]),
    (40, "Sourdough starter schedule", "gemini-2.5-flash", [
        ("Feeding schedule for a starter", "Once a day at room temperature, 1:1:1 starter, flour, water …"),
    ]),
]
HISTORY_QUERY = "sqlite"

FAVOURITES = ["claude-sonnet-4-20250514", "gpt-4.1"]
RECENTS = ["claude-3-7-sonnet-20250219", "deepseek-reasoner", "gpt-4o"]
PICKER_QUERY = "sonnet"


# The web scene: a chat with web search on (f5); the fake server's ":web" models find its WEB_SOURCES.
WEB_QUESTION = "Can readers and a writer use one SQLite file at the same time?"
WEB_ANSWER = (
    "Yes, once the database is in **WAL mode**: readers see the last committed state while one writer "
    "appends to the write-ahead log, so neither blocks the other [1]. Turn it on once per file:\n"
    "\n"
    "```python\n"
    "import sqlite3\n"
    "\n"
    'db = sqlite3.connect("app.db")\n'
    'db.execute("PRAGMA journal_mode=WAL")\n'
    "```\n"
    "\n"
    "There is still only **one writer at a time** [4]; a second one waits for `busy_timeout` [2].\n"
)
MODEL_ANSWERS[("gpt-4.1", WEB_QUESTION)] = WEB_ANSWER

# The tools scene: the suite's MCP server (tests/mcp_server.py) as the server "calc".
TOOLS_QUESTION = "What are 1234.5 + 678.25 and 99 + 1? Use the calculator."
TOOLS_FOLLOW_UP = "Which process answered? Ask the tool server for its pid."
TOOL_CALLS = {
    TOOLS_QUESTION: 'call add {"a": 1234.5, "b": 678.25}\ncall add {"a": 99, "b": 1}',
    TOOLS_FOLLOW_UP: "call pid {}",
}
TOOL_ANSWER = "1234.5 + 678.25 = **1912.75**, and 99 + 1 = **100** (both from the `add` tool)."


# The attachments scene: a screenshot and a source file sent (the screenshot scaled), then the
# next prompt with a pasted image in its tray and the list of paths of an @ mention open.
ATTACH_QUESTION = "The build fails with the error in @build-error.png — what is wrong in @settings.py?"
ATTACH_ANSWER = (
    "The screenshot shows `KeyError: 'DATABASE_URL'` raised at **settings.py, line 14**: the variable is read "
    "with `os.environ[...]`, which fails when it is not set in CI.\n"
    "\n"
    "```python\n"
    'DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///dev.db")\n'
    "```\n"
    "\n"
    "Or set `DATABASE_URL` in the CI job's environment.\n"
)
ANSWERS[ATTACH_QUESTION] = ATTACH_ANSWER
ATTACH_NEXT = "Fixed, the job is green now: @build-after.png. Anything else in @con"
SETTINGS_PY = (
    '"""Settings for the shop app."""\n\nimport os\nfrom pathlib import Path\n\n'
    "BASE_DIR = Path(__file__).resolve().parent.parent\nDEBUG = os.environ.get(\"DEBUG\") == \"1\"\n"
    "SECRET_KEY = os.environ.get(\"SECRET_KEY\", \"dev-only\")\nALLOWED_HOSTS = [\"localhost\"]\n\n"
    "INSTALLED_APPS = [\"shop\", \"payments\"]\n\n"
    "# Database\nDATABASE_URL = os.environ[\"DATABASE_URL\"]\n\nTIME_ZONE = \"UTC\"\n"
)


def attachment_files(folder: Path) -> Path:
    """The scene's project folder: two screenshots (drawn with Pillow), a settings file, and
    names for the completion list. The same bytes every run."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    for name, size, lines, colour in (
        ("build-error.png", (2880, 1800), ["$ make test", "Traceback (most recent call last):",
                                             '  File "settings.py", line 14', "KeyError: 'DATABASE_URL'"], "#e06c75"),
        ("build-after.png", (1440, 900), ["$ make test", "142 passed in 3.1 s"], "#98c379"),
    ):
        image = Image.new("RGB", size, "#1e2127")
        draw = ImageDraw.Draw(image)
        for number, line in enumerate(lines):
            draw.text((60, 60 + number * 40), line, fill=colour if number == len(lines) - 1 else "#abb2bf")
        image.save(folder / name, optimize=False)
    (folder / "settings.py").write_text(SETTINGS_PY, encoding="utf-8")
    (folder / "config").mkdir(exist_ok=True)
    (folder / "config" / "ci.yml").write_text("test:\n  script: make test\n", encoding="utf-8")
    (folder / "conftest.py").write_text("import pytest\n" * 40, encoding="utf-8")
    (folder / "contributing.md").write_text("# Contributing\n\nRun make test first.\n", encoding="utf-8")
    return folder


# ---------------------------------------------------------------------------
# The fake server, playing the pictures' models


@contextmanager
def scripted_server() -> Iterator[FakeServer]:
    """The fake server with ``ALIASES`` and ``ANSWERS`` (module globals it reads per request)."""
    handler = fake_server._Handler
    saved = handler._chat, fake_server.normal_answer, fake_server._REASONING_TEXT
    original_chat, original_answer = saved[0], saved[1]

    def chat(self: Any, req: dict[str, Any]) -> None:
        model = req.get("model")
        original_chat(self, {**req, "model": ALIASES.get(model, model)} if isinstance(model, str) else req)

    def answer(model: str, messages: list[Any]) -> str:
        question = fake_server._last_user_text(messages)
        first_line = question.split("\n", 1)[0]  # (after it: the attached files, as sent)
        return (MODEL_ANSWERS.get((model, question)) or ANSWERS.get(question) or ANSWERS.get(first_line)
                or original_answer(model, messages))

    original_calls, original_agent_answer = handler._agent_calls, handler._agent_answer

    def agent_calls(self: Any, messages: list[Any], offered: Any) -> list[tuple[str, str, str]]:
        script = TOOL_CALLS.get(fake_server._last_user_text(messages))
        if not script or messages[-1].get("role") != "user":
            return []  # after the results: the answer
        return original_calls(self, [{"role": "user", "content": script}], offered)

    def agent_answer(messages: list[Any]) -> str:
        return TOOL_ANSWER if fake_server._last_user_text(messages) == TOOLS_QUESTION else original_agent_answer(messages)

    handler._chat, fake_server.normal_answer, fake_server._REASONING_TEXT = chat, answer, CSV_REASONING
    handler._agent_calls, handler._agent_answer = agent_calls, staticmethod(agent_answer)
    try:
        with FakeServer(key=KEY, rate=0) as server:
            server.billing.mode = "none"  # no balance: its reading lands at no fixed moment (a scene may turn it on)
            yield server
    finally:
        handler._chat, fake_server.normal_answer, fake_server._REASONING_TEXT = saved
        handler._agent_calls, handler._agent_answer = original_calls, original_agent_answer


# ---------------------------------------------------------------------------
# Driving the app


async def wait_for(pilot: Any, condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def send(pilot: Any, text: str) -> None:
    """Type ``text`` into the chat in front and send it, as a user does (Enter)."""
    pane = pilot.app.active_pane
    pane.prompt.focus()
    pane.prompt.insert(text)
    await pilot.press("enter")


async def answered(pilot: Any, pane: Any = None) -> None:
    pane = pane or pilot.app.active_pane
    await wait_for(pilot, lambda: not pane.is_streaming, "the answer")
    await pilot.pause()


class Camera:
    """Writes the screen as ``<name>.svg``, after making sure nothing in it depends on timing."""

    def __init__(self, out: Path, key: str) -> None:
        self.out = out
        self.key = key
        self.written: list[Path] = []

    async def shoot(self, pilot: Any, name: str) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: answers_drawn(app), "the answers drawn to their end")
        await pilot.pause()
        steady(app)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        svg = app.export_screenshot(title="apertis-tui", simplify=True)
        if self.key in svg:  # the key must never be in a picture
            raise RuntimeError(f"the API key is visible in {name}; not writing it")
        path = self.out / f"{name}.svg"
        path.write_text(svg, encoding="utf-8")
        self.written.append(path)
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def make_app(home: Path, server_url: str, *, model: str, key: str | None = KEY, base_url: str | None = None,
             settings: Any = None) -> Any:
    from apertis_tui.core.settings.file import Settings
    from apertis_tui.core.settings.resolve import resolve_connection
    from apertis_tui.core.store import History
    from apertis_tui.ui.app import ApertisApp, Startup

    home.mkdir(parents=True, exist_ok=True)
    settings = settings or Settings(theme=THEME)
    env = {"APERTIS_API_KEY": key} if key else {}
    return ApertisApp(Startup(
        settings=settings,
        config_path=SHOWN_CONFIG,  # never written: no scene saves the settings
        store=History(home / "history.db"),
        connection=resolve_connection(settings, env, base_url_flag=base_url or server_url),
        model=model,
        env=env,
        session_path=None,
    ))


# ---------------------------------------------------------------------------
# Scenes: each runs the app once and takes one or more pictures.


async def scene_conversation(app: Any, camera: Camera, server: FakeServer, clock: IsoClock) -> None:
    """A streamed answer with reasoning (opened) and a code block; then the model picker over it."""
    from apertis_tui.core.models import ModelPrefs, prefs_path

    ModelPrefs(prefs_path(), list(FAVOURITES), list(RECENTS)).save()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, CSV_QUESTION)
        await answered(pilot)
        await pilot.press("ctrl+t")  # show the reasoning
        await camera.shoot(pilot, "conversation")

        from apertis_tui.ui.screens.model_picker import ModelPicker

        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPicker), "the model picker")
        picker = app.screen
        await wait_for(pilot, lambda: picker.listing is not None and not picker.fetching, "the model list")
        await pilot.press(*PICKER_QUERY)
        await wait_for(pilot, lambda: picker.filter.value == PICKER_QUERY, "the filter")
        await camera.shoot(pilot, "model-picker")


async def scene_chats(app: Any, camera: Camera, server: FakeServer, clock: IsoClock) -> None:
    """Three chats: one still streaming (●) and one finished unseen (◆) behind the one in front."""
    async with app.run_test(size=SIZE) as pilot:
        conversation = app.conversation
        first = app.active_pane
        first.set_model("o3")  # keeps streaming: its answer stays open
        await send(pilot, CAP_QUESTION)
        await wait_for(pilot, lambda: first.is_streaming and first.messages.views[-1].text, "the first words")

        await pilot.press("ctrl+n")
        second = app.active_pane
        second.set_model("gpt-4.1")
        server.rate = 15  # slow enough to leave the tab before the answer ends
        second.send(HAIKU_QUESTION)
        await conversation.action_new_chat()  # at once, as ctrl+n would
        third = app.active_pane
        await wait_for(pilot, lambda: not second.is_streaming, "the background answer")
        server.rate = 0

        third.set_model("claude-sonnet-4-20250514")
        await send(pilot, REBASE_QUESTION)
        await answered(pilot, third)
        await send(pilot, UNDO_QUESTION)
        await answered(pilot, third)
        await camera.shoot(pilot, "chats")
        server.stall_release.set()  # let the streaming chat end, so the app closes at once


async def scene_history(app: Any, camera: Camera, server: FakeServer, clock: IsoClock) -> None:
    """The history, searched: hits in titles and messages, the match highlighted."""
    for days, title, model, turns in HISTORY:
        clock.at(NOW - timedelta(days=days))
        chat = app.store.create_chat(model, title=title)
        for question, reply in turns:
            app.store.add_message(chat.id, "user", question)
            message = app.store.start_assistant(chat.id, model)
            app.store.finish_message(message.id, content=reply, status="complete", prompt_tokens=24,
                                     completion_tokens=len(reply.split()))
    clock.at(NOW - timedelta(minutes=1))
    from apertis_tui.ui.screens.history import HistoryScreen

    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.rows_shown(), "history")
        screen = app.screen
        await pilot.press(*HISTORY_QUERY)
        await wait_for(pilot, lambda: screen.query_text == HISTORY_QUERY and screen.rows, "the search")
        await camera.shoot(pilot, "history-search")


async def scene_settings(app: Any, camera: Camera, server: FakeServer, clock: IsoClock) -> None:
    """The settings: the key masked, where it comes from, the defaults for new chats."""
    from apertis_tui.ui.screens.settings import SettingsScreen

    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), "the settings")
        await camera.shoot(pilot, "settings")


async def scene_error(app: Any, camera: Camera, server: FakeServer, clock: IsoClock) -> None:
    """A rate-limited request after switching models mid-chat: the error stays in the chat."""
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, FRENCH_QUESTION)
        await answered(pilot)
        await pilot.press("ctrl+o")
        from apertis_tui.ui.screens.model_picker import ModelPicker

        await wait_for(pilot, lambda: isinstance(app.screen, ModelPicker), "the model picker")
        picker = app.screen
        await wait_for(pilot, lambda: picker.listing is not None and not picker.fetching, "the model list")
        await pilot.press(*"claude-opus-4-20250514", "enter")
        await wait_for(pilot, lambda: app.active_pane.model == "claude-opus-4-20250514", "the new model")
        await send(pilot, GERMAN_QUESTION)
        await answered(pilot)
        await camera.shoot(pilot, "error")


async def scene_branches(app: Any, camera: Camera, server: FakeServer, clock: IsoClock) -> None:
    """A question asked again in other words (‹ 2/2 ›), its reply regenerated by two other models
    (‹ 3/3 ›), the reply selected with ctrl+up; the status line names the branch."""
    async with app.run_test(size=SIZE) as pilot:
        pane = app.active_pane
        await send(pilot, NAME_QUESTION)
        await answered(pilot)
        await pilot.press("ctrl+up", "up", "e")
        await wait_for(pilot, lambda: pane.editing is not None, "editing the question")
        pane.prompt.clear()
        await send(pilot, NAME_EDITED)
        await answered(pilot)
        for model in ("claude-sonnet-4-20250514", "deepseek-chat"):
            pane.set_model(model)
            await pilot.press("ctrl+g")
            await answered(pilot)
        await pilot.press("ctrl+up")
        await wait_for(pilot, lambda: pane.messages.selected is not None, "the selection")
        await camera.shoot(pilot, "branches")


async def scene_tools(app: Any, camera: Camera, server: FakeServer, clock: IsoClock) -> None:
    """Two parallel tool calls approved (y, then a: always), their results and the answer; then
    a call of another tool waiting for its approval, the bar above the status line asking."""
    async with app.run_test(size=SIZE) as pilot:
        pane = app.active_pane
        await wait_for(pilot, lambda: app.tools.hub is not None, "the tool hub")
        await app.tools.wait_started(30)
        await send(pilot, TOOLS_QUESTION)
        await wait_for(pilot, lambda: pane.approval.asking, "the first question")
        await pilot.press("y")
        await wait_for(pilot, lambda: "call 2 of 2" in str(pane.approval.render()), "the second question")
        await pilot.press("a")
        await wait_for(pilot, lambda: not pane.approval.asking and TOOL_ANSWER[:20] in (
            pane.messages.views[-1].text), "the answer after the tools")
        await answered(pilot)
        await send(pilot, TOOLS_FOLLOW_UP)
        await wait_for(pilot, lambda: pane.approval.asking, "the pid question")
        await camera.shoot(pilot, "tools")


async def scene_compare(app: Any, camera: Camera, server: FakeServer, clock: IsoClock) -> None:
    """Three models answer one prompt side by side, the third rate-limited; the comparison is
    selected (ctrl+up) with the second column current, ready for enter to pick it."""
    async with app.run_test(size=(130, 30)) as pilot:
        pane = app.active_pane
        pane.set_comparing(["gpt-4.1", "claude-sonnet-4-20250514", "claude-opus-4-20250514"])
        await send(pilot, COMPARE_QUESTION)
        await answered(pilot)
        await pilot.press("ctrl+up", "2")
        await wait_for(pilot, lambda: pane.comparison_view is not None and pane.comparison_view.current == 1,
                       "the second column")
        await camera.shoot(pilot, "compare")


async def scene_web(app: Any, camera: Camera, server: FakeServer, clock: IsoClock) -> None:
    """Web search on (f5): the answer with its numbered sources under it, their titles links;
    the reply selected, so the status line gives its first token beside the server's own."""
    async with app.run_test(size=SIZE) as pilot:
        pane = app.active_pane
        await pilot.press("f5")
        await wait_for(pilot, lambda: pane.web_on, "web search on")
        app.clear_notifications()
        await send(pilot, WEB_QUESTION)
        await answered(pilot)
        await pilot.press("ctrl+up")
        await wait_for(pilot, lambda: pane.status.state == "reply", "the reply's details")
        await camera.shoot(pilot, "web")


async def scene_attachments(app: Any, camera: Camera, server: FakeServer, clock: IsoClock) -> None:
    """A screenshot (scaled, as its chip says) and a source file sent with a question and
    answered; then the next prompt: a pasted screenshot in its tray, an @ mention's list open."""
    from textual import events

    app.startup.cwd = attachment_files(app.store.path.parent / "project")
    async with app.run_test(size=SIZE) as pilot:
        pane = app.active_pane
        await send(pilot, ATTACH_QUESTION)
        await wait_for(pilot, lambda: pane.chat is not None and len(pane.messages.views) == 2, "the question sent")
        await answered(pilot)
        app.post_message(events.Paste(str(app.startup.cwd / "build-after.png")))  # as a dropped file arrives
        await wait_for(pilot, lambda: pane.has_attachments and not pane.tray.preparing, "the pasted image")
        pane.prompt.insert(ATTACH_NEXT)
        await wait_for(pilot, lambda: pane.completing and len(pane.completion.rows) == 3, "the list of paths")
        await camera.shoot(pilot, "attachments")


async def run(out: Path, only: set[str] | None) -> list[Path]:
    camera = Camera(out, KEY)
    # The user's own settings, history, favourites and keys stay out of it.
    with tempfile.TemporaryDirectory(prefix="apertis-tui-screenshots-") as folder:
        home = Path(folder)
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            os.environ[var] = str(home / var.lower())
        for var in ("APERTIS_API_KEY", "STIMA_API_KEY", "APERTIS_BASE_URL"):
            os.environ.pop(var, None)
        await play(home, camera, only)
    return camera.written


async def play(home: Path, camera: Camera, only: set[str] | None) -> None:
    from apertis_tui.core.settings.file import Settings
    from apertis_tui.core.types import ChatParams


    settings_shown = Settings(theme=THEME, default_model="claude-sonnet-4-20250514",
                              system_prompt="You are concise. Answer in plain English; show code when it helps.",
                              params=ChatParams(temperature=0.7, max_tokens=4096))
    options: dict[str, dict[str, Any]] = {
        "conversation": {"model": "deepseek-reasoner"},
        "chats": {"model": "gpt-4.1"},
        "history": {"model": "gpt-4.1"},
        "settings": {"model": "claude-sonnet-4-20250514", "base_url": SHOWN_BASE_URL, "settings": settings_shown},
        "error": {"model": "gpt-4.1"},
        "branches": {"model": "gpt-4.1"},
        "compare": {"model": "gpt-4.1"},
        "web": {"model": "gpt-4.1"},
        "attachments": {"model": "gpt-4.1"},
        "tools": {"model": "gpt-4.1-mini", "settings": Settings(theme=THEME, extra={"mcp": {"servers": {"calc": {
            "command": sys.executable, "args": [str(ROOT / "tests" / "mcp_server.py")]}}}})},
    }
    with scripted_server() as server:
        for name, scene in SCENES.items():
            if only and name not in only:
                continue
            # tick: the status line's timings move 11 ms per reading of the clock, the same on every
            # run; not in the comparison, whose columns read the clock in whatever order they stream
            with frozen(tick=0.0 if name == "compare" else 0.011) as clock:
                app = make_app(home / name, server.base_url, **options[name])
                try:
                    await scene(app, camera, server, clock)
                finally:
                    app.store.close()
                    server.rate = 0
                    server.reset()


#: scene -> what it draws
SCENES: dict[str, Callable[..., Awaitable[None]]] = {
    "conversation": scene_conversation,  # conversation.svg, model-picker.svg
    "chats": scene_chats,  # chats.svg
    "history": scene_history,  # history-search.svg
    "settings": scene_settings,  # settings.svg
    "error": scene_error,  # error.svg
    "branches": scene_branches,  # branches.svg
    "tools": scene_tools,  # tools.svg
    "compare": scene_compare,  # compare.svg
    "web": scene_web,  # web.svg
    "attachments": scene_attachments,  # attachments.svg
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draw the README's screenshots with the app itself.")
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="folder for the SVGs")
    parser.add_argument("--only", default="", metavar="SCENES",
                        help="comma-separated: conversation (with the model picker), chats, history, settings, error")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    only = {name.strip() for name in args.only.split(",") if name.strip()} or None
    if only and not only <= SCENES.keys():
        parser.error(f"no scene called {', '.join(sorted(only - SCENES.keys()))}; the scenes are {', '.join(SCENES)}")
    logging.getLogger("apertis_tui").addHandler(logging.NullHandler())  # the error scene logs a warning
    written = asyncio.run(run(args.out.resolve(), only))
    print(f"{len(written)} pictures in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
