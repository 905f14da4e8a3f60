"""What a chat is called on screen (title bar, tab, palette, dialogs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.text import one_line

if TYPE_CHECKING:
    from ..core.types import Chat

NEW_CHAT = "New chat"  # a chat not yet stored, or stored without a title


def chat_title(chat: Chat | None, limit: int = 80) -> str:
    """The chat's title on one line of at most ``limit`` characters."""
    return one_line(chat.title, limit) if chat and chat.title else NEW_CHAT
