"""The keys of the screen on one line at the bottom: `` key Description`` pairs, clickable.

One widget drawing one line (Textual's Footer mounts a widget per key and rebuilds them all
whenever the bindings change). It shows what Footer shows: the screen's active bindings with
``show=True`` (one per action, disabled ones dimmed), and the command palette's key at the
right. When the line is too narrow, keys are dropped from the right end rather than cut in
half; the palette's key goes after them, and the keys in ``KEEP`` (f1, which lists every key)
stay to the last.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.style import Style
from textual.widget import Widget

DIM = Style(dim=True)


class _Key:
    """One key as drawn. (A plain class: a dataclass costs the start-up ~0.3 ms to create.)"""

    __slots__ = ("key", "display", "description", "enabled", "tooltip", "kept", "width")

    def __init__(self, key: str, display: str, description: str, enabled: bool, tooltip: str,
                 kept: bool = False) -> None:
        self.key, self.display, self.description = key, display, description
        self.enabled, self.tooltip = enabled, tooltip
        self.kept = kept  # shown while anything is
        self.width = cell_len(f" {display} {description}".rstrip())


class KeyBar(Widget, can_focus=False):
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--hover"}
    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; }
    """
    ALLOW_SELECT = False
    KEEP = frozenset({"show_keys"})  # actions whose key is shown while anything is

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._keys: tuple[list[_Key], _Key | None] | None = None  # None: to be gathered again
        self._spans: list[tuple[int, int, _Key]] = []  # where each shown key was drawn
        self._hover: _Key | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: object) -> None:
        self._keys = None
        self.refresh()

    def _gather(self) -> tuple[list[_Key], _Key | None]:
        """The keys to show, one per action, in the order of the bindings; the palette's key."""
        app = self.app
        active = self.screen.active_bindings
        keys: list[_Key] = []
        seen: set[str] = set()
        for key, (_node, binding, enabled, tooltip) in active.items():
            if binding.show and binding.action not in seen and key != app.COMMAND_PALETTE_BINDING:
                seen.add(binding.action)
                keys.append(self._key(binding, enabled, tooltip, kept=binding.action in self.KEEP))
        palette = None
        if app.ENABLE_COMMAND_PALETTE and (found := active.get(app.COMMAND_PALETTE_BINDING)) is not None:
            _node, binding, enabled, tooltip = found
            palette = self._key(binding, enabled, binding.tooltip or binding.description)
        return keys, palette

    def _key(self, binding: Binding, enabled: bool, tooltip: str, kept: bool = False) -> _Key:
        return _Key(binding.key, self.app.get_key_display(binding), binding.description, enabled, tooltip, kept)

    def render(self) -> Content:
        if self._keys is None:
            self._keys = self._gather()
        keys, palette = self._keys
        space = self.content_size.width - 1  # a blank cell at the right end
        shown = list(keys)

        def width() -> int:
            return sum(k.width for k in shown) + (palette.width if palette else 0)

        while shown and width() > space:
            droppable = [k for k in shown if not k.kept]
            if droppable:
                shown.remove(droppable[-1])
            elif palette is not None:
                palette = None
            else:
                shown.pop()
        key_style = self.get_visual_style("key-bar--key")
        description_style = self.get_visual_style("key-bar--description")
        hover_style = Style(background=self.get_visual_style("key-bar--hover").background)
        self._spans = []
        parts: list[Content] = []
        x = 0

        def draw(key: _Key) -> None:
            nonlocal x
            item = Content.assemble(" ", (key.display, key_style))
            if key.description:
                item += Content.assemble(" ", (key.description, description_style))
            if not key.enabled:
                item = item.stylize(DIM)
            if self._hover is not None and key.key == self._hover.key:
                item = item.stylize(hover_style)
            parts.append(item)
            self._spans.append((x, x + item.cell_length, key))
            x += item.cell_length

        for key in shown:
            draw(key)
        if palette is not None:
            gap = self.content_size.width - 1 - x - palette.width
            parts.append(Content(" " * gap))
            x += gap
            draw(palette)
        return Content.assemble(*parts)

    def _key_at(self, event: events.MouseEvent) -> _Key | None:
        offset = event.get_content_offset(self)
        if offset is not None:
            for start, end, key in self._spans:
                if start <= offset.x < end:
                    return key
        return None

    def on_click(self, event: events.Click) -> None:
        key = self._key_at(event)
        if key is not None:
            event.stop()
            if key.enabled:
                self.app.simulate_key(key.key)
            else:
                self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self._key_at(event)
        if (key and key.key) != (self._hover and self._hover.key):
            self._hover = key
            self.tooltip = (key.tooltip or None) if key is not None else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()
