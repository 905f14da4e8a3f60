"""The service's two base URLs: both named on the settings screen, and "Test connection" trying
the other one when the chosen one cannot be reached (and offering it, never switching silently).
The pair is the app's ``startup.base_url_pair``: here it points at local addresses only."""

from __future__ import annotations

import socket
import tomllib

import httpx
import pytest
from textual.widgets import Input, Static

from apertis_tui.core.errors import cannot_connect, error_from_exception, error_from_response, host_of
from apertis_tui.core.settings.validation import APERTIS_BASE_URLS, DEFAULT_BASE_URL, other_base_url
from apertis_tui.ui.screens.confirm import ConfirmDialog
from apertis_tui.ui.screens.settings import SettingsScreen
from tests.conftest import screen_text, wait_for
from tests.fake_server import MODEL_IDS, FakeServer

SIZE = (140, 50)


def dead_url() -> str:
    """An address on this machine where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_the_two_addresses_and_what_counts_as_not_reaching_one():
    assert DEFAULT_BASE_URL == "https://api.stima.tech/v1"
    assert other_base_url("https://api.stima.tech/v1/") == "https://api.apertis.ai/v1"
    assert other_base_url("https://api.apertis.ai/v1") == "https://api.stima.tech/v1"
    assert other_base_url("http://localhost:4000/v1") is None  # a proxy of the user's: no other
    timeouts = httpx.Timeout(5)
    assert cannot_connect(error_from_exception(httpx.ConnectError("dns"), DEFAULT_BASE_URL, timeouts, started=False))
    assert cannot_connect(error_from_exception(httpx.ConnectTimeout("slow"), DEFAULT_BASE_URL, timeouts, started=False))
    cloudflare = error_from_response(403, b"error code: 1010", httpx.Headers({"server": "cloudflare"}),
                                     host="api.stima.tech")
    assert cannot_connect(cloudflare)
    assert not cannot_connect(error_from_response(401, b'{"error": {"message": "bad key"}}', httpx.Headers()))
    assert not cannot_connect(error_from_response(403, b'{"error": {"message": "access denied for this group"}}',
                                                  httpx.Headers()))


async def open_settings(pilot) -> SettingsScreen:
    await pilot.press("f2")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen), what="the settings screen")
    await pilot.pause()
    return pilot.app.screen


async def test_connection(pilot, screen, base_url: str) -> None:
    """Type ``base_url`` and press ctrl+t."""
    field = screen.query_one("#base_url", Input)
    field.focus()
    field.value = base_url
    await pilot.pause()
    await pilot.press("ctrl+t")


test_connection.__test__ = False  # a helper, not a test


def note(screen) -> Static:
    return screen.query_one("#note-test", Static)


def finished(screen) -> bool:
    return note(screen).has_class("-ok") or note(screen).has_class("-error")


async def test_the_settings_screen_names_both_addresses(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot)
        text = screen_text(app)
        assert f"default: {APERTIS_BASE_URLS[0]}" in text and f"or, the same: {APERTIS_BASE_URLS[1]}" in text


async def test_when_one_address_cannot_be_reached_the_other_is_tried_and_offered(make_app, fake_server, tmp_path):
    app = make_app()
    dead = dead_url()
    app.startup.base_url_pair = (dead, fake_server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        await test_connection(pilot, screen, dead)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the offer")
        question = app.screen.question
        assert f"{dead} could not be reached from here: Could not reach {host_of(dead)}." in question
        assert f"{fake_server.base_url} is the same service, and it answers ({len(MODEL_IDS)} models)." in question
        assert str(note(screen).render()) == (f"{dead} did not answer, but {fake_server.base_url} did "
                                              f"(OK — {len(MODEL_IDS)} models).")
        assert screen.query_one("#base_url", Input).value == dead  # nothing changed before the answer
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is screen, what="back on the settings screen")
        assert screen.query_one("#base_url", Input).value == fake_server.base_url
        assert not (tmp_path / "config" / "config.toml").exists()  # in the field; saved only by ctrl+s
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen), what="saved")
        await app.workers.wait_for_complete()
    written = tomllib.loads((tmp_path / "config" / "config.toml").read_text("utf-8"))
    assert written["base_url"] == fake_server.base_url


async def test_the_offer_declined_changes_nothing(make_app, fake_server):
    app = make_app()
    dead = dead_url()
    app.startup.base_url_pair = (fake_server.base_url, dead)  # either order: "the other" of the dead one
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        await test_connection(pilot, screen, dead + "/")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the offer")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen, what="back on the settings screen")
        assert screen.query_one("#base_url", Input).value == dead + "/"


@pytest.mark.parametrize("case", ["both-dead", "wrong-key"])
async def test_no_offer_when_the_other_fails_too_or_the_key_is_refused(make_app, fake_server, case):
    other = FakeServer(key="test-key").start()
    try:
        if case == "wrong-key":
            app = make_app(key="wrong-key")
            chosen, pair = fake_server.base_url, (fake_server.base_url, other.base_url)
        else:
            app = make_app()
            chosen = dead_url()
            pair = (chosen, dead_url())
        app.startup.base_url_pair = pair
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_settings(pilot)
            await test_connection(pilot, screen, chosen)
            await wait_for(pilot, lambda: finished(screen), what="the result")
            text = str(note(screen).render())
            assert note(screen).has_class("-error") and not isinstance(app.screen, ConfirmDialog)
            if case == "wrong-key":
                assert "rejected" in text and "(401)" in text
                assert other.requests == []  # a refused key is not a connection problem: the other is not asked
            else:
                assert text.startswith(f"Could not reach {host_of(chosen)}.")
                assert text.endswith(f"{pair[1]} did not answer either.")
    finally:
        other.stop()
