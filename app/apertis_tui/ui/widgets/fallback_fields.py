"""Form rows for fallback models, shared by the settings screen (the ``[fallback]`` default) and
a chat's own settings (f9): on/off, the models (ticked in the model picker, up to five, in the
order the service tries them) and the timeout in seconds.

The rows handle their own switch, button and field, and stop those messages: the screens
around them act on every Switch.Changed or Button.Pressed they see.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Input, Static, Switch

from ...core.settings.fallback import validate_fallback_timeout
from ...core.text import one_line
from ...core.types import FALLBACK_TIMEOUT_RANGE, MAX_FALLBACK_MODELS, FallbackSettings
from ..form_text import timeout_text
from .param_fields import FieldRow
from .text_inputs import TextInput

TIMEOUT_HINT = "seconds ({}–{}) before the next is tried".format(*FALLBACK_TIMEOUT_RANGE)


def models_text(models: tuple[str, ...]) -> Text:
    """The ticked models as the row shows them, in the order they are tried."""
    if not models:
        return Text("none", style="dim")
    text = Text()
    for number, model in enumerate(models):
        if number:
            text.append(" → ", style="dim")
        text.append(one_line(model, 60))
    return text


class FallbackFields(Vertical):
    """The fallback rows, filled from ``fallback``; ``model`` is the one marked "current" in
    the picker. ``read()`` gives what they say."""

    DEFAULT_CSS = """
    FallbackFields { height: auto; }
    """

    def __init__(self, fallback: FallbackSettings, *, model: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.models = fallback.models
        self._fallback = fallback
        self._model = model

    def compose(self) -> ComposeResult:
        fallback = self._fallback
        yield FieldRow("Fallback models",
                       Switch(fallback.enabled, id="fallback-enabled"),
                       Static(models_text(self.models), id="fallback-models", classes="field-input"),
                       Button("Choose…", id="choose-fallback", compact=True),
                       name="fallback_models", hint=self._hint(fallback.enabled))
        yield FieldRow("Fallback timeout",
                       TextInput(timeout_text(fallback.timeout), placeholder=timeout_text(FallbackSettings().timeout),
                                 id="fallback-timeout", compact=True, classes="field-input -number"),
                       name="fallback_timeout", hint=TIMEOUT_HINT)

    def _hint(self, on: bool) -> str:
        if not on:
            return "off: not sent"
        if not self.models:
            return f"none yet: Choose… ticks up to {MAX_FALLBACK_MODELS}"
        return "tried in turn on a failure"

    # -- reading -------------------------------------------------------------

    def snapshot(self) -> tuple:
        return (self.query_one("#fallback-enabled", Switch).value, self.models,
                self.query_one("#fallback-timeout", Input).value)

    def read(self) -> tuple[FallbackSettings, dict[str, str]]:
        """(what the rows say, problems by row name); a bad timeout reads as the default."""
        text = self.query_one("#fallback-timeout", Input).value.strip()
        default = FallbackSettings().timeout
        problems = {}
        try:
            value: object = float(text) if text else default
        except ValueError:
            value = text
        if problem := validate_fallback_timeout(value, "The fallback timeout"):
            problems["fallback_timeout"] = problem
            value = default
        enabled = self.query_one("#fallback-enabled", Switch).value
        return FallbackSettings(enabled, self.models, float(value)), problems  # type: ignore[arg-type]

    def check(self) -> dict[str, str]:
        """Show the timeout's problem beside it; returns the problems."""
        _, problems = self.read()
        self.query_one("#row-fallback_timeout", FieldRow).show(problems.get("fallback_timeout"))
        return problems

    def fill(self, fallback: FallbackSettings) -> None:
        """Show ``fallback`` (e.g. "Use defaults")."""
        self.models = fallback.models
        self.query_one("#fallback-models", Static).update(models_text(self.models))
        self.query_one("#fallback-enabled", Switch).value = fallback.enabled
        self.query_one("#fallback-timeout", Input).value = timeout_text(fallback.timeout)
        self._show_hint()

    def _show_hint(self) -> None:
        self.query_one("#row-fallback_models", FieldRow).set_hint(
            self._hint(self.query_one("#fallback-enabled", Switch).value))

    # -- events --------------------------------------------------------------

    def on_switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        self._show_hint()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "fallback-timeout":
            event.stop()
            self.check()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "choose-fallback":
            event.stop()
            self.choose()

    def choose(self) -> None:
        """Tick the models in the picker; escape there changes nothing."""
        from ..screens.fallback_picker import FallbackPicker

        def chosen(models: list[str] | None) -> None:
            if models is not None:
                self.models = tuple(models)
                self.query_one("#fallback-models", Static).update(models_text(self.models))
                self._show_hint()
            self.query_one("#choose-fallback", Button).focus()

        self.app.push_screen(FallbackPicker(self._model, self.models), chosen)
