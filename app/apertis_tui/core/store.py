"""The chat history: one SQLite file, managed with sqlite-utils.

Plain synchronous code: every call is one small statement or transaction, so the app
may call it straight from the event loop (or from a worker thread: the connection is
shared under a lock). No Textual import here.

Durability: WAL with ``synchronous=NORMAL`` makes every commit survive the process
being killed (not a power cut, which would lose at most the last commits).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .pathtext import home_relative
from .text import clean
from .types import HIGHLIGHT_END, HIGHLIGHT_START, Chat, ChatParams, Message, SearchHit

if TYPE_CHECKING:
    import sqlite_utils
    from sqlite_utils import Migrations

__all__ = [
    "History",
    "ChatSummary",
    "StoreError",
    "StoreCorrupt",
    "SCHEMA_VERSION",
    "MIGRATION_NAMES",
    "migrate",
    "schema_version",
    "fts_query",
    "now_iso",
    "set_aside",
]


# ---------------------------------------------------------------------------
# Errors


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


# ---------------------------------------------------------------------------
# Small helpers


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


_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits: what unicode61 calls a token


def fts_query(text: str) -> str:
    """Turn anything a user types into a safe FTS5 query: every word quoted, all ANDed.

    The words are cut out of the text the way the tokenizer cuts it (letters and
    digits), so no FTS5 syntax survives; the quotes also neutralise AND/OR/NOT/NEAR.
    Words of two or more characters match as prefixes ("sqlite" finds "sqlite3").
    A single character matches only itself: as a prefix it would match nearly
    everything, and merging that many terms is what makes FTS5 slow ("c" finds C).
    Returns "" when nothing searchable is left.
    """
    words = _WORD.findall(unicodedata.normalize("NFC", text))
    return " ".join(f'"{word}"*' if len(word) > 1 else f'"{word}"' for word in words)


# ---------------------------------------------------------------------------
# Schema, as migrations. Never edit a released migration: add the next one.

MIGRATION_SET = "apertis_tui.history"
MIGRATION_NAMES = ("m001_initial", "m002_fts", "m003_fts_prefix", "m004_fts_skip_streaming", "m005_writer_pid")
SCHEMA_VERSION = len(MIGRATION_NAMES)
_STEPS: dict[str, Callable[[Any], None]] = {}


def _step(name: str) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    def register(function: Callable[[Any], None]) -> Callable[[Any], None]:
        _STEPS[name] = function
        return function

    return register


def _migrations() -> "Migrations":
    """sqlite-utils' Migrations over our steps. Built (and sqlite-utils imported, ~35 ms) only
    when a database needs migrating, which is not at every start."""
    from sqlite_utils import Migrations

    migrations = Migrations(MIGRATION_SET)
    for name in MIGRATION_NAMES:
        migrations(name=name)(_STEPS[name])
    return migrations


@_step("m001_initial")
def _m001_initial(db: "sqlite_utils.Database") -> None:
    db.executescript(
        """
        CREATE TABLE chats (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL,
            system_prompt TEXT,
            params TEXT NOT NULL DEFAULT '{}',
            archived INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        -- The list is "newest first"; rowid (= id) is the index's last key, so the
        -- id tie-break needs no sort either.
        CREATE INDEX chats_updated_at ON chats(updated_at);
        CREATE INDEX chats_archived_updated_at ON chats(archived, updated_at);

        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            content TEXT NOT NULL DEFAULT '',
            reasoning TEXT NOT NULL DEFAULT '',
            model TEXT,
            status TEXT NOT NULL,
            error TEXT,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            ttft_ms INTEGER,
            duration_ms INTEGER,
            tool_calls TEXT
        );
        CREATE INDEX messages_chat_id ON messages(chat_id, id);
        -- Tiny partial index so the start-up crash recovery never scans the table.
        CREATE INDEX messages_streaming ON messages(id) WHERE status = 'streaming';
        """
    )


@_step("m002_fts")
def _m002_fts(db: "sqlite_utils.Database") -> None:
    # External-content FTS5 tables: the text is stored once, in messages/chats.
    # The update triggers fire only when the indexed column changes, so the many
    # updated_at bumps and status changes cost no re-indexing.
    db.executescript(
        """
        CREATE VIRTUAL TABLE messages_fts USING fts5(
            content, content='messages', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END;
        CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content)
                VALUES ('delete', old.id, old.content);
        END;
        CREATE TRIGGER messages_fts_au AFTER UPDATE OF content ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content)
                VALUES ('delete', old.id, old.content);
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END;
        INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');

        CREATE VIRTUAL TABLE chats_fts USING fts5(
            title, content='chats', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER chats_fts_ai AFTER INSERT ON chats BEGIN
            INSERT INTO chats_fts(rowid, title) VALUES (new.id, new.title);
        END;
        CREATE TRIGGER chats_fts_ad AFTER DELETE ON chats BEGIN
            INSERT INTO chats_fts(chats_fts, rowid, title) VALUES ('delete', old.id, old.title);
        END;
        CREATE TRIGGER chats_fts_au AFTER UPDATE OF title ON chats BEGIN
            INSERT INTO chats_fts(chats_fts, rowid, title) VALUES ('delete', old.id, old.title);
            INSERT INTO chats_fts(rowid, title) VALUES (new.id, new.title);
        END;
        INSERT INTO chats_fts(chats_fts) VALUES ('rebuild');
        """
    )


@_step("m003_fts_prefix")
def _m003_fts_prefix(db: "sqlite_utils.Database") -> None:
    # Prefix indexes for 2- and 3-character prefixes. Without them a short prefix ("th",
    # what the search sees while the user types "the") merges the lists of every word it
    # starts: 60-260 ms on 1,000,000 messages; with them 1-9 ms (benchmarks/history_scale.py).
    # The triggers name the tables, not their definitions, so they keep working.
    db.executescript(
        """
        DROP TABLE messages_fts;
        CREATE VIRTUAL TABLE messages_fts USING fts5(
            content, content='messages', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2', prefix='2 3'
        );
        INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');

        DROP TABLE chats_fts;
        CREATE VIRTUAL TABLE chats_fts USING fts5(
            title, content='chats', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2', prefix='2 3'
        );
        INSERT INTO chats_fts(chats_fts) VALUES ('rebuild');
        """
    )


@_step("m004_fts_skip_streaming")
def _m004_fts_skip_streaming(db: "sqlite_utils.Database") -> None:
    # A streaming answer is saved twice a second; re-indexing its whole text each time made
    # the cost of a long answer grow with its square. Now a message enters the index when it
    # stops streaming (complete, stopped, error, interrupted) and is only re-indexed when a
    # finished message's text changes. The index never holds a streaming message, so the
    # delete commands below always name exactly what was indexed.
    db.executescript(
        """
        DROP TRIGGER messages_fts_ai;
        DROP TRIGGER messages_fts_ad;
        DROP TRIGGER messages_fts_au;
        CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages
        WHEN new.status != 'streaming' BEGIN
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END;
        CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages
        WHEN old.status != 'streaming' BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
        END;
        CREATE TRIGGER messages_fts_au AFTER UPDATE OF content, status ON messages
        WHEN old.status != 'streaming' AND new.status != 'streaming' AND old.content IS NOT new.content BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END;
        CREATE TRIGGER messages_fts_finished AFTER UPDATE OF status ON messages
        WHEN old.status = 'streaming' AND new.status != 'streaming' BEGIN
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END;
        CREATE TRIGGER messages_fts_restreamed AFTER UPDATE OF status ON messages
        WHEN old.status != 'streaming' AND new.status = 'streaming' BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
        END;
        INSERT INTO messages_fts(messages_fts) VALUES ('delete-all');
        INSERT INTO messages_fts(rowid, content) SELECT id, content FROM messages WHERE status != 'streaming';
        """
    )


@_step("m005_writer_pid")
def _m005_writer_pid(db: "sqlite_utils.Database") -> None:
    # The process streaming an answer, so that another instance starting on the same history
    # does not take a live answer for one cut short by a crash.
    db.execute("ALTER TABLE messages ADD COLUMN writer_pid INTEGER")


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


def applied_names(conn: sqlite3.Connection) -> set[str]:
    """The names of our migrations recorded in the database, read without sqlite-utils."""
    try:
        rows = conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = ?", (MIGRATION_SET,))
    except sqlite3.OperationalError:  # no such table: a new database
        return set()
    return {row[0] for row in rows}


def migrate(db: "sqlite_utils.Database", upto: int | None = None) -> None:
    """Apply pending migrations, the first ``upto`` of them only if given (for tests).

    Runs inside one IMMEDIATE transaction so two processes starting together cannot
    both migrate; the second waits, then finds nothing pending.
    """
    stop_before = MIGRATION_NAMES[upto] if upto is not None and upto < SCHEMA_VERSION else None
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        _migrations().apply(db, stop_before=stop_before)
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.commit()


def schema_version(db: "sqlite_utils.Database") -> int:
    """How many of this app's migrations the database has."""
    applied = applied_names(db.conn)
    return sum(name in applied for name in MIGRATION_NAMES)


# ---------------------------------------------------------------------------
# Rows -> dataclasses

_MESSAGE_COLUMNS = (
    "id, chat_id, role, content, reasoning, model, status, error, created_at, finished_at, "
    "prompt_tokens, completion_tokens, ttft_ms, duration_ms, tool_calls"
)
_CHAT_COLUMNS = "id, title, model, system_prompt, params, archived, created_at, updated_at"


# Text read back is cleaned again: another program, an older version or a copied file may have
# put escape sequences in the history, and it is shown in a terminal.


def _chat(row: sqlite3.Row) -> Chat:
    return Chat(
        id=row["id"],
        title=clean(row["title"]),
        model=clean(row["model"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        system_prompt=row["system_prompt"],
        params=ChatParams.from_dict(json.loads(row["params"] or "{}")),
        archived=bool(row["archived"]),
    )


def _message(row: sqlite3.Row) -> Message:
    data = dict(row)
    data["tool_calls"] = json.loads(data["tool_calls"]) if data["tool_calls"] else None
    for column in ("content", "reasoning", "error", "model"):
        if data[column]:
            data[column] = clean(data[column])
    return Message(**data)


@dataclass(frozen=True)
class ChatSummary:
    """A chat as the history list shows it. Counts and models leave out superseded replies."""

    chat: Chat
    message_count: int
    models: tuple[str, ...]  # the models that wrote its replies, in order of first use


_SQLITE_MAGIC = b"SQLite format 3\x00"
_UNSET: Any = object()  # "not given", where None is a meaningful value


# ---------------------------------------------------------------------------


class History:
    """The chat history file. Open it once per process; close it at exit."""

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

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    def _rows(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        with self._guard() as conn:
            cursor = conn.cursor()
            cursor.row_factory = sqlite3.Row
            return cursor.execute(sql, params).fetchall()

    def _get_message(self, message_id: int) -> Message | None:
        rows = self._rows(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,))
        return _message(rows[0]) if rows else None

    def _insert_message(self, chat_id: int, role: str, content: str, model: str | None, status: str) -> int:
        """Insert a message and bump its chat, in one transaction."""
        now = now_iso()
        with self._write() as conn:
            bumped = conn.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))
            if bumped.rowcount == 0:
                raise StoreError(f"Chat {chat_id} no longer exists.", self.path)
            cursor = conn.execute(
                "INSERT INTO messages (chat_id, role, content, model, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (chat_id, role, content, model, status, now),
            )
            return int(cursor.lastrowid)

    # -- chats -------------------------------------------------------------

    def create_chat(
        self,
        model: str,
        *,
        title: str = "",
        system_prompt: str | None = None,
        params: ChatParams | None = None,
    ) -> Chat:
        now = now_iso()
        params_json = json.dumps((params or ChatParams()).as_dict())
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO chats (title, model, system_prompt, params, archived, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 0, ?, ?)",
                (title, model, system_prompt, params_json, now, now),
            )
            chat_id = int(cursor.lastrowid)
        chat = self.get_chat(chat_id)
        assert chat is not None
        return chat

    def get_chat(self, chat_id: int) -> Chat | None:
        rows = self._rows(f"SELECT {_CHAT_COLUMNS} FROM chats WHERE id = ?", (chat_id,))
        return _chat(rows[0]) if rows else None

    def list_chats(self, *, limit: int = 50, offset: int = 0, archived: bool | None = False) -> list[Chat]:
        """Newest activity first. ``archived=None`` lists both kinds."""
        where, params = ("", []) if archived is None else ("WHERE archived = ?", [int(archived)])
        rows = self._rows(
            f"SELECT {_CHAT_COLUMNS} FROM chats {where} "
            "ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_chat(r) for r in rows]

    def count_chats(self, archived: bool | None = False) -> int:
        where, params = ("", []) if archived is None else ("WHERE archived = ?", [int(archived)])
        return self._rows(f"SELECT count(*) FROM chats {where}", params)[0][0]

    def chat_page(
        self,
        *,
        archived: bool | None = False,
        after: tuple[str, int] | None = None,
        limit: int = 50,
    ) -> list[ChatSummary]:
        """One page of the history list, newest activity first.

        ``after`` is the (updated_at, id) of the last chat of the previous page: paging by
        key walks the (archived, updated_at) index from where the last page ended, so the
        1000th page costs what the first does (OFFSET would skip every earlier row again).
        """
        where, params = ([], []) if archived is None else (["archived = ?"], [int(archived)])
        if after is not None:
            where.append("(updated_at, id) < (?, ?)")
            params.extend(after)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._rows(
            f"SELECT {_CHAT_COLUMNS} FROM chats {clause} ORDER BY updated_at DESC, id DESC LIMIT ?",
            [*params, limit],
        )
        chats = [_chat(r) for r in rows]
        return self._summaries(chats)

    def chat_summaries(self, chat_ids: list[int]) -> dict[int, ChatSummary]:
        """The summaries of the given chats (missing ones are left out)."""
        ids = list(dict.fromkeys(chat_ids))
        chats: list[Chat] = []
        for start in range(0, len(ids), 500):  # well under SQLite's limit on bound parameters
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            chats += [_chat(r) for r in self._rows(f"SELECT {_CHAT_COLUMNS} FROM chats WHERE id IN ({marks})", chunk)]
        return {summary.chat.id: summary for summary in self._summaries(chats)}

    def _summaries(self, chats: list[Chat]) -> list[ChatSummary]:
        """Message counts and models for a page of chats: two grouped queries over the
        (chat_id, id) index, whatever the number of chats in the file."""
        if not chats:
            return []
        ids = [c.id for c in chats]
        marks = ",".join("?" * len(ids))
        counts = {
            r[0]: r[1]
            for r in self._rows(
                f"SELECT chat_id, count(*) FROM messages WHERE chat_id IN ({marks}) "
                "AND status != 'superseded' GROUP BY chat_id",
                ids,
            )
        }
        models: dict[int, list[str]] = {}
        for r in self._rows(
            f"SELECT chat_id, model, min(id) AS first FROM messages WHERE chat_id IN ({marks}) "
            "AND model IS NOT NULL AND model != '' AND status != 'superseded' "
            "GROUP BY chat_id, model ORDER BY chat_id, first",
            ids,
        ):
            models.setdefault(r[0], []).append(r[1])
        return [ChatSummary(c, counts.get(c.id, 0), tuple(models.get(c.id, ()))) for c in chats]

    def get_messages(self, message_ids: list[int]) -> dict[int, Message]:
        """The given messages by id (missing ones are left out)."""
        ids = list(dict.fromkeys(message_ids))
        out: dict[int, Message] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self._rows(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id IN ({marks})", chunk):
                out[r["id"]] = _message(r)
        return out

    def update_chat(
        self,
        chat_id: int,
        *,
        title: str | None = None,
        model: str | None = None,
        system_prompt: str | None = _UNSET,
        params: ChatParams | None = None,
        archived: bool | None = None,
    ) -> Chat | None:
        """Change only the given fields; returns the chat (None if it does not exist).

        Edits bump ``updated_at``; archiving alone does not, so an archived chat
        comes back to its old place when restored.
        """
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = title
        if model is not None:
            changes["model"] = model
        if system_prompt is not _UNSET:
            changes["system_prompt"] = system_prompt
        if params is not None:
            changes["params"] = json.dumps(params.as_dict())
        if changes:
            changes["updated_at"] = now_iso()
        if archived is not None:
            changes["archived"] = int(archived)
        if changes:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            with self._write() as conn:
                conn.execute(f"UPDATE chats SET {assignments} WHERE id = ?", [*changes.values(), chat_id])
        return self.get_chat(chat_id)

    def rename_chat(self, chat_id: int, title: str) -> Chat | None:
        """A new title, leaving ``updated_at`` alone: renaming is not activity, so the chat
        keeps its place in the history list. None if the chat does not exist."""
        with self._write() as conn:
            conn.execute("UPDATE chats SET title = ? WHERE id = ?", (title, chat_id))
        return self.get_chat(chat_id)

    def delete_chat(self, chat_id: int) -> None:
        """The chat and its messages (ON DELETE CASCADE; the FTS triggers follow)."""
        with self._write() as conn:
            conn.execute("DELETE FROM chats WHERE id = ?", (chat_id,))

    # -- messages ----------------------------------------------------------

    def add_message(
        self,
        chat_id: int,
        role: str,
        content: str,
        *,
        model: str | None = None,
        status: str = "complete",
    ) -> Message:
        """A user or system message, stored at once. Bumps the chat."""
        message = self._get_message(self._insert_message(chat_id, role, content, model, status))
        assert message is not None
        return message

    def start_assistant(self, chat_id: int, model: str) -> Message:
        """An empty assistant message in status "streaming". Bumps the chat."""
        message_id = self._insert_message(chat_id, "assistant", "", model, "streaming")
        with self._write() as conn:
            conn.execute("UPDATE messages SET writer_pid = ? WHERE id = ?", (os.getpid(), message_id))
        message = self._get_message(message_id)
        assert message is not None
        return message

    def flush_partial(self, message_id: int, content: str, reasoning: str = "") -> None:
        """Save the text so far (committed: survives kill -9). No-op if the message is gone."""
        with self._write() as conn:
            conn.execute(
                "UPDATE messages SET content = ?, reasoning = ? WHERE id = ?",
                (content, reasoning, message_id),
            )

    def finish_message(
        self,
        message_id: int,
        *,
        content: str,
        reasoning: str = "",
        status: str,
        error: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        ttft_ms: int | None = None,
        duration_ms: int | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
    ) -> Message | None:
        """The final state of a reply. None if the message is gone (its chat was deleted)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE messages SET content = ?, reasoning = ?, status = ?, error = ?, "
                "finished_at = ?, prompt_tokens = ?, completion_tokens = ?, ttft_ms = ?, "
                "duration_ms = ?, tool_calls = ? WHERE id = ?",
                (
                    content,
                    reasoning,
                    status,
                    error,
                    now_iso(),
                    prompt_tokens,
                    completion_tokens,
                    ttft_ms,
                    duration_ms,
                    json.dumps(tool_calls) if tool_calls is not None else None,
                    message_id,
                ),
            )
        return self._get_message(message_id)

    def mark_superseded(self, message_id: int) -> None:
        with self._write() as conn:
            conn.execute("UPDATE messages SET status = 'superseded' WHERE id = ?", (message_id,))

    def messages(self, chat_id: int, *, include_superseded: bool = True) -> list[Message]:
        """All of a chat's messages, oldest first."""
        extra = "" if include_superseded else "AND status != 'superseded'"
        rows = self._rows(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? {extra} ORDER BY id",
            (chat_id,),
        )
        return [_message(r) for r in rows]

    def messages_page(self, chat_id: int, before_id: int | None = None, limit: int = 100) -> list[Message]:
        """The newest ``limit`` messages older than ``before_id`` (all if None), oldest first."""
        rows = self._rows(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? AND id < ? "
            "ORDER BY id DESC LIMIT ?",
            (chat_id, before_id if before_id is not None else 2**63 - 1, limit),
        )
        return [_message(r) for r in reversed(rows)]

    def messages_from(self, chat_id: int, first_id: int, *, before: int = 0) -> list[Message]:
        """The chat's messages from ``first_id`` to its newest, with up to ``before`` older
        ones in front, oldest first: what a pane shows to open a chat at one message."""
        rows = self._rows(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
            (chat_id, first_id, max(0, before)),
        )
        rows = list(reversed(rows)) + self._rows(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? AND id >= ? ORDER BY id",
            (chat_id, first_id),
        )
        return [_message(r) for r in rows]

    def context(self, chat_id: int) -> list[dict[str, str]]:
        """The OpenAI ``messages`` to send for the chat's next turn.

        The system prompt, then user and assistant turns in order. Left out: superseded
        messages, a reply still streaming, and anything without text (e.g. a failed
        reply). A reply that was stopped, interrupted or cut keeps its partial text.
        """
        chat = self.get_chat(chat_id)
        if chat is None:
            return []
        out: list[dict[str, str]] = []
        if chat.system_prompt and chat.system_prompt.strip():
            out.append({"role": "system", "content": chat.system_prompt})
        rows = self._rows(
            "SELECT role, content FROM messages WHERE chat_id = ? "
            "AND role IN ('user', 'assistant') AND status NOT IN ('superseded', 'streaming') "
            "ORDER BY id",
            (chat_id,),
        )
        out.extend({"role": r["role"], "content": r["content"]} for r in rows if r["content"].strip())
        return out

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

    # -- search ------------------------------------------------------------

    def search(self, query: str, *, limit: int = 50) -> list[SearchHit]:
        """Messages and chat titles containing every word (as a prefix), newest first.

        "Newest" is the time of the matching text: a message's created_at, a title's
        chat updated_at. Each FTS table is walked by rowid descending, which FTS5 does
        without sorting, so the cost does not grow with the number of hits.
        Never raises for any query text.
        """
        match = fts_query(query)
        if not match or limit <= 0:
            return []
        try:
            hits = self._search_messages(match, limit) + self._search_titles(match, limit)
        except StoreError:
            return []  # a query FTS5 still rejects, or a damaged index: no hits, not a crash
        hits.sort(key=lambda pair: pair[0], reverse=True)
        return [hit for _, hit in hits[:limit]]

    def _search_messages(self, match: str, limit: int) -> list[tuple[str, SearchHit]]:
        rows = self._rows(
            """
            SELECT f.id, f.snip, m.chat_id, m.created_at, c.title, c.updated_at
            FROM (
                SELECT rowid AS id, snippet(messages_fts, 0, ?, ?, '…', 12) AS snip
                FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?
            ) AS f
            JOIN messages AS m ON m.id = f.id
            JOIN chats AS c ON c.id = m.chat_id
            """,
            (HIGHLIGHT_START, HIGHLIGHT_END, match, limit),
        )
        return [
            (r["created_at"], SearchHit(r["chat_id"], r["title"], r["id"], r["snip"], r["updated_at"]))
            for r in rows
        ]

    def _search_titles(self, match: str, limit: int) -> list[tuple[str, SearchHit]]:
        rows = self._rows(
            """
            SELECT f.id, f.snip, c.title, c.updated_at
            FROM (
                SELECT rowid AS id, snippet(chats_fts, 0, ?, ?, '…', 12) AS snip
                FROM chats_fts WHERE chats_fts MATCH ? ORDER BY rowid DESC LIMIT ?
            ) AS f
            JOIN chats AS c ON c.id = f.id
            """,
            (HIGHLIGHT_START, HIGHLIGHT_END, match, limit),
        )
        return [
            (r["updated_at"], SearchHit(r["id"], r["title"], None, r["snip"], r["updated_at"])) for r in rows
        ]
