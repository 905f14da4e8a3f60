"""Where the app keeps its files: settings, history, logs, caches and the open-chats session.

platformdirs picks the usual place on each system (XDG on Linux). Nothing here creates a folder.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

from .. import APP_NAME


def config_path() -> Path:
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "config.toml"


def data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def state_dir() -> Path:
    """Logs go here."""
    return platformdirs.user_state_path(APP_NAME, appauthor=False)


def cache_dir() -> Path:
    """The model list cache goes here."""
    return platformdirs.user_cache_path(APP_NAME, appauthor=False)


def default_db_path() -> Path:
    return data_dir() / "history.db"


def session_path(db_path: Path) -> Path:
    """Where the open chats of the history at ``db_path`` are remembered (one file per history)."""
    try:  # CPython's own SHA-1: importing hashlib loads OpenSSL, ~1 ms of the start
        from _sha1 import sha1
    except ImportError:
        from hashlib import sha1
    digest = sha1(str(Path(db_path).resolve()).encode()).hexdigest()[:12]
    return state_dir() / f"session-{digest}.json"
