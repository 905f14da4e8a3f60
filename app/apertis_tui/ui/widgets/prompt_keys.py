"""The prompt's keys, shared by the prompt (prompt_input) and its stand-in in the app's first
frame (ui/startup.py), which shows them in the key bar.

Apart from prompt_input because that module imports TextArea (~7 ms), which the first frame
does without.
"""

from __future__ import annotations

from textual.binding import Binding

# Not priority bindings: the app runs those the moment a key arrives, ahead of the typed
# characters still queued for the prompt, so "hello⏎" typed fast (or sent by tmux, a macro)
# sent an empty prompt and left "hello" in it. OrderedKeys (textual_internals) runs these in
# the order typed, before TextArea's own handling of the key (which would insert a newline).
PROMPT_BINDINGS = [
    Binding("enter", "submit", "Send", id="prompt.send"),
    Binding("ctrl+j,shift+enter", "newline", "Newline", id="prompt.newline"),
    Binding("end", "end", "Line end, then newest message", show=False, id="prompt.end"),
    Binding("pageup", "scroll_messages(-1)", "Scroll up", show=False, id="prompt.page_up"),
    Binding("pagedown", "scroll_messages(1)", "Scroll down", show=False, id="prompt.page_down"),
    # TextArea takes f6 for "select line", so the app's f6 never fired from the prompt (which
    # has the focus nearly always). Same id as the app's: a keymap moves both.
    Binding("f6", "app.tools", "Tools", show=False, id="app.tools"),
    # TextArea takes f7 for "select all" likewise.
    Binding("f7", "app.compare", "Compare models", show=False, id="app.compare"),
]

# While the list of paths of an ``@`` mention shows (see PathCompletion): tab completes, up and
# down move in the list (escape, which closes it, is the chat pane's: a prompt binding of escape
# would hide the pane's in f1). The prompt's own, not the stand-in's: it has no list. up and
# down replace TextArea's cursor keys (a class's bindings of a key replace its base's), so
# their actions move the cursor when no list shows.
COMPLETION_BINDINGS = [
    Binding("tab", "complete", "Complete",
            tooltip="Complete the @ path (↑ ↓ choose, esc closes)",
            id="prompt.complete"),
    # No ids: the arrow keys (f1 names them under tab; remapping them would move the cursor keys).
    Binding("up", "up", "Previous path", show=False),
    Binding("down", "down", "Next path", show=False),
]
