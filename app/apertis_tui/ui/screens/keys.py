"""f1: every key of the screen underneath, grouped, including ones that are idle right now
(Stop only works while an answer arrives, but a user should learn it before then)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static
from ..textual_internals import binding_chain
from .dialog import Dialog

GROUPS = {"prompt": "Prompt", "chat": "This chat", "chats": "Chats", "app": "App",
          "messages": "A selected message (ctrl+up selects)",
          "tools": "A tool call waiting for your answer (escape stops the turn)"}
# Keys that read better as one row: (first id, second id) -> what the two do.
PAIRS = {("messages.up", "messages.down"): "Previous / next message (then the prompt)",
         ("messages.first", "messages.last"): "First / last message shown",
         ("messages.previous_version", "messages.next_version"): "Previous / next version of this turn",
         ("compare.scroll_alone", "compare.scroll_together"):
             "Scroll the current column alone / all columns together again, lined up",
         ("compare.line_up", "compare.line_down"): "A line up / down (all columns, or the current one alone)",
         ("compare.page_up", "compare.page_down"): "A page up / down (all columns, or the current one alone)",
         ("compare.top", "compare.end"): "The comparison's top / the conversation's end (or the current "
                                         "column's start / end)"}
SOURCES_ROW = "Open that source of a reply that searched the web (f5), in the browser"
EDITING_NOTE = ("The prompt also has the usual editing keys: arrows, home/end, ctrl+z undo, ctrl+y redo, "
                "ctrl+x/ctrl+c/ctrl+v cut/copy/paste, ctrl+u/ctrl+k delete to line start/end.")


def key_rows(screen: Screen) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group, [(keys, description)]) for the bindings with an id on ``screen``'s focus chain."""
    app = screen.app
    groups: dict[str, list[tuple[str, str]]] = {}
    seen: set[str] = set()
    placed: dict[str, tuple[str, tuple[str, str]]] = {}  # binding id -> (its group, its row)
    chain = binding_chain(screen)  # focused widget first, the app last: as Textual uses it
    # Priority bindings win from the app inwards; the others from the focused widget outwards.
    ordered = [(node, key, b) for node, bindings in reversed(chain) for key, b in bindings if b.priority]
    ordered += [(node, key, b) for node, bindings in chain for key, b in bindings if not b.priority]
    owner: dict[str, object] = {}  # key -> the node whose bindings of it are listed (one node may have
    for node, key, binding in ordered:  # several for a key, each live at its own time: escape)
        if binding.id in seen or owner.get(key, node) is not node:
            continue
        owner[key] = node
        if not binding.id or not binding.description:
            continue
        seen.add(binding.id)
        group = GROUPS.get(binding.id.split(".")[0], binding.id.split(".")[0].replace("_", " ").title())
        row = (app.get_key_display(binding), binding.tooltip or binding.description)
        groups.setdefault(group, []).append(row)
        placed[binding.id] = (group, row)
    for (first, second), what in PAIRS.items():  # two keys that read better as one row
        if first in placed and second in placed and placed[first][0] == placed[second][0]:
            rows = groups[placed[first][0]]
            keys = "" if placed[first][1][0] == placed[second][1][0] else f" {placed[second][1][0]}"
            rows[rows.index(placed[first][1])] = (placed[first][1][0] + keys, what)
            rows.remove(placed[second][1])
    # Selecting messages has its own keys, live once ctrl+up has moved the focus to the list:
    # listed from the prompt too, so they can be learnt before.
    if screen.query("MessageList") and "messages.up" not in seen:
        from textual.binding import BindingsMap

        from ..widgets.message_list import MessageList

        by_id = {binding.id: binding for _, binding in BindingsMap(MessageList.BINDINGS) if binding.id}
        rows = groups.setdefault(GROUPS["messages"], [])
        paired = {one for pair in PAIRS for one in pair}
        for (first, second), what in PAIRS.items():
            if first in by_id:
                rows.append((f"{app.get_key_display(by_id[first])} {app.get_key_display(by_id[second])}", what))
        for name, binding in by_id.items():
            if name not in paired and name not in seen:
                rows.append((app.get_key_display(binding), binding.tooltip or binding.description))
        seen.update(by_id)
    # Answering a tool call: live only while one is asked, listed from the prompt too.
    if screen.query("ChatPane") and "tools.run" not in seen:
        from textual.binding import BindingsMap

        from ..widgets.tool_approval import ToolApproval

        rows = groups.setdefault(GROUPS["tools"], [])
        for _, binding in BindingsMap(ToolApproval.BINDINGS):
            if binding.id and binding.id not in seen:
                seen.add(binding.id)
                rows.append((app.get_key_display(binding), binding.tooltip or binding.description))
    # Several keys for one action (alt+1 … alt+9, 1 … 9) read better as one row.
    for rows in groups.values():
        for prefix, what in (("Chat ", "Chat 1 … 9"), ("Open source ", SOURCES_ROW)):
            jumps = [row for row in rows if row[1].startswith(prefix) and row[1][len(prefix):].isdigit()]
            if len(jumps) > 1:
                first = rows.index(jumps[0])
                for row in jumps:
                    rows.remove(row)
                rows.insert(first, (f"{jumps[0][0]} … {jumps[-1][0]}", what))
    order = list(GROUPS.values())
    return sorted(groups.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))


class KeysScreen(Dialog[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, groups: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.groups = groups

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="keys", classes="dialog-box"):
            yield Static(Content("Keys — escape closes"), id="keys-title", classes="dialog-title")
            width = max((len(keys) for _, rows in self.groups for keys, _ in rows), default=0)
            for group, rows in self.groups:
                text = Content.assemble((group, "bold"), "\n",
                                        *(part for keys, what in rows
                                          for part in ((keys.rjust(width), "$accent bold"), "  ", what, "\n")))
                yield Static(text.rstrip(), classes="keys-group")
            yield Static(Content(EDITING_NOTE), id="keys-note")
