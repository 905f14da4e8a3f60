"""The settings screen (f2): key, endpoint, timeouts, defaults for new chats, theme.

Every field is checked as it is typed, the problem shown beside it; ctrl+s saves (refused while
a field is invalid), escape leaves (asking first if something changed). Saving writes the file
through ``core.settings.file.save_settings`` and then the app uses the new values at once.

The key and the base URL may come from elsewhere than the file (environment, ``--base-url``).
Such a value is shown with where it comes from (the app's ``connection`` keeps the source of
each), and goes into the file only if the user edits the field: a key from APERTIS_API_KEY is
never copied to disk just because settings were saved.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input, OptionList, Static, Switch, TextArea
from textual.widgets.option_list import Option

from ..paths import stylesheets
from ..widgets.key_bar import KeyBar
from ..widgets.text_inputs import TextInput, TextEditor
from ...core.settings.file import ConfigError, Settings, load_settings, save_settings
from ...core.settings.resolve import Connection, resolve_api_key
from ...core.settings.validation import (
    APERTIS_BASE_URLS,
    ATTACHMENT_RANGES,
    DEFAULT_BASE_URL,
    DEFAULT_MODEL,
    normalize_base_url,
    validate_api_key,
    validate_base_url,
)
from ..form_text import parse_timeout_text, parse_usd_text, timeout_text, usd_text
from ...core.text import clean, one_line
from ..widgets.fallback_fields import FallbackFields
from ..widgets.param_fields import FieldRow, ParamFields
from ..widgets.web_fields import WEB_FIELDS, WebSearchFields
from ..widgets.attachment_fields import AttachmentFields
from .confirm import ConfirmDialog
from .connection_test import ConnectionTest

try:  # the model picker is optional: without it the default model is a plain field
    from .model_picker import ModelPicker
except ImportError:  # pragma: no cover - depends on which screens are installed
    ModelPicker = None  # type: ignore[assignment, misc]

if TYPE_CHECKING:
    from ..app import ApertisApp

SOURCES = {
    "APERTIS_API_KEY": "from APERTIS_API_KEY",
    "STIMA_API_KEY": "from STIMA_API_KEY",
    "config": "from the settings file",
    "none": "not set",
}
BASE_URL_SOURCES = {"flag": "--base-url", "APERTIS_BASE_URL": "APERTIS_BASE_URL"}
DEFAULTS = Settings()
TIMEOUT_LABELS = {"connect_timeout": "Connect timeout", "read_timeout": "Read timeout"}
WARN_HINT = "US dollars: under this balance the status line warns; empty: never"


@dataclass
class Edited:
    """What the form says, ready to save and to use."""

    settings: Settings
    connection: Connection  # the key and base URL to use now, with their sources
    key_typed: bool  # the user changed the key field


def file_problem(path: Path) -> ConfigError | None:
    """Why the settings file at ``path`` does not load (None if it does, or is missing)."""
    if not path.exists():
        return None
    try:
        load_settings(path)
    except ConfigError as error:
        return error
    return None


class SettingsScreen(ConnectionTest, Screen[bool]):
    """Dismisses with True when the settings were saved, False when left without saving."""

    CSS_PATH = stylesheets("settings")

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="settings.save"),
        Binding("escape", "leave", "Back", id="settings.leave"),
        Binding("ctrl+r", "reveal_key", "Show key", id="settings.reveal_key"),
        Binding("ctrl+t", "test_connection", "Test connection", id="settings.test"),
        Binding("ctrl+o", "choose_model", "Choose the default model", show=False, id="settings.choose_model"),
        # The app's chat keys mean nothing here: keep them from acting on the chat underneath.
        Binding("f2,f9", "ignore", show=False, id="settings.ignore"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._initial: tuple | None = None
        self._initial_theme = ""
        self._key_text = ""
        self._base_url_text = ""

    @property
    def tui(self) -> "ApertisApp":
        return self.app  # type: ignore[return-value]

    # -- composition ---------------------------------------------------------

    def compose(self) -> ComposeResult:
        app = self.tui
        settings = app.settings
        self._key_text = app.api_key or ""
        self._base_url_text = settings.base_url or ""
        self._initial_theme = app.theme

        title = Text("Settings", style="bold")
        title.append(f"  ·  {app.startup.config_path}", style="dim")
        yield Static(title, id="settings-title")
        if app.startup.config_error is not None:
            warning = Text("The settings file did not load at startup, so these are the defaults. "
                           "Saving asks before replacing it, and keeps the old one as a .bak copy.")
            yield Static(warning, id="settings-warning")

        with VerticalScroll(id="settings-form"):
            yield Static("Connection", classes="settings-section")
            yield FieldRow("API key", TextInput(self._key_text, password=True, placeholder="not set", id="api_key",
                                            compact=True, classes="field-input"),
                           name="api_key", hint=self._key_hint())
            base_url_field = Vertical(
                TextInput(self._base_url_text, placeholder=DEFAULT_BASE_URL, id="base_url", compact=True),
                # Both addresses of the service, under the field (the note beside it has other work).
                Static(Text(f"default: {APERTIS_BASE_URLS[0]}\nor, the same: {APERTIS_BASE_URLS[1]}"),
                       id="base-url-help", classes="field-help"),
                classes="field-input field-stack")
            yield FieldRow("Base URL", base_url_field, name="base_url", hint=self._base_url_hint())
            for name, value, default in (("connect_timeout", settings.connect_timeout, DEFAULTS.connect_timeout),
                                         ("read_timeout", settings.read_timeout, DEFAULTS.read_timeout)):
                yield FieldRow(TIMEOUT_LABELS[name],
                               TextInput(timeout_text(value), placeholder=timeout_text(default), id=name,
                                     compact=True, classes="field-input -number"),
                               name=name, hint="seconds")
            yield FieldRow("", Button("Test connection", id="test-connection", compact=True),
                           name="test", hint="ctrl+t: lists the models with the key and base URL above")

            yield Static("Defaults for new chats", classes="settings-section")
            model_controls: list[Widget] = [
                TextInput(settings.default_model, placeholder=DEFAULT_MODEL, id="default_model", compact=True,
                      classes="field-input")
            ]
            if ModelPicker is not None:
                model_controls.append(Button("Choose…", id="choose-model", compact=True))
            yield FieldRow("Default model", *model_controls, name="default_model",
                           hint="for new chats" + (" · ctrl+o lists them" if ModelPicker is not None else ""))
            yield FieldRow("System prompt",
                           TextEditor(settings.system_prompt or "", id="system_prompt", soft_wrap=True,
                                    tab_behavior="focus", compact=True, classes="field-input"),
                           name="system_prompt", hint="sent first in each new chat; empty: none")
            yield ParamFields(settings.params, id="params")
            yield FieldRow("Stream replies", Switch(settings.stream, id="stream"), name="stream",
                           hint=self._stream_hint(settings.stream))

            yield Static("Web search (Apertis)", classes="settings-section")
            yield WebSearchFields(settings.web_results_count, settings.web_content_length, id="web-search")
            yield Static("Fallback models (Apertis): for every chat without its own (f9)", classes="settings-section")
            yield FallbackFields(settings.fallback, model=settings.default_model, id="fallback")
            yield Static("Attachments", classes="settings-section")
            yield AttachmentFields(settings.attachments, id="attachment-limits")

            yield Static("Look", classes="settings-section")
            themes = list(app.available_themes)
            yield FieldRow("Theme", OptionList(*(Option(Text(name), id=name) for name in themes), id="theme",
                                               classes="field-input"),
                           name="theme", hint="shown as you move; saved with ctrl+s")

            yield Static("Spend", classes="settings-section")
            yield FieldRow("Warn below", TextInput(usd_text(settings.warn_below_usd), placeholder="off",
                                                   id="warn_below_usd", compact=True, classes="field-input -number"),
                           name="warn_below_usd", hint=WARN_HINT)

        with Horizontal(id="settings-buttons"):
            yield Button("Save", variant="primary", id="settings-save")
            yield Button("Cancel", id="settings-cancel")
        yield KeyBar()

    def on_mount(self) -> None:
        themes = self.query_one("#theme", OptionList)
        names = list(self.tui.available_themes)
        if self._initial_theme in names:
            themes.highlighted = names.index(self._initial_theme)
        self._initial = self.snapshot()
        self.query_one("#api_key", Input).focus()

    # -- hints ---------------------------------------------------------------

    def _key_hint(self) -> str:
        hint = SOURCES.get(self.tui.api_key_source, "")
        return f"{hint} · ctrl+r shows it" if self.tui.api_key else hint

    def _base_url_hint(self) -> str:
        app = self.tui
        source = BASE_URL_SOURCES.get(app.connection.base_url.source)
        if source and app.base_url != normalize_base_url(app.settings.base_url or DEFAULT_BASE_URL):
            return f"now {app.base_url} (from {source})"
        return "empty: " + DEFAULT_BASE_URL if not app.settings.base_url else "an OpenAI-compatible /v1 address"

    @staticmethod
    def _stream_hint(on: bool) -> str:
        return "on: words appear as they arrive" if on else "off: each answer appears whole"

    # -- reading the form ----------------------------------------------------

    def _value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value

    def _theme(self) -> str:
        themes = self.query_one("#theme", OptionList)
        if themes.highlighted is None:
            return self._initial_theme
        return themes.get_option_at_index(themes.highlighted).id or self._initial_theme

    def snapshot(self) -> tuple:
        """The raw state of every field, to tell whether anything changed."""
        return (
            self._value("api_key"),
            self._value("base_url"),
            self._value("connect_timeout"),
            self._value("read_timeout"),
            self._value("default_model"),
            self.query_one("#system_prompt", TextArea).text,
            self.query_one(ParamFields).snapshot(),
            self.query_one("#stream", Switch).value,
            self._theme(),
            self._value("warn_below_usd"),
            self.query_one(WebSearchFields).snapshot(),
            self.query_one(FallbackFields).snapshot(),
            self.query_one(AttachmentFields).snapshot(),
        )

    @property
    def changed(self) -> bool:
        return self._initial is not None and self.snapshot() != self._initial

    def _connection(self) -> tuple[str | None, bool, str, float, float, dict[str, str]]:
        """(key, key typed, base URL to use, connect, read, problems) for the connection fields."""
        app = self.tui
        problems: dict[str, str] = {}
        key_text = self._value("api_key").strip()
        key_typed = key_text != self._key_text.strip()
        if problem := validate_api_key(key_text, "The API key"):
            problems["api_key"] = problem
        base_text = self._value("base_url").strip()
        if base_text and (problem := validate_base_url(base_text, "The base URL")):
            problems["base_url"] = problem
        if base_text == self._base_url_text.strip():
            base_url = app.base_url  # untouched: keep what this session uses (it may be a flag's)
        else:
            base_url = normalize_base_url(base_text) if base_text else DEFAULT_BASE_URL
        timeouts = []
        for name, default in (("connect_timeout", DEFAULTS.connect_timeout), ("read_timeout", DEFAULTS.read_timeout)):
            value, problem = parse_timeout_text(self._value(name), default, f"The {TIMEOUT_LABELS[name].lower()}")
            timeouts.append(value or default)
            if problem:
                problems[name] = problem
        key = (key_text or None) if key_typed else app.api_key
        return key, key_typed, base_url, timeouts[0], timeouts[1], problems

    def read(self) -> tuple[Edited, dict[str, str]]:
        """The settings the form describes, and the problems by field name."""
        app = self.tui
        key, key_typed, _base_url, connect, read, problems = self._connection()
        params, param_problems = self.query_one(ParamFields).read()
        problems.update(param_problems)
        warn_below, problem = parse_usd_text(self._value("warn_below_usd"), "The warning amount")
        if problem:
            problems["warn_below_usd"] = problem
        web_results, web_length, web_problems = self.query_one(WebSearchFields).read()
        problems.update(web_problems)
        fallback, fallback_problems = self.query_one(FallbackFields).read()
        problems.update(fallback_problems)
        limits, limit_problems = self.query_one(AttachmentFields).read()
        problems.update(limit_problems)
        base_text = self._value("base_url").strip()
        prompt = clean(self.query_one("#system_prompt", TextArea).text)
        settings = replace(
            app.settings,
            api_key=key if key_typed else app.settings.api_key,
            base_url=normalize_base_url(base_text) if base_text else None,
            default_model=one_line(self._value("default_model"), 200) or DEFAULT_MODEL,
            system_prompt=prompt if prompt.strip() else None,
            params=params,
            stream=self.query_one("#stream", Switch).value,
            connect_timeout=connect,
            read_timeout=read,
            theme=self._theme(),
            warn_below_usd=warn_below,
            web_results_count=web_results,
            web_content_length=web_length,
            fallback=fallback,
            attachments=limits,
            extra=copy.deepcopy(app.settings.extra),
        )
        connection = app.connection.edited(settings, app.startup.env, key_typed=key_typed,
                                           base_url_typed=base_text != self._base_url_text.strip())
        return Edited(settings, connection, key_typed), problems

    def _show(self, field: str, problem: str | None) -> None:
        for row in self.query(FieldRow):
            if row.field_name == field:
                row.show(problem)

    # -- live checks ---------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        field = event.input.id or ""
        if field in ("api_key", "base_url", "connect_timeout", "read_timeout"):
            *_, problems = self._connection()
            self._show(field, problems.get(field))
        elif field == "warn_below_usd":
            self._show(field, parse_usd_text(event.value, "The warning amount")[1])

    def on_switch_changed(self, event: Switch.Changed) -> None:
        for row in self.query(FieldRow):
            if row.field_name == "stream":
                row.set_hint(self._stream_hint(event.value))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "theme" and event.option.id in self.tui.available_themes:
            self.tui.theme = event.option.id  # a preview; escape without saving puts the old one back

    # -- actions -------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id
        if button == "settings-save":
            self.action_save()
        elif button == "settings-cancel":
            self.action_leave()
        elif button == "test-connection":
            self.action_test_connection()
        elif button == "choose-model":
            self.action_choose_model()

    def action_ignore(self) -> None:
        pass

    def action_reveal_key(self) -> None:
        field = self.query_one("#api_key", Input)
        field.password = not field.password

    def action_leave(self) -> None:
        if not self.changed:
            self._discard()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self._discard()

        self.app.push_screen(ConfirmDialog("Leave the settings without saving your changes?",
                                           yes="Discard changes", no="Keep editing", danger=True), answered)

    def _discard(self) -> None:
        self.tui.theme = self._initial_theme
        self.dismiss(False)

    def action_save(self) -> None:
        edited, problems = self.read()
        for row in self.query(FieldRow):
            if row.field_name not in ("test", "stream", "theme", "default_model", "system_prompt"):
                row.show(problems.get(row.field_name))
        if problems:
            field, problem = next(iter(problems.items()))
            self.notify(f"Not saved: {problem}.", title="Settings", severity="error", timeout=8, markup=False)
            target = {"stop": "param-stop-0", "fallback_timeout": "fallback-timeout"}.get(field, field if field in TIMEOUT_LABELS or field in
                                                   ("api_key", "base_url", "warn_below_usd", *WEB_FIELDS) else f"param-{field}")
            if field in ATTACHMENT_RANGES:
                target = f"attach-{field}"
            self.query_one(f"#{target}").focus()
            return
        path = self.tui.startup.config_path
        problem = file_problem(path)
        if problem is None:
            self.run_worker(self._write(edited, replace_invalid=False), exclusive=True, group="settings-save")
            return

        def answered(replace_it: bool | None) -> None:
            if replace_it:
                self.run_worker(self._write(edited, replace_invalid=True), exclusive=True, group="settings-save")

        self.app.push_screen(ConfirmDialog(
            f"{problem}\n\nReplace it with these settings? The old file is kept as {path.name}.bak.",
            yes="Replace it", no="Cancel", danger=True), answered)

    async def _write(self, edited: Edited, *, replace_invalid: bool) -> None:
        app = self.tui
        path = app.startup.config_path
        try:
            save_settings(edited.settings, path, replace_invalid=replace_invalid)
        except ConfigError as error:
            self.notify(f"Not saved: {error}", title="Settings", severity="error", timeout=20, markup=False)
            return
        app.startup.config_error = None
        await app.apply_settings(edited.settings, edited.connection)
        message = f"Settings saved to {path}."
        next_start = resolve_api_key(edited.settings, app.startup.env).source
        if edited.key_typed and edited.connection.api_key.value and next_start != "config":
            message += (f" The new key is used now; at the next start {next_start} (set in the environment) "
                        "comes first.")
        self.notify(message, title="Settings", timeout=8, markup=False)
        self.dismiss(True)

    # -- model picker --------------------------------------------------------

    def action_choose_model(self) -> None:
        if ModelPicker is None:  # pragma: no cover - depends on which screens are installed
            self.query_one("#default_model", Input).focus()
            return
        field = self.query_one("#default_model", Input)

        def chosen(model: str | None) -> None:
            if model:
                field.value = model
            field.focus()

        self.app.push_screen(ModelPicker(field.value.strip() or DEFAULT_MODEL), chosen)
