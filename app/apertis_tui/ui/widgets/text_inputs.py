"""Input and TextArea that apply a fast burst of keys in the order it was typed.

Textual handles a printable key in the focused widget at once, but sends a bound key
(backspace, ctrl+u, arrows) up to the app before its action runs; keys that arrive together -
a macro, a busy machine, scripted input - could then apply out of order ("ab<backspace>c"
giving "ab"). Textual issue #6605. Here the widget runs its own editing bindings inline.
Priority bindings were already run by the app, in order, and are left alone.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input, TextArea


class OrderedKeys:
    async def _on_key(self, event: events.Key) -> None:
        for binding in self._bindings.key_to_bindings.get(event.key, []):  # type: ignore[attr-defined]
            # A disabled or skipped action (SkipAction) falls through, as Textual would let it.
            if not binding.priority and await self.app.run_action(binding.action, self):  # type: ignore[attr-defined]
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)  # type: ignore[misc]


class TextInput(OrderedKeys, Input):
    """A one-line input."""


class TextEditor(OrderedKeys, TextArea):
    """A multi-line editor."""
