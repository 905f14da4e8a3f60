"""The model picker in its compare mode (f7): space ticks up to six models, Enter confirms them
in tick order; ``open_compare_picker`` gives them to the chat in front."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from ...core.models import ModelPrefs, Ranked
from ...core.text import one_line
from .model_picker import FilterInput, ModelPicker

if TYPE_CHECKING:
    from ..app import ApertisApp


class TickingFilter(FilterInput):
    """The compare picker's filter: space ticks the highlighted model instead of typing (model
    ids have no spaces). Bindings of the field itself run in the order keys are typed
    (OrderedKeys), so the moves are here too, with the picker's ids: a key the field does not
    bind goes up to the screen and runs later, and "down space" sent at once (tmux does) ticked
    the row above."""

    BINDINGS = [
        Binding("space", "screen.toggle_tick", "Tick or untick a model", id="picker.tick"),
        Binding("down", "screen.move(1)", "Down", show=False, id="picker.down"),
        Binding("up", "screen.move(-1)", "Up", show=False, id="picker.up"),
        Binding("pagedown", "screen.page(1)", "Page down", show=False, id="picker.page_down"),
        Binding("pageup", "screen.page(-1)", "Page up", show=False, id="picker.page_up"),
    ]


MAX_COMPARED = 6  # as ChatPane.set_comparing


class ComparePicker(ModelPicker, inherit_bindings=False):
    """The picker in its multi-select mode: space ticks or unticks the highlighted model (up to
    six), Enter confirms. Dismisses with the ticked ids in tick order (none: stop comparing),
    or None (escape: nothing changes). Ticks outlive the filter: a ticked model filtered out of
    view stays ticked, counted in the title and named in the status line."""

    filter_class = TickingFilter
    limit = MAX_COMPARED  # the most that can be ticked (the fallback picker ticks fewer)
    # The picker's keys but ctrl+g (regenerate with one model); Screen's own (tab, copy) are
    # listed again because inherit_bindings=False drops every inherited binding.
    BINDINGS = [*Screen.BINDINGS,
                *(binding for binding in ModelPicker.BINDINGS if binding.id != "picker.regenerate")]

    def __init__(self, current: str, ticked: Iterable[str] = (), *, prefs_path: Path | None = None,
                 cache_folder: Path | None = None) -> None:
        self.ticked: list[str] = list(dict.fromkeys(ticked))[: self.limit]
        super().__init__(current, prefs_path=prefs_path, cache_folder=cache_folder)

    def _title(self) -> Text:
        title = Text(f"Compare: tick up to {MAX_COMPARED} models — space ticks, enter confirms", style="bold")
        title.append(f"   {len(self.ticked)} ticked", style="dim")
        title.no_wrap, title.overflow = True, "ellipsis"
        return title

    def _more_status(self) -> list[str]:
        # Which ones, also those filtered out of view (the title has room for the count only).
        return [f"ticked: {', '.join(one_line(model, 100) for model in self.ticked)}"] if self.ticked else []

    def _key_list(self) -> list[tuple[str, str]]:
        return [("space", "tick"), ("enter", "compare the ticked"), ("ctrl+f", "favourite"),
                ("ctrl+r", "refresh"), ("esc", "cancel")]

    def apply_filter(self, query: str, keep: str | None = None) -> None:
        if self.row_list.ticks is None:
            self.row_list.set_ticks(self.ticked)
        if keep is None and not query.strip() and self.ticked:
            keep = self.ticked[0]  # not the chat's model: the ticked ones, near the top (recents)
        super().apply_filter(query, keep)

    def action_toggle_tick(self) -> None:
        self._toggle(self.highlighted_row)

    def _clicked(self, row: Ranked | None) -> None:
        self._toggle(row)

    def _toggle(self, row: Ranked | None) -> None:
        if row is None:
            self.notify("Type a model id, or wait for the list.", severity="warning")
            return
        if row.id in self.ticked:
            self.ticked.remove(row.id)
        elif len(self.ticked) >= self.limit:
            self.notify(self._full(), severity="warning")
            return
        else:
            self.ticked.append(row.id)
        self.row_list.set_ticks(self.ticked)
        self.query_one("#picker-title", Static).update(self._title())
        self._show_status()

    def _full(self) -> str:
        return f"{MAX_COMPARED} models are ticked, the most a prompt can go to: untick one first."

    def _enter(self) -> None:
        if len(self.ticked) == 1:
            self.notify("Comparing needs at least two models: tick another with space "
                        "(or untick this one and press enter to stop comparing).", severity="warning")
            return
        self.dismiss(list(self.ticked))  # type: ignore[arg-type]


def open_compare_picker(app: ApertisApp) -> None:
    """Open the picker in its compare mode for the focused chat, its compared models ticked, and
    give the chat what is confirmed: two to six models its next prompts go to, or none (stop
    comparing). The ticked models go to the front of the recents, the first ticked first."""
    pane = app.active_pane
    if pane is None or isinstance(app.screen, ModelPicker):
        return
    picker = ComparePicker(pane.model, pane.comparing)
    was_comparing = bool(pane.comparing)

    def chosen(models: list[str] | None) -> None:
        if models is None:
            return
        pane.set_comparing(models)
        if pane.comparing != (tuple(models) if len(models) >= 2 else ()):
            return  # the chat kept its set (answers arriving, say) and has said why
        if models:
            prefs = ModelPrefs.load(picker.prefs.path)
            for model in reversed(models):
                prefs.used(model)
            prefs.save()
        if pane.comparing:
            app.notify(f"Comparing {len(pane.comparing)} models: your next prompt goes to each of them.")
        elif was_comparing:
            app.notify(f"Comparing is off: {pane.model} answers again.")
        else:
            app.notify(f"Not comparing: {pane.model} answers. Tick two to {MAX_COMPARED} models with space "
                       "to compare.")

    app.push_screen(picker, chosen)
