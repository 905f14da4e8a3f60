"""The schema of the history, as migrations: a list of steps, applied in order, each once.

Each step is a function named after itself (``m003_fts_prefix``); that name is what the
database records in sqlite-utils' ``_sqlite_migrations`` table, so a released step is never
renamed or edited: add the next one. (The style of simonw/llm's ``llm/migrations.py``.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils
    from sqlite_utils import Migrations

MIGRATION_SET = "apertis_tui.history"
MIGRATIONS: list[Callable[["sqlite_utils.Database"], None]] = []
migration = MIGRATIONS.append  # as a decorator: the step is listed, its module name becomes None


@migration
def m001_initial(db: "sqlite_utils.Database") -> None:
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


@migration
def m002_fts(db: "sqlite_utils.Database") -> None:
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


@migration
def m003_fts_prefix(db: "sqlite_utils.Database") -> None:
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


@migration
def m004_fts_skip_streaming(db: "sqlite_utils.Database") -> None:
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


@migration
def m005_writer_pid(db: "sqlite_utils.Database") -> None:
    # The process streaming an answer, so that another instance starting on the same history
    # does not take a live answer for one cut short by a crash.
    db.execute("ALTER TABLE messages ADD COLUMN writer_pid INTEGER")


@migration
def m006_message_tree(db: "sqlite_utils.Database") -> None:
    # The conversation as a tree: every message has a parent (the first none), its depth on
    # the path (for path lengths without walking), and a chat remembers its current leaf.
    # A linear chat becomes one path; a superseded reply (replaced by a regeneration)
    # becomes a sibling of the reply that replaced it: its parent is the message it answered.
    db.executescript(
        """
        ALTER TABLE messages ADD COLUMN parent_id INTEGER;
        ALTER TABLE messages ADD COLUMN depth INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE chats ADD COLUMN current_id INTEGER;
        CREATE INDEX messages_parent ON messages(parent_id, id);
        """
    )
    conn = db.conn
    links: list[tuple[int | None, int, int]] = []
    tips: dict[int, int] = {}  # chat -> the end of its path
    newest_child: dict[int, int] = {}
    depth: dict[int, int] = {}
    for mid, chat, status in conn.execute("SELECT id, chat_id, status FROM messages ORDER BY chat_id, id"):
        tip = tips.get(chat)
        depth[mid] = depth[tip] + 1 if tip is not None else 1
        links.append((tip, depth[mid], mid))
        if tip is not None:
            newest_child[tip] = mid
        if status != "superseded":  # the path goes on from here; a superseded reply stays a side branch
            tips[chat] = mid
    leaves = []
    for chat, tip in tips.items():
        while tip in newest_child:  # the path ends in replies that were all superseded: show the newest
            tip = newest_child[tip]
        leaves.append((tip, chat))
    conn.executemany("UPDATE messages SET parent_id = ?, depth = ? WHERE id = ?", links)
    conn.executemany("UPDATE chats SET current_id = ? WHERE id = ?", leaves)
    # "superseded" meant "hidden"; as a sibling it is an ordinary reply again.
    conn.execute("UPDATE messages SET status = CASE WHEN error IS NOT NULL THEN 'error' ELSE 'complete' END "
                 "WHERE status = 'superseded'")


@migration
def m007_tool_call_id(db: "sqlite_utils.Database") -> None:
    # A tool's result is a message of role "tool" answering one call of the assistant message
    # before it, named by the call's id (OpenAI refuses a tool message that answers no call).
    db.execute("ALTER TABLE messages ADD COLUMN tool_call_id TEXT")


@migration
def m008_chat_tools(db: "sqlite_utils.Database") -> None:
    # A chat's own tool settings (on/off, tool_choice, tools always allowed) as JSON; NULL
    # follows the settings' defaults.
    db.execute("ALTER TABLE chats ADD COLUMN tools TEXT")


@migration
def m009_comparisons(db: "sqlite_utils.Database") -> None:
    # One prompt sent to several models at once: the question they answer (root_id), the models
    # in column order, each column's newest message (leaves, JSON ids) and, once the user picked
    # one, its leaf (chosen_id). The answers themselves are ordinary sibling messages.
    db.execute(
        """
        CREATE TABLE comparisons (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            root_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            models TEXT NOT NULL,
            leaves TEXT NOT NULL,
            chosen_id INTEGER,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX comparisons_chat ON comparisons(chat_id, id)")


@migration
def m010_message_cost(db: "sqlite_utils.Database") -> None:
    # What a reply cost, measured (core/spend_meter.py): cost_usd is the reply's own when
    # cost_group is NULL; otherwise it is the cost of the group of overlapping requests named
    # cost_group (its first reply's id), stored whole on each of its cost_replies replies. The
    # partial index holds only the replies with a cost: the sums read nothing else.
    # (One statement at a time: executescript would commit migrate()'s transaction.)
    for statement in (
        "ALTER TABLE messages ADD COLUMN cost_usd REAL",
        "ALTER TABLE messages ADD COLUMN cost_group INTEGER",
        "ALTER TABLE messages ADD COLUMN cost_replies INTEGER",
        "CREATE INDEX messages_cost ON messages(chat_id, finished_at) WHERE cost_usd IS NOT NULL",
    ):
        db.execute(statement)


_SOURCES_TEXT = """
    SELECT new.id, group_concat(coalesce(json_extract(value, '$.title'), '') || ' '
                                || coalesce(json_extract(value, '$.url'), ''), char(10))
    FROM json_each(CASE WHEN json_valid(new.sources) THEN new.sources ELSE '[]' END)
    WHERE type = 'object' HAVING count(*) > 0
"""


@migration
def m011_web_search(db: "sqlite_utils.Database") -> None:
    # Apertis's web search: a chat's switch (web), and on a reply what its search found
    # (sources: a JSON list of {title, url, snippet}), what the server said of the search
    # (web_search: JSON; NULL when the request did not ask for one), and the server's own
    # timings (server_timings: usage.latency_checkpoint, JSON). The sources' titles and addresses
    # get a full-text index of their own, one row per reply (rowid = the message's id), kept by
    # triggers, so the history search finds a reply by its sources.
    for statement in (
        "ALTER TABLE chats ADD COLUMN web INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE messages ADD COLUMN sources TEXT",
        "ALTER TABLE messages ADD COLUMN web_search TEXT",
        "ALTER TABLE messages ADD COLUMN server_timings TEXT",
        "CREATE VIRTUAL TABLE sources_fts USING fts5(text, tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
        f"""CREATE TRIGGER sources_fts_ai AFTER INSERT ON messages WHEN new.sources IS NOT NULL BEGIN
            INSERT INTO sources_fts(rowid, text) {_SOURCES_TEXT};
        END""",
        """CREATE TRIGGER sources_fts_ad AFTER DELETE ON messages WHEN old.sources IS NOT NULL BEGIN
            DELETE FROM sources_fts WHERE rowid = old.id;
        END""",
        f"""CREATE TRIGGER sources_fts_au AFTER UPDATE OF sources ON messages
        WHEN old.sources IS NOT new.sources BEGIN
            DELETE FROM sources_fts WHERE rowid = old.id;
            INSERT INTO sources_fts(rowid, text) {_SOURCES_TEXT};
        END""",
    ):
        db.execute(statement)


@migration
def m012_fallback(db: "sqlite_utils.Database") -> None:
    # A chat's own fallback models, timeout and switch as JSON (NULL follows the settings'
    # [fallback]); on a reply a fallback wrote, which model failed and why (JSON), its
    # ``model`` being the one that answered.
    db.execute("ALTER TABLE chats ADD COLUMN fallback TEXT")
    db.execute("ALTER TABLE messages ADD COLUMN fallback TEXT")


@migration
def m013_attachments(db: "sqlite_utils.Database") -> None:
    # Files sent with user messages. Their bytes are stored once per content hash in
    # ``attachments`` (the same screenshot sent twice is one row), apart from messages.content,
    # so the full-text index holds none of them; ``message_attachments`` links a message to
    # them in order, with the name shown and what was done to each (an image's scaling).
    # A blob no message links to any more goes with its last link (the trigger).
    for statement in (
        """CREATE TABLE attachments (
            sha256 TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            mime TEXT NOT NULL,
            size INTEGER NOT NULL,
            width INTEGER,
            height INTEGER,
            data BLOB NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE message_attachments (
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            sha256 TEXT NOT NULL REFERENCES attachments(sha256),
            name TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (message_id, position)
        )""",
        "CREATE INDEX message_attachments_sha256 ON message_attachments(sha256)",
        """CREATE TRIGGER message_attachments_gc AFTER DELETE ON message_attachments
        WHEN NOT EXISTS (SELECT 1 FROM message_attachments WHERE sha256 = old.sha256) BEGIN
            DELETE FROM attachments WHERE sha256 = old.sha256;
        END""",
    ):
        db.execute(statement)


# The names the database records; the released ones are pinned in tests/test_migrate.py.
MIGRATION_NAMES: tuple[str, ...] = tuple(step.__name__ for step in MIGRATIONS)
SCHEMA_VERSION = len(MIGRATION_NAMES)


def _migrations() -> "Migrations":
    """sqlite-utils' Migrations over our steps. Built (and sqlite-utils imported, ~35 ms) only
    when a database needs migrating, which is not at every start."""
    from sqlite_utils import Migrations

    migrations = Migrations(MIGRATION_SET)
    for step in MIGRATIONS:
        migrations()(step)  # named by the function
    return migrations


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
