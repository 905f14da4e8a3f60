"""The chat history: one SQLite file, managed with sqlite-utils. No Textual import here.

One module per job: ``opening`` (the file, its errors, crash recovery, the guarded
connection), ``migrations`` (the schema), ``chats``, ``messages``, ``tree`` (paths, siblings,
the current leaf, forks), ``attachments`` (files sent with messages, stored once each),
``compare`` (several models answering at once), ``spend`` (measured costs), ``search`` and ``export``
(a chat as a file). ``History`` puts the per-job parts together: it is the one object
callers hold.
"""

from __future__ import annotations

from .chats import Chats, ChatSummary
from .compare import Compare
from .messages import CURRENT, Messages
from .migrations import MIGRATION_NAMES, SCHEMA_VERSION, migrate, schema_version
from .opening import StoreCorrupt, StoreError, now_iso, set_aside
from .search import Search, fts_query
from .spend import Spending
from .tree import Tree

__all__ = [
    "History",
    "CURRENT",
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


class History(Chats, Messages, Tree, Compare, Search, Spending):
    """The chat history file. Open it once per process; close it at exit."""
