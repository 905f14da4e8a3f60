"""Form rows shared by the settings screen and the per-chat settings dialog.

A row is a label, a control and a note beside it; the note shows the field's hint, or its
problem (class ``-error``) as soon as the typed text is not valid. ``ParamFields`` holds the
sampling parameters; an empty field is "unset" (not sent, the server's default applies, or in a
chat, the default settings' value).
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from .text_inputs import TextInput
from ..form_text import param_text, parse_param_text, parse_stop_texts, stop_text
from ...core.settings.validation import MAX_STOP_SEQUENCES
from ...core.types import PARAM_NAMES, ChatParams

NUMBER_PARAMS = tuple(name for name in PARAM_NAMES if name != "stop")

LABELS = {
    "temperature": "Temperature",
    "top_p": "Top p",
    "max_tokens": "Max tokens",
    "frequency_penalty": "Frequency penalty",
    "presence_penalty": "Presence penalty",
    "stop": "Stop sequences",
}

RANGES = {
    "temperature": "0 to 2",
    "top_p": "0 to 1",
    "max_tokens": "a whole number above 0",
    "frequency_penalty": "-2 to 2",
    "presence_penalty": "-2 to 2",
    "stop": f"up to {MAX_STOP_SEQUENCES}; \\n is a newline",
}


class FieldRow(Horizontal):
    """Label | control(s) | note."""

    def __init__(self, label: str, *controls: Widget, name: str, hint: str = "") -> None:
        super().__init__(classes="field", id=f"row-{name}")
        self._label = label
        self._controls = controls
        self._hint = hint
        self.field_name = name

    def compose(self) -> ComposeResult:
        yield Label(self._label, classes="field-label", markup=False)
        yield from self._controls
        yield Static(Text(self._hint), id=f"note-{self.field_name}", classes="field-note")

    def show(self, problem: str | None) -> None:
        """The problem beside the field, or its hint again when there is none."""
        note = self.query_one(".field-note", Static)
        note.update(Text(problem or self._hint))
        note.set_class(bool(problem), "-error")
        self.set_class(bool(problem), "-invalid")

    def say(self, text: str, kind: str = "") -> None:
        """A message in the note (``kind``: "-ok", "-error", "-busy" or "" for plain)."""
        note = self.query_one(".field-note", Static)
        note.update(Text(text))
        for name in ("-ok", "-error", "-busy"):
            note.set_class(name == kind, name)

    def set_hint(self, hint: str) -> None:
        self._hint = hint
        if not self.has_class("-invalid"):
            self.show(None)


class ParamFields(Vertical):
    """The sampling parameters as fields. ``defaults`` (optional) names what "unset" means
    for each one, e.g. "0.7" in a chat whose settings have temperature 0.7."""

    DEFAULT_CSS = """
    ParamFields { height: auto; }
    """

    def __init__(self, params: ChatParams, *, defaults: Mapping[str, str] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._params = params
        self._defaults = dict(defaults or {})

    def compose(self) -> ComposeResult:
        for name in NUMBER_PARAMS:
            yield FieldRow(
                LABELS[name],
                TextInput(param_text(name, getattr(self._params, name)), placeholder=self._placeholder(name),
                      id=f"param-{name}", compact=True, classes="field-input -number"),
                name=name,
                hint=RANGES[name],
            )
        stops = [stop_text(s) for s in (self._params.stop or [])][:MAX_STOP_SEQUENCES]
        stops += [""] * (MAX_STOP_SEQUENCES - len(stops))
        inputs = [
            TextInput(value, placeholder=self._placeholder("stop") if i == 0 else "", id=f"param-stop-{i}",
                  compact=True, classes="field-input -stop")
            for i, value in enumerate(stops)
        ]
        yield FieldRow(LABELS["stop"], *inputs, name="stop", hint=RANGES["stop"])

    def _placeholder(self, name: str) -> str:
        default = self._defaults.get(name)
        if default:
            return f"default: {default}"
        return "none" if name == "stop" else "server default"  # the server has no stop sequence of its own

    # -- reading -------------------------------------------------------------

    def stop_texts(self) -> list[str]:
        return [self.query_one(f"#param-stop-{i}", Input).value for i in range(MAX_STOP_SEQUENCES)]

    def snapshot(self) -> tuple[str, ...]:
        """The raw text of every field, to tell whether anything changed."""
        numbers = tuple(self.query_one(f"#param-{name}", Input).value for name in NUMBER_PARAMS)
        return numbers + tuple(self.stop_texts())

    def read(self) -> tuple[ChatParams, dict[str, str]]:
        """(parameters, problems by field name); an invalid field is left unset in the result."""
        values: dict[str, object] = {}
        problems: dict[str, str] = {}
        for name in NUMBER_PARAMS:
            value, problem = parse_param_text(name, self.query_one(f"#param-{name}", Input).value, LABELS[name])
            values[name] = value
            if problem:
                problems[name] = problem
        stop, problem = parse_stop_texts(self.stop_texts(), LABELS["stop"])
        values["stop"] = stop
        if problem:
            problems["stop"] = problem
        return ChatParams.from_dict(values), problems

    def check(self, name: str | None = None) -> dict[str, str]:
        """Show each field's problem beside it (only ``name``'s if given); returns all problems."""
        _, problems = self.read()
        for row in self.query(FieldRow):
            if name is None or row.field_name == name:
                row.show(problems.get(row.field_name))
        return problems

    def clear(self) -> None:
        for field in self.query(Input):
            field.value = ""

    def on_input_changed(self, event: Input.Changed) -> None:
        field_id = event.input.id or ""
        if field_id.startswith("param-"):
            self.check("stop" if field_id.startswith("param-stop-") else field_id.removeprefix("param-"))
