"""The API key never leaves the settings file: after a whole session it is nowhere else on disk
(history, its WAL, logs, exports, screenshots, caches), and error texts redact it even when a
proxy echoes the whole key back.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from apertis_tui.core import paths
from apertis_tui.core.api import ApertisClient
from apertis_tui.core.logs import setup_logging
from apertis_tui.core.settings.file import Settings
from apertis_tui.core.settings.resolve import Resolved, resolve_connection
from apertis_tui.core.store import History
from apertis_tui.core.events import StreamError
from apertis_tui.core.types import ApiError
from apertis_tui.ui.app import ApertisApp, Startup
from apertis_tui.ui.screens.history.dialogs import ExportDialog
from apertis_tui.ui.screens.key_dialog import KeyDialog
from apertis_tui.ui.screens.model_picker import ModelPicker
from tests.conftest import screen_text, wait_for
from tests.fake_server import FakeServer

# Distinctive from its first character, so that any 8-character prefix found is a leak.
SECRET = "zq7-Tq8vW3nLx0YpR5mKb7HdJ2cF9gUe"
SIZE = (110, 36)


def prefixes(secret: str = SECRET) -> list[str]:
    """The key and every prefix of 8 characters or more (proxies echo ``sk-abcd1234****``)."""
    return [secret[:n] for n in range(8, len(secret) + 1)]


def leaks(text: str) -> list[str]:
    return [p for p in prefixes() if p in text]


# ---------------------------------------------------------------------------
# A proxy that puts the key it was sent into every error it gives


ECHO_SHAPES = ("json-500", "string-403", "text-400", "html-502", "detail-422", "json-401", "midstream")


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # /models
        key = (self.headers.get("Authorization") or "")[7:]
        self._send(403, json.dumps({"error": {"message": f"key {key} may not list models"}}).encode(), "application/json")

    def do_POST(self) -> None:
        key = (self.headers.get("Authorization") or "")[7:]
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        shape = str(request.get("model", "")).removeprefix("echo/")
        said = f"Bearer {key} was refused (key={key}, masked {key[:10]}****)"
        if shape == "json-500":
            self._send(500, json.dumps({"error": {"message": said, "code": key}}).encode(), "application/json")
        elif shape == "string-403":
            self._send(403, json.dumps({"error": said}).encode(), "application/json")
        elif shape == "text-400":
            self._send(400, said.encode(), "text/plain")
        elif shape == "html-502":
            self._send(502, f"<html><body>{said}</body></html>".encode(), "text/html")
        elif shape == "detail-422":
            self._send(422, json.dumps({"detail": said}).encode(), "application/json")
        elif shape == "json-401":
            self._send(401, json.dumps({"error": {"message": said, "type": key}}).encode(), "application/json")
        else:  # midstream: some words, then an error event naming the key
            events = [{"choices": [{"index": 0, "delta": {"content": "Some words. "}}]},
                      {"error": {"message": said, "type": key, "code": key}}]
            self._send(200, b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events), "text/event-stream")


@pytest.fixture
def echo_proxy():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def all_text(error: ApiError) -> str:
    return " ".join((error.sentence, error.message, error.hint, error.detail, str(error)))


@pytest.mark.parametrize("shape", ECHO_SHAPES)
async def test_errors_redact_the_whole_key_echoed_by_a_proxy(echo_proxy, shape):
    client = ApertisClient(echo_proxy, SECRET)
    try:
        events = [e async for e in client.stream_chat(f"echo/{shape}", [{"role": "user", "content": "hi"}])]
        assert isinstance(events[-1], StreamError)
        streamed = events[-1].error
        with pytest.raises(ApiError) as whole:
            if shape == "midstream":
                raise streamed  # complete() reads a JSON body, not a stream
            await client.complete(f"echo/{shape}", [{"role": "user", "content": "hi"}])
        with pytest.raises(ApiError) as listing:
            await client.list_models()
    finally:
        await client.aclose()
    for error in (streamed, whole.value, listing.value):
        assert leaks(all_text(error)) == [], all_text(error)
    if shape not in ("json-401", "html-502"):  # those two never show the server's words
        assert "[redacted]" in streamed.sentence


# ---------------------------------------------------------------------------
# A whole session, then every file it left behind


def notices(app) -> str:
    return " ".join(" ".join(str(t.render()).split()) for t in app.screen.query("Toast"))


async def test_after_a_whole_session_the_key_is_only_in_the_settings_file(tmp_path, monkeypatch, echo_proxy):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    log_path = setup_logging(paths.state_dir(), debug=True)  # as `apertis-tui --debug` does
    server = FakeServer(key=SECRET).start()
    db = paths.default_db_path()
    store = History(db)
    shots = tmp_path / "shots"
    shots.mkdir()
    (tmp_path / "exports").mkdir()
    app = ApertisApp(Startup(settings=Settings(), config_path=paths.config_path(), store=store,
                             connection=resolve_connection(Settings(), {}, base_url_flag=server.base_url),
                             model="gpt-4o", env={}, session_path=paths.session_path(db)))
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            # First run: the key dialog, the key typed (masked), a screenshot while it is there.
            await wait_for(pilot, lambda: isinstance(app.screen, KeyDialog), what="the key dialog")
            await pilot.press(*SECRET)
            app.save_screenshot("key-dialog.svg", str(shots))
            await pilot.press("enter")
            await wait_for(pilot, lambda: "Key saved" in notices(app), what="the key saved")
            pane = app.active_pane

            async def ask(text: str, model: str | None = None) -> None:
                if model:
                    pane.set_model(model)
                pane.prompt.insert(text)
                await pilot.press("enter")
                await wait_for(pilot, lambda: not pane.is_streaming, what="the answer")
                await app.workers.wait_for_complete()

            await ask("hello")  # a chat
            await ask("and again", "test/reasoning")
            await ask("an error", "test/err-500")  # errors
            await ask("a rate limit", "test/err-429")
            # A wrong key: the server echoes its first 8 characters, masked.
            await app.use_key(SECRET[:12] + "-wrong-0000")
            await ask("wrong key", "gpt-4o")
            await app.use_key(SECRET)
            # Through a proxy that echoes the whole key in every error.
            await app.apply_settings(app.settings, app.connection._replace(base_url=Resolved(echo_proxy, "config")))
            for shape in ECHO_SHAPES:
                await ask(f"via the proxy {shape}", f"echo/{shape}")
            await pilot.press("ctrl+o")  # the model list fails through the proxy too: its reason is shown
            await wait_for(pilot, lambda: isinstance(app.screen, ModelPicker), what="the picker")
            await app.workers.wait_for_complete()
            await pilot.pause()
            app.save_screenshot("picker.svg", str(shots))
            await pilot.press("escape")
            await app.apply_settings(app.settings, app.connection._replace(base_url=Resolved(server.base_url, "config")))
            await ask("back again", "gpt-4o")
            errors = [m.error for m in store.messages(pane.chat.id) if m.error]
            assert len(errors) == 3 + len(ECHO_SHAPES) and all(not leaks(e) for e in errors)
            assert sum("[redacted]" in e for e in errors) >= 4
            app.save_screenshot("conversation.svg", str(shots))
            # Exports, as a user makes them: "Export this chat…", a file name, enter.
            for name in ("chat.md", "chat.json"):
                app.action_export_chat()
                await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog) and app.screen.query("#export-path"),
                               what="the export dialog")
                app.screen.query_one("#export-path").value = str(tmp_path / "exports" / name)
                await pilot.press("enter")
                await wait_for(pilot, (tmp_path / "exports" / name).exists, what=name)
            # The settings screen shows the key masked.
            await pilot.press("f2")
            await pilot.pause(0.3)
            app.save_screenshot("settings.svg", str(shots))
            assert SECRET not in screen_text(app)
        # The write-ahead log, before closing the history folds it into the main file.
        wal = Path(f"{db}-wal").read_bytes()
        assert len(wal) > 10_000 and leaks(wal.decode("utf-8", "replace")) == []
    finally:
        server.stop()
        store.close()
        logging.getLogger("apertis_tui").handlers.clear()
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).handlers.clear()

    settings_file = paths.config_path()
    kept = settings_file.read_text().splitlines()
    assert [line for line in kept if line.startswith("api_key")] == [f'api_key = "{SECRET}"']
    searched = []
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        data = path.read_bytes().decode("utf-8", "replace")
        if path == settings_file:
            data = "\n".join(line for line in kept if not line.startswith("api_key"))
        assert leaks(data) == [], f"the key is in {path}"
        searched.append(path.name)
    # What was searched: the history and its WAL, the log, both exports, every screenshot.
    for name in ("history.db", log_path.name, "chat.md", "chat.json", "key-dialog.svg",
                 "picker.svg", "conversation.svg", "settings.svg", "config.toml"):
        assert name in searched, name
    log = log_path.read_text()
    assert "[redacted]" in log and "stream echo/json-500" in log
    exported = json.loads((tmp_path / "exports" / "chat.json").read_text())
    assert len(exported["messages"]) == 2 * (5 + len(ECHO_SHAPES) + 1)
