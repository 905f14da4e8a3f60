"""Which chats were open, in which order, and which was in front: restored at the next launch.

Written whenever that changes (not only at quit), so a crash restores too. A missing or
damaged file just means "no session": it is never worth an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import atomic_write


@dataclass
class Session:
    chat_ids: list[int] = field(default_factory=list)
    focused: int = 0  # index into chat_ids


def load_session(path: Path) -> Session:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ids = [int(i) for i in data.get("chats", []) if isinstance(i, int) and not isinstance(i, bool)]
        focused = data.get("focused", 0)
        return Session(ids, focused if isinstance(focused, int) and 0 <= focused < max(1, len(ids)) else 0)
    except (OSError, ValueError, AttributeError, TypeError):
        return Session()


def save_session(path: Path, session: Session) -> bool:
    """Write the session; False when it could not be written. Never raises: it is called on
    every tab change, and a state folder that is not writable must not stop a chat."""
    payload = json.dumps({"chats": session.chat_ids, "focused": session.focused})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, payload.encode("utf-8"))
    except OSError:
        return False
    return True
