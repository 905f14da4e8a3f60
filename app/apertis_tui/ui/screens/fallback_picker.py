"""The model picker ticking fallback models: space ticks up to five, in the order the service
is to try them; Enter confirms (none ticked: no fallback models)."""

from __future__ import annotations

from rich.text import Text

from ...core.types import MAX_FALLBACK_MODELS
from .compare_picker import ComparePicker


class FallbackPicker(ComparePicker):
    """Dismisses with the ticked ids in tick order (maybe none), or None (escape)."""

    limit = MAX_FALLBACK_MODELS

    def _title(self) -> Text:
        title = Text(f"Fallback models: tick up to {self.limit}, tried in that order — space ticks, "
                     "enter confirms", style="bold")
        title.append(f"   {len(self.ticked)} ticked", style="dim")
        title.no_wrap, title.overflow = True, "ellipsis"
        return title

    def _key_list(self) -> list[tuple[str, str]]:
        return [("space", "tick"), ("enter", "use the ticked"), ("ctrl+f", "favourite"),
                ("ctrl+r", "refresh"), ("esc", "cancel")]

    def _full(self) -> str:
        return f"{self.limit} fallback models are ticked, the most the service takes: untick one first."

    def _enter(self) -> None:
        self.dismiss(list(self.ticked))  # type: ignore[arg-type]
