"""Opening the history file: errors as sentences, damaged files set aside, crash recovery,
and the one guarded connection every query goes through.

Plain synchronous code: every call is one small statement or transaction, so the app
may call it straight from the event loop (or from a worker thread: the connection is
shared under a lock). No Textual import here.

Durability: WAL with ``synchronous=NORMAL`` makes every commit survive the process
being killed (not a power cut, which would lose at most the last commits).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from ..pathtext import home_relative
from .migrations import MIGRATION_NAMES, applied_names, migrate

if TYPE_CHECKING:
    import sqlite_utils


class StoreError(Exception):
    """The history cannot be used; ``str(error)`` is a sentence for the user."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class StoreCorrupt(StoreError):
    """The file is not a usable database. ``set_aside(error.path)`` moves it out of the way."""


def _store_error(exc: sqlite3.Error, path: Path) -> StoreError:
    """Turn a sqlite3 exception into a sentence naming the file."""
    code = getattr(exc, "sqlite_errorname", "") or ""
    primary = "_".join(code.split("_")[:2])  # SQLITE_READONLY_DBMOVED -> SQLITE_READONLY
    where = home_relative(path)
    if primary in {"SQLITE_NOTADB", "SQLITE_CORRUPT"}:
        return StoreCorrupt(f"The history file {where} is damaged ({exc}).", path)
    if primary in {"SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH"}:
        return StoreError(
            f"The history file {where} cannot be opened for writing ({exc}). "
            "Check that its folder exists and is writable.",
            path,
        )
    if primary == "SQLITE_FULL":
        return StoreError(f"The disk holding the history file {where} is full.", path)
    if primary in {"SQLITE_BUSY", "SQLITE_LOCKED"}:
        return StoreError(
            f"The history file {where} stayed locked by another program for too long ({exc}).", path
        )
    return StoreError(f"The history file {where} could not be used ({exc}).", path)


def now_iso() -> str:
    """UTC now as ISO-8601 with milliseconds and a ``Z``: sorts as text, reads as time."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def set_aside(path: str | Path) -> Path:
    """Rename a damaged history file (and its -wal/-shm) to ``<name>.corrupt-<timestamp>``.

    Never deletes anything. The -wal/-shm files keep their suffix after the new name, so
    SQLite would still pair them with it if someone tries to recover the data.
    """
    path = Path(path)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while any(Path(f"{target}{s}").exists() for s in ("", "-wal", "-shm")):
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    try:
        for suffix in ("-wal", "-shm", ""):  # the main file last: it is what marks the set
            source = Path(f"{path}{suffix}")
            if source.exists():
                source.rename(f"{target}{suffix}")
    except OSError as exc:
        raise StoreError(
            f"Could not move the damaged history file {home_relative(path)} aside ({exc.strerror or exc}).", path
        ) from exc
    return target


def _alive(pid: int | None) -> bool:
    """Is another process with this id running? (Our own id at startup can only be left over
    from an earlier process that had the same id.)"""
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but is not ours to signal
        return True
    return True


_SQLITE_MAGIC = b"SQLite format 3\x00"


class HistoryFile:
    """The open file and its connection; the per-job parts of ``History`` build on it.
    Open it once per process; close it at exit."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.RLock()
        self._make_folder()
        self._check_header()
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False)
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc
        self.conn = conn
        self._db: sqlite_utils.Database | None = None  # made on demand, see ``db``
        try:
            self._setup()
            if not applied_names(conn).issuperset(MIGRATION_NAMES):
                migrate(self.db)
            self.recovered = self.recover_interrupted()
        except sqlite3.Error as exc:
            conn.close()
            raise _store_error(exc, self.path) from exc
        except BaseException:
            conn.close()
            raise

    def _make_folder(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Cannot create the folder for the history file {home_relative(self.path)} "
                f"({exc.strerror or exc}).",
                self.path,
            ) from exc

    def _check_header(self) -> None:
        """Refuse a file that is not SQLite before SQLite touches it.

        Opening it anyway would let SQLite delete a -wal/-shm next to it on close,
        and set_aside() promises to keep everything.
        """
        try:
            with self.path.open("rb") as f:
                header = f.read(len(_SQLITE_MAGIC))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(
                f"Cannot read the history file {home_relative(self.path)} ({exc.strerror or exc}).", self.path
            ) from exc
        if header and header != _SQLITE_MAGIC:
            raise StoreCorrupt(
                f"The history file {home_relative(self.path)} is damaged (file is not a database).", self.path
            )

    @property
    def db(self) -> "sqlite_utils.Database":
        """sqlite-utils' view of the connection, made on first use (migrations, tests)."""
        if self._db is None:
            import sqlite_utils

            # No plugins: they would run arbitrary code against the user's history.
            self._db = sqlite_utils.Database(self.conn, execute_plugins=False)
        return self._db

    def _setup(self) -> None:
        conn = self.conn
        # The first statements that read the file: damage behind a valid header
        # shows up here or in migrate() as SQLITE_CORRUPT, hence StoreCorrupt.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def recover_interrupted(self) -> int:
        """Replies left "streaming" by a process that is gone become "interrupted" (a reply
        another running instance is streaming is left alone). Returns how many."""
        with self._write() as conn:
            rows = conn.execute("SELECT id, writer_pid FROM messages WHERE status = 'streaming'").fetchall()
            dead = [row[0] for row in rows if not _alive(row[1])]
            finished = now_iso()
            conn.executemany("UPDATE messages SET status = 'interrupted', finished_at = ? WHERE id = ?",
                             [(finished, message_id) for message_id in dead])
            return len(dead)

    # -- plumbing ----------------------------------------------------------

    @contextmanager
    def _guard(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock, with sqlite3 errors turned into StoreError."""
        with self._lock:
            try:
                yield self.conn
            except sqlite3.Error as exc:
                raise _store_error(exc, self.path) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction.

        BEGIN IMMEDIATE takes the write lock up front, so a second writer (another
        History, another process) waits up to busy_timeout instead of failing with
        "database is locked" when a deferred transaction tries to upgrade.
        """
        with self._guard() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    def _rows(self, sql: str, params: tuple | list = (), *, named: bool = True) -> list[Any]:
        """The rows of a query: ``sqlite3.Row`` (read by column name), or plain tuples with
        ``named=False``, which are cheaper for a hot loop over many rows."""
        with self._guard() as conn:
            cursor = conn.cursor()
            if named:
                cursor.row_factory = sqlite3.Row
            return cursor.execute(sql, params).fetchall()
