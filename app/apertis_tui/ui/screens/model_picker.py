"""The model picker (ctrl+o): a filter, the list with favourites and recents first, Enter picks.
Its compare mode (f7) is ``compare_picker.ComparePicker``.

It opens at once from the cached list and refreshes it in the background (a worker owned by
the app, so a download that finishes after the picker closed still fills the cache). Model ids
come from the server: they are drawn as ``Content`` with spans, never parsed as markup (which
is also why the highlight is built here from ``FuzzySearch`` offsets: ``Matcher.highlight``
parses the candidate as markup, so an id such as ``x[/]`` would crash it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.fuzzy import FuzzySearch
from textual.widgets import Input, Static

from ..widgets.text_inputs import TextInput
from ...core.models import (
    TYPED,
    ModelList,
    ModelPrefs,
    Ranked,
    ago,
    fetch_models,
    is_offline,
    load_cache,
    rank,
    record_used,
)
from ...core.text import one_line
from ...core.types import ApiError
from ..widgets.model_rows import ModelRows
from .dialog import Dialog, dialog_styles

if TYPE_CHECKING:
    from ..app import ApertisApp


class FilterInput(TextInput):
    """The filter. Its size is fixed: the layout of the whole screen that Input asks for when
    its value changes (its scroll width follows the text) is not needed (~4 ms a keystroke)."""

    def refresh(self, *regions, repaint: bool = True, layout: bool = False, recompose: bool = False):
        return super().refresh(*regions, repaint=repaint, recompose=recompose,
                               layout=layout and self.styles.auto_dimensions)


class ModelPicker(Dialog[str | None]):
    """Dismisses with the chosen model id, or None. ``regenerate`` says what the id is for:
    False, the chat's model for its next turns; True, a new last reply from that model."""

    CSS_PATH = dialog_styles("picker")
    filter_class: type[FilterInput] = FilterInput

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down", "move(1)", "Down", show=False, id="picker.down"),
        Binding("up", "move(-1)", "Up", show=False, id="picker.up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="picker.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="picker.page_up"),
        Binding("ctrl+g", "regenerate", "Regenerate with", id="picker.regenerate"),
        Binding("ctrl+f", "toggle_favourite", "Favourite", id="picker.favourite"),
        Binding("ctrl+r", "refresh", "Refresh list", id="picker.refresh"),
        # A modal screen hides the app's keys; f1 should still say what this one offers.
        Binding("f1", "app.show_keys", "Keys", id="picker.keys"),
    ]

    def __init__(self, current: str, *, regenerate: bool = False, prefs_path: Path | None = None,
                 cache_folder: Path | None = None) -> None:
        super().__init__()
        self.current = current
        self.regenerate = regenerate
        self._cache_folder = cache_folder
        self.prefs = ModelPrefs.load(prefs_path)
        self.listing: ModelList | None = None
        self.problem: ApiError | None = None  # the last refresh failed
        self.fetching = False
        self.rows: list[Ranked] = []
        self._search = FuzzySearch()

    @property
    def tui(self) -> ApertisApp:
        return self.app  # type: ignore[return-value]

    # -- composition ---------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="picker", classes="dialog-box"):
            yield Static(self._title(), id="picker-title")
            yield self.filter_class(placeholder="Type to filter; any id can be used as typed", id="picker-filter")
            yield Static("", id="picker-status", markup=False)
            yield ModelRows(id="picker-list")
            yield Static(self._keys(), id="picker-keys")

    def _title(self) -> Text:
        title = Text("Regenerate the last reply with…" if self.regenerate else "Model for the next turn",
                     style="bold")
        title.append(f"   now: {one_line(self.current, 100)}", style="dim")
        title.no_wrap, title.overflow = True, "ellipsis"
        return title

    def _key_list(self) -> list[tuple[str, str]]:
        keys = [("enter", "regenerate with" if self.regenerate else "use")]
        if not self.regenerate:
            keys.append(("ctrl+g", "regenerate with"))
        return keys + [("ctrl+f", "favourite"), ("ctrl+r", "refresh"), ("esc", "cancel")]

    def _keys(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        for n, (key, what) in enumerate(self._key_list()):
            text.append(" · " if n else "")
            text.append(key, style="bold")
            text.append(f" {what}")
        return text

    @property
    def filter(self) -> Input:
        return self.query_one("#picker-filter", Input)

    @property
    def row_list(self) -> ModelRows:
        return self.query_one(ModelRows)

    def on_mount(self) -> None:
        self.listing = load_cache(self.tui.base_url, self._cache_folder)
        self.apply_filter("")
        # Filter as the value changes, not on Input.Changed: the message came after the frame
        # showing the typed letter, so every keystroke laid out and painted the screen twice.
        self.watch(self.filter, "value", self._filter_typed, init=False)
        self.filter.focus()
        if self.listing is None or self.listing.is_stale():
            self.action_refresh()

    # -- filtering -----------------------------------------------------------

    def _filter_typed(self, value: str) -> None:
        self.apply_filter(value)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()  # filtered already (see on_mount)

    def apply_filter(self, query: str, keep: str | None = None) -> None:
        """Rank the models for ``query`` and show them; the highlight goes to ``keep`` (an id),
        else the current model when nothing is typed, else the best match."""
        models = self.listing.models if self.listing else ()
        self.rows = rank(models, query, self._search.match, self.prefs.favourites, self.prefs.recents)
        target = keep or (self.current if not query.strip() else None)
        index = next((n for n, row in enumerate(self.rows) if row.id == target and row.group != TYPED), 0)
        self.row_list.show(self.rows, current=self.current, highlight=index)
        self._show_status()

    def _show_status(self) -> None:
        status = self.query_one("#picker-status", Static)
        listing, problem = self.listing, self.problem
        parts: list[str] = []
        if listing is not None:
            query = self.filter.value.strip()
            total = len(listing.models)
            if query:
                found = sum(1 for row in self.rows if row.group != TYPED)
                parts.append(f"{found} of {total} match")
            else:
                parts.append(f"{total} model{'' if total == 1 else 's'}")
            when = ago(listing.age())
            if problem is not None:
                parts.append(f"{'offline' if is_offline(problem) else 'not refreshed'} — list from {when}")
            else:
                parts.append(f"list from {when}")
        elif problem is not None:
            parts.append("no model list yet" + (" (offline)" if is_offline(problem) else ""))
        if self.fetching:
            parts.append("refreshing…" if listing is not None else "loading the model list…")
        parts += self._more_status()
        text = " · ".join(parts)
        if problem is not None:
            text += f". {problem.sentence}"
            if listing is None:
                text += " Type a model id to use it as typed."
        # A one-line status that stays one line needs no layout of the screen (every keystroke
        # changes the count it shows).
        one_line_before = status.size.height == 1  # 0 before the first layout
        status.update(text, layout=not (one_line_before and cell_len(text) <= status.content_size.width))
        status.set_class(problem is not None, "-problem")

    def _more_status(self) -> list[str]:
        return []

    # -- the background refresh ----------------------------------------------

    def action_refresh(self) -> None:
        self.fetching = True
        self._show_status()
        self.app.run_worker(self._fetch(), group="model-list", exclusive=True, exit_on_error=False,
                            name="model list")

    async def _fetch(self) -> None:
        # A cancelled fetch (ctrl+r again, or the app closing) leaves the screen to its successor.
        try:
            listing = await fetch_models(self.tui.client, self.tui.base_url, folder=self._cache_folder)
        except ApiError as error:
            self._fetched(None, error)
        except Exception as error:  # noqa: BLE001 - a sentence, never a stuck "refreshing…"
            self._fetched(None, ApiError("bad_response", f"The model list could not be read ({type(error).__name__}).",
                                         "Retry with ctrl+r."))
        else:
            self._fetched(listing, None)

    def _fetched(self, listing: ModelList | None, problem: ApiError | None) -> None:
        if not self.is_attached:  # the picker closed; the cache was written all the same
            return
        self.fetching = False
        self.problem = problem
        if listing is None:
            self._show_status()
            return
        self.listing = listing
        highlighted = self.highlighted_row
        self.apply_filter(self.filter.value, keep=highlighted.id if highlighted else None)

    # -- choosing ------------------------------------------------------------

    @property
    def highlighted_row(self) -> Ranked | None:
        index = self.row_list.highlighted
        return self.rows[index] if index is not None and 0 <= index < len(self.rows) else None

    def action_move(self, step: int) -> None:
        self.row_list.move(step)

    def action_page(self, pages: int) -> None:
        self.row_list.move(pages * self.row_list.page)

    def _choose(self, row: Ranked | None) -> None:
        if row is None:
            self.notify("Type a model id, or wait for the list.", severity="warning")
            return
        self.dismiss(row.id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._enter()

    def on_model_rows_clicked(self, event: ModelRows.Clicked) -> None:
        event.stop()
        self._clicked(self.rows[event.index] if event.index < len(self.rows) else None)

    def _enter(self) -> None:
        self._choose(self.highlighted_row)

    def _clicked(self, row: Ranked | None) -> None:
        self._choose(row)

    def action_regenerate(self) -> None:
        self.regenerate = True
        self._choose(self.highlighted_row)

    def action_toggle_favourite(self) -> None:
        row = self.highlighted_row
        if row is None:
            return
        starred = self.prefs.toggle_favourite(row.id)
        if not self.prefs.save():
            self.notify(f"Could not save favourites to {self.prefs.path}; they hold until you quit.",
                        severity="warning", markup=False)
        self.apply_filter(self.filter.value, keep=row.id)
        self.notify(f"{row.id} is {'now' if starred else 'no longer'} a favourite.", markup=False, timeout=2)

    def action_cancel(self) -> None:
        self.dismiss(None)


def open_model_picker(app: ApertisApp, *, regenerate: bool = False) -> None:
    """Open the picker for the focused chat and apply what is chosen: the chat's model for its
    next turns, or (``regenerate``, or ctrl+g in the picker) a new last reply from that model,
    once; the chat keeps its model. Either way the id goes to the front of the recents."""
    pane = app.active_pane
    if pane is None or isinstance(app.screen, ModelPicker):
        return
    if regenerate and pane.chat is None:
        app.notify("Nothing to regenerate yet: send a message first.")
        return
    picker = ModelPicker(pane.model, regenerate=regenerate)

    def chosen(model: str | None) -> None:
        if not model:
            return
        record_used(model, picker.prefs.path)
        if picker.regenerate:
            pane.action_regenerate(model=model)
        else:
            pane.set_model(model)

    app.push_screen(picker, chosen)
