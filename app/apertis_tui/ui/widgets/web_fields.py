"""The settings screen's web search fields (Apertis): how many results a search reads and how
much of each. Checked as they are typed, by the settings' own checks."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Input

from ...core.settings.validation import (
    DEFAULT_WEB_CONTENT_LENGTH,
    DEFAULT_WEB_RESULTS,
    WEB_CONTENT_LENGTHS,
    validate_web_content_length,
    validate_web_results_count,
)
from .param_fields import FieldRow
from .text_inputs import TextInput

#: The fields' ids, which are also the settings' names.
WEB_FIELDS = ("web_results_count", "web_content_length")
LABELS = {"web_results_count": "Web results", "web_content_length": "Web content length"}
HINTS = {"web_results_count": "1 to 10: what a web search reads (f5 turns it on in a chat)",
         "web_content_length": "short, medium or full: how much of each result"}


class WebSearchFields(Vertical):
    DEFAULT_CSS = """
    WebSearchFields { height: auto; }
    """

    def __init__(self, results: int, content_length: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self._values = {"web_results_count": str(results), "web_content_length": content_length}

    def compose(self) -> ComposeResult:
        yield FieldRow(LABELS["web_results_count"],
                       TextInput(self._values["web_results_count"], placeholder=str(DEFAULT_WEB_RESULTS),
                                 id="web_results_count", compact=True, classes="field-input -number"),
                       name="web_results_count", hint=HINTS["web_results_count"])
        yield FieldRow(LABELS["web_content_length"],
                       TextInput(self._values["web_content_length"], placeholder=DEFAULT_WEB_CONTENT_LENGTH,
                                 id="web_content_length", compact=True, classes="field-input -number",
                                 suggester=SuggestFromList(WEB_CONTENT_LENGTHS)),
                       name="web_content_length", hint=HINTS["web_content_length"])

    def snapshot(self) -> tuple[str, ...]:
        return tuple(self.query_one(f"#{name}", Input).value for name in WEB_FIELDS)

    def read(self) -> tuple[int, str, dict[str, str]]:
        """(results, content length, problems by field name); an empty field is the default, an
        invalid one the default too (its problem says so)."""
        problems: dict[str, str] = {}
        count_text = self.query_one("#web_results_count", Input).value.strip()
        count: object = int(count_text) if count_text.isdigit() else count_text
        if count_text and (problem := validate_web_results_count(count, "Web results")):
            problems["web_results_count"] = problem
        length = self.query_one("#web_content_length", Input).value.strip().lower()
        if length and (problem := validate_web_content_length(length, "Web content length")):
            problems["web_content_length"] = problem
        return (count if isinstance(count, int) and "web_results_count" not in problems else DEFAULT_WEB_RESULTS,
                length if length and "web_content_length" not in problems else DEFAULT_WEB_CONTENT_LENGTH, problems)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id in WEB_FIELDS:
            *_, problems = self.read()
            for row in self.query(FieldRow):
                row.show(problems.get(row.field_name))
