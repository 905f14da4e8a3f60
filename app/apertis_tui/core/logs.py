"""The diagnostic log: a rotated file in the state folder, with the API key scrubbed.

What is logged: starts, requests (model, number of messages, parameters' names), their outcome
(status, tokens, timings) and errors. Never the prompt or answer text, never the key.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from .text import redact

LOG_NAME = "apertis-tui.log"
MAX_BYTES = 1_000_000
BACKUPS = 3


class RedactKey(logging.Filter):
    """Scrubs the key from every record, whatever put it there (ours, httpx, a traceback)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def add(self, secret: str | None) -> None:
        if secret and secret not in self.secrets:
            self.secrets.append(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            for secret in self.secrets:
                message = redact(message, secret)
                if record.exc_text:
                    record.exc_text = redact(record.exc_text, secret)
            record.msg, record.args = message, None
        return True


_filter = RedactKey([])
current_path: Path | None = None  # where the log is being written, once set up


def setup_logging(folder: Path, *, debug: bool = False) -> Path | None:
    """Log to ``folder/apertis-tui.log`` (rotated). Returns the path, or None if the folder is
    not writable (the app works without a log)."""
    path = folder / LOG_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_filter)
    root = logging.getLogger("apertis_tui")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.propagate = False
    global current_path
    current_path = path
    if debug:
        for name in ("httpx", "httpcore"):
            other = logging.getLogger(name)
            other.handlers[:] = [handler]
            other.setLevel(logging.DEBUG)
            other.propagate = False
    return path


def keep_secret(secret: str | None) -> None:
    """From now on, scrub ``secret`` from the log."""
    _filter.add(secret)
