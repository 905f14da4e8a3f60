"""The history (ctrl+r): every stored chat, searchable, and what can be done to one.

- ``screen``: HistoryScreen, the keys and actions, and what is shown around the list;
- ``rows``: the list's options (a chat, a search hit), which carry their data and draw themselves;
- ``pagers``: the chats or a search's hits, a page at a time from the store;
- ``widgets``: the list, the search field and the inline title editor;
- ``dialogs``: exporting a chat (also opened from the conversation).
"""

from .pagers import PAGE, SEARCH_PAGE
from .browser import SEARCH_DELAY
from .screen import HistoryScreen

__all__ = ["PAGE", "SEARCH_DELAY", "SEARCH_PAGE", "HistoryScreen"]
