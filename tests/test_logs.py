"""The diagnostic log: written, rotated, and never holding the key."""

from __future__ import annotations

import logging

import pytest

from apertis_tui.core import logs
from apertis_tui.core.api import ApertisClient
from apertis_tui.core.events import StreamError

SECRET = "sk-live-0123456789abcdefSECRET"


@pytest.fixture
def log_folder(tmp_path):
    folder = tmp_path / "state"
    yield folder
    logging.getLogger("apertis_tui").handlers.clear()


async def test_requests_are_logged_without_the_key(log_folder, fake_server):
    path = logs.setup_logging(log_folder)
    assert path == log_folder / "apertis-tui.log"
    client = ApertisClient(fake_server.base_url, SECRET)
    try:
        events = [e async for e in client.stream_chat("gpt-4o", [{"role": "user", "content": "private words"}])]
    finally:
        await client.aclose()
    assert isinstance(events[-1], StreamError)  # the fake server does not know this key
    # Something that leaks it anyway, e.g. a careless message or a traceback.
    logging.getLogger("apertis_tui.test").warning("oops %s", SECRET)
    try:
        raise RuntimeError(f"header was Bearer {SECRET}")
    except RuntimeError:
        logging.getLogger("apertis_tui.test").exception("failed")
    text = path.read_text()
    assert "stream gpt-4o: 1 messages" in text
    assert "auth (status 401)" in text
    assert "private words" not in text  # prompts are not logged
    assert SECRET not in text and SECRET[:8] not in text
    assert text.count("[redacted]") >= 2


def test_log_rotates(log_folder):
    path = logs.setup_logging(log_folder)
    logger = logging.getLogger("apertis_tui.test")
    line = "x" * 1000
    for _ in range(2500):
        logger.info(line)
    assert path.stat().st_size <= logs.MAX_BYTES
    backups = sorted(log_folder.glob("apertis-tui.log.*"))
    assert 1 <= len(backups) <= logs.BACKUPS


def test_unwritable_folder_means_no_log_not_a_crash(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert logs.setup_logging(blocker / "state") is None
