"""Shared fixtures: a live fake Apertis server, and isolation from the real user's files and keys."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.fake_server import FakeServer

# Until the distribution is installed (editable) into the venv, import the app from its source
# root. Once `pip install -e .` works this does nothing.
if importlib.util.find_spec("apertis_tui") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "app"))

TEST_KEY = "test-key"

_ENV_TO_DROP = ("APERTIS_API_KEY", "STIMA_API_KEY", "APERTIS_BASE_URL")


@pytest.fixture(autouse=True)
def _isolate_user_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own config/data/state/cache dirs and no API key from the environment."""
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        d = tmp_path / "xdg" / sub
        d.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(d))
    for var in _ENV_TO_DROP:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    """A fresh fake server (key "test-key", rate 0) for one test."""
    server = FakeServer(key=TEST_KEY)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fake_server_session() -> Iterator[FakeServer]:
    """One fake server shared by the whole session. Tests that use it must not rely on
    .requests being empty or on .rate/.stall_release values (call .reset(), restore .rate)."""
    server = FakeServer(key=TEST_KEY)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------
# The real app, driven by Textual's Pilot against the fake server.



async def wait_for(pilot, condition: Callable[[], object], timeout: float = 10.0, what: str = "condition"):
    """Let the app run until ``condition()`` is true (checked after each short pause)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def screen_text(app) -> str:
    """The characters on the app's screen, as the user sees them."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


@pytest.fixture(autouse=True)
def _quick_key_presses(monkeypatch):
    """Pilot waits after each key until the process looks idle, for up to a second, twice.
    With an answer streaming (and the fake server in this same process) it never looks idle,
    so every key would cost two seconds. Our tests wait for explicit conditions instead."""
    import textual.app
    import textual.pilot
    from textual._wait import wait_for_idle

    async def brief_wait_for_idle(min_sleep: float = 0.0, max_sleep: float = 0.05) -> None:
        await wait_for_idle(min_sleep, min(max_sleep, 0.05))

    monkeypatch.setattr(textual.app, "wait_for_idle", brief_wait_for_idle)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", brief_wait_for_idle)


@pytest.fixture
def make_app(tmp_path, fake_server):
    """Build an ApertisApp on a fresh store and config, pointed at the fake server."""
    from apertis_tui.core.settings.file import Settings
    from apertis_tui.core.settings.resolve import resolve_connection
    from apertis_tui.core.store import History
    from apertis_tui.ui.app import ApertisApp, Startup

    stores = []

    def factory(*, key: str | None = "test-key", model: str = "gpt-4o", prompt: str | None = None,
                settings: Settings | None = None, db: Path | None = None, config_error=None,
                session: Path | None = None, **env):
        store = History(db or tmp_path / "history.db")
        stores.append(store)
        environment = {"APERTIS_API_KEY": key} if key else {}
        environment.update(env)
        settings = settings or Settings()
        # The fake server's URL comes in as if from --base-url, unless the environment names one.
        flag = None if "APERTIS_BASE_URL" in environment else fake_server.base_url
        return ApertisApp(Startup(
            settings=settings,
            config_path=tmp_path / "config" / "config.toml",
            store=store,
            connection=resolve_connection(settings, environment, base_url_flag=flag),
            config_error=config_error,
            model=model,
            prompt=prompt,
            env=environment,
            session_path=session or tmp_path / "session.json",
        ))

    yield factory
    fake_server.stall_release.set()
    for store in stores:
        store.close()


def pane(app):
    """The chat in front."""
    return app.active_pane


async def send(pilot, text: str) -> None:
    """Type ``text`` into the chat in front and press enter."""
    prompt = pane(pilot.app).prompt
    prompt.focus()
    prompt.insert(text)
    await pilot.press("enter")


async def reply_done(pilot) -> None:
    """Wait until the chat in front has finished answering."""
    await pilot.app.workers.wait_for_complete()
    await wait_for(pilot, lambda: not pane(pilot.app).is_streaming, what="the reply to end")
    await pilot.pause()
