"""The settings screen's attachment limits: an image's long side and size, the text limit.
An empty field is the default; each is checked as it is typed, by the settings' own check."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input

from ...core.attachments.limits import AttachmentLimits
from ...core.settings.validation import ATTACHMENT_RANGES, validate_attachment_limit
from .param_fields import FieldRow
from .text_inputs import TextInput

DEFAULTS = AttachmentLimits()
LABELS = {"image_max_side": "Image long side", "image_max_mb": "Image size", "text_max_kb": "Text limit"}
HINTS = {
    "image_max_side": "pixels: a larger image is scaled down before it is sent",
    "image_max_mb": "MB: a larger image is re-encoded smaller",
    "text_max_kb": "KB of text a file, or a folder in all, may send",
}


def limit_text(value: float) -> str:
    return f"{value:g}"


class AttachmentFields(Vertical):
    DEFAULT_CSS = """
    AttachmentFields { height: auto; }
    """

    def __init__(self, limits: AttachmentLimits, **kwargs) -> None:
        super().__init__(**kwargs)
        self._limits = limits

    def compose(self) -> ComposeResult:
        for name in ATTACHMENT_RANGES:
            yield FieldRow(LABELS[name],
                           TextInput(limit_text(getattr(self._limits, name)), placeholder=limit_text(getattr(DEFAULTS, name)),
                                     id=f"attach-{name}", compact=True, classes="field-input -number"),
                           name=name, hint=HINTS[name])

    def snapshot(self) -> tuple[str, ...]:
        return tuple(self.query_one(f"#attach-{name}", Input).value for name in ATTACHMENT_RANGES)

    def read(self) -> tuple[AttachmentLimits, dict[str, str]]:
        """(limits, problems by field name); an invalid field keeps its default in the result."""
        values: dict[str, float] = {}
        problems: dict[str, str] = {}
        for name in ATTACHMENT_RANGES:
            text = self.query_one(f"#attach-{name}", Input).value.strip()
            if not text:
                continue
            try:
                value = float(text)
            except ValueError:
                value = None
            problem = validate_attachment_limit(name, value, f"The {LABELS[name].lower()}")
            if problem:
                problems[name] = problem
            else:
                values[name] = value if name == "image_max_mb" else int(value)  # type: ignore[arg-type]
        return AttachmentLimits(**values), problems  # type: ignore[arg-type]

    def on_input_changed(self, event: Input.Changed) -> None:
        field_id = event.input.id or ""
        if field_id.startswith("attach-"):
            name = field_id.removeprefix("attach-")
            _, problems = self.read()
            for row in self.query(FieldRow):
                if row.field_name == name:
                    row.show(problems.get(name))
