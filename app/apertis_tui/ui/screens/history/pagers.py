"""What the history list shows and where its next page comes from: the chats, or a search.

A pager asks the store for one page at a time (keyset paging for the chats, a growing limit
for the search), turns it into options, and says what to show around them: the heading, the
hint under the list and the sentence for an empty one. The screen holds one pager and swaps
it for the other when the search field is filled or emptied.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.text import Text

from ....core.text import one_line
from ....core.timefmt import utc_now
from ....core.types import Chat
from .rows import ChatOption, HistoryOption, HitOption

if TYPE_CHECKING:
    from ....core.store import History
    from .widgets import HistoryList

PAGE = 100  # chats per page of the list
SEARCH_PAGE = 50  # hits per page of a search


class ChatPager:
    """The chats (or the archived ones), newest activity first."""

    searching = False
    query = ""

    def __init__(self, store: "History", widget: "HistoryList", *, archived: bool) -> None:
        self.store, self.widget, self.archived = store, widget, archived
        self.total = store.count_chats(archived)
        self.exhausted = False
        self._after: tuple[str, int] | None = None  # where the next page starts

    def next_page(self) -> list[HistoryOption]:
        page = self.store.chat_page(archived=self.archived, after=self._after, limit=PAGE)
        self.exhausted = len(page) < PAGE
        if page:
            last = page[-1].chat
            self._after = (last.updated_at, last.id)
        now = utc_now()
        return [ChatOption(self.widget, summary, now) for summary in page]

    def keeps(self, chat: Chat) -> bool:
        """Whether the chat, as changed, still belongs in this list (archiving moves it to the other)."""
        return chat.archived == self.archived

    def dropped(self) -> None:
        """A chat left the list (archived, restored or deleted): one fewer in the count."""
        self.total = max(0, self.total - 1)

    def heading(self, shown: int) -> Text:
        heading = Text("Archived chats" if self.archived else "History", style="bold")
        heading.append(f" · {self.total:,} {'chat' if self.total == 1 else 'chats'}", style="dim")
        return heading

    def hint(self) -> Text:
        hint = Text("Type to search · enter opens · ", style="dim")
        hint.append("f7 hides archived chats" if self.archived else "f7 shows archived chats")
        return hint

    def empty(self) -> str:
        return ("No archived chats. f7 shows the others." if self.archived else
                "No chats yet: what you send in a conversation is kept here.")


class SearchPager:
    """The hits of a search in titles and messages (archived chats too), newest first."""

    searching = True

    def __init__(self, store: "History", widget: "HistoryList", query: str) -> None:
        self.store, self.widget, self.query = store, widget, query
        self.exhausted = False
        self._limit = SEARCH_PAGE
        self._seen: set[tuple[int, int | None]] = set()  # the hits given out, by (chat, message)

    def next_page(self) -> list[HistoryOption]:
        # FTS5 has no keyset for rank order: ask for more each time and keep the new ones.
        store = self.store
        hits = store.search(self.query, limit=self._limit)
        self.exhausted = len(hits) < self._limit
        self._limit += SEARCH_PAGE
        new = [h for h in hits if (h.chat_id, h.message_id) not in self._seen]
        self._seen.update((h.chat_id, h.message_id) for h in new)
        summaries = store.chat_summaries([h.chat_id for h in new])
        messages = store.get_messages([h.message_id for h in new if h.message_id is not None])
        now = utc_now()
        return [HitOption(self.widget, hit, summaries.get(hit.chat_id),
                          messages.get(hit.message_id) if hit.message_id is not None else None, now)
                for hit in new]

    def keeps(self, chat: Chat) -> bool:
        return True  # archived or not, a hit stays a hit

    def dropped(self) -> None:
        pass  # the count is of the hits shown

    def heading(self, shown: int) -> Text:
        heading = Text("History", style="bold")
        more = "" if self.exhausted else "+"
        heading.append(f" · {shown}{more} {'match' if shown == 1 else 'matches'}, newest first", style="dim")
        return heading

    def hint(self) -> Text:
        return Text("Every word must appear; words match as prefixes (wal finds WAL and walrus). "
                    "escape or ctrl+u clears.", style="dim")

    def empty(self) -> str:
        if not re.search(r"[^\W_]", self.query):
            return ("Type letters or digits: search ignores punctuation such as \" * - : ( ) "
                    "and finds messages containing every word.")
        return f"No title or message contains “{one_line(self.query, 60)}”."


Pager = ChatPager | SearchPager
