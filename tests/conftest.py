"""Shared fixtures: a live fake Apertis server, and isolation from the real user's files and keys."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Iterator

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
