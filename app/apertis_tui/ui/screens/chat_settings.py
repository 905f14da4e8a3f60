"""Per-chat settings (f9): this chat's system prompt, sampling parameters, web search switch and fallback models.

A parameter left empty follows the settings' default (shown as the placeholder); one that is set
is stored with the chat, sent with its next requests and shown in its title bar. The fallback
rows show what the chat uses; saved the same as the defaults (f2), the chat follows those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static, Switch, TextArea

from ..form_text import param_text, stop_text
from ..titles import chat_title
from ..widgets.text_inputs import TextEditor
from ...core.text import clean
from ...core.types import PARAM_NAMES, ChatParams
from ..widgets.fallback_fields import FallbackFields
from ..widgets.param_fields import FieldRow, ParamFields
from .confirm import ConfirmDialog
from .dialog import Dialog, dialog_styles

if TYPE_CHECKING:
    from ...core.settings.file import Settings
    from ..widgets.chat_pane import ChatPane


def default_texts(settings: "Settings") -> dict[str, str]:
    """The defaults' parameter values as the fields' placeholders show them."""
    out = {}
    for name in PARAM_NAMES:
        value = getattr(settings.params, name)
        if value is not None:
            out[name] = ", ".join(stop_text(s) for s in value) if name == "stop" else param_text(name, value)
    return out


WEB_HINT = "Apertis searches the web before answering; f5 switches it too"


class ChatSettingsDialog(Dialog[bool]):
    """Edits ``pane``'s own settings; dismisses with True when they were applied."""

    CSS_PATH = dialog_styles("settings")  # its fields look as the settings screen's

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="chat_settings.save"),
        Binding("escape", "leave", "Cancel", id="chat_settings.cancel"),
        # The app's chat keys would act on the chat underneath: not while this is open.
        Binding("f2,f9,ctrl+o", "ignore", show=False, id="chat_settings.ignore"),
    ]

    def __init__(self, pane: "ChatPane", settings: "Settings") -> None:
        super().__init__()
        self.pane = pane
        self.settings = settings
        # A chat not yet stored gets the default system prompt when it is created, so show that.
        if pane.chat is None:
            self._prompt = pane.system_prompt if pane.system_prompt is not None else (settings.system_prompt or "")
        else:
            self._prompt = pane.system_prompt or ""
        self._initial: tuple | None = None

    def compose(self) -> ComposeResult:
        chat = self.pane.chat
        title = Text("Chat settings", style="bold")
        title.append(f"  ·  {chat_title(chat, 50)}", style="dim")
        with Vertical(id="chat-settings-dialog", classes="dialog-box"):
            yield Static(title, id="chat-settings-title")
            yield Static(Text("For this chat only. An empty parameter follows the default settings (f2).",
                              style="dim"), id="chat-settings-explain")
            empty = "empty: the default one" if chat is None else "empty: none"
            yield FieldRow("System prompt",
                           TextEditor(self._prompt, id="chat-system-prompt", soft_wrap=True, tab_behavior="focus",
                                    compact=True, classes="field-input"),
                           name="system_prompt", hint=f"sent first; {empty}")
            yield ParamFields(self.pane.own_params, defaults=default_texts(self.settings), id="chat-params")
            yield FieldRow("Web search", Switch(self.pane.web_on, id="chat-web"), name="web",
                           hint=WEB_HINT)
            own = self.pane.chat_fallback
            yield FallbackFields(own if own is not None else self.settings.fallback, model=self.pane.model,
                                 id="chat-fallback")
            with Horizontal(id="chat-settings-buttons"):
                yield Button("Save", variant="primary", id="chat-settings-save")
                yield Button("Use defaults", id="chat-settings-defaults")
                yield Button("Cancel", id="chat-settings-cancel")

    def action_ignore(self) -> None:
        pass

    def on_mount(self) -> None:
        self._initial = self.snapshot()
        self.query_one("#chat-system-prompt", TextArea).focus()

    def snapshot(self) -> tuple:
        return (self.query_one("#chat-system-prompt", TextArea).text, self.query_one(ParamFields).snapshot(),
                self.query_one("#chat-web", Switch).value, self.query_one(FallbackFields).snapshot())

    def _web_problem(self) -> str | None:
        """A free model cannot search the web: said beside the switch as soon as it is on."""
        return self.pane.free_model_refusal() if self.query_one("#chat-web", Switch).value else None

    def on_switch_changed(self, event: Switch.Changed) -> None:
        if event.switch.id == "chat-web":
            self.query_one("#row-web", FieldRow).show(self._web_problem())

    @property
    def changed(self) -> bool:
        return self._initial is not None and self.snapshot() != self._initial

    def read(self) -> tuple[str | None, ChatParams, dict[str, str]]:
        """(system prompt, parameters, problems by field name)."""
        text = clean(self.query_one("#chat-system-prompt", TextArea).text)
        # Emptied while a default exists: "" means "no system prompt" (None would mean "the default").
        prompt = text if text.strip() else ("" if self.settings.system_prompt else None)
        if self.pane.chat is None and prompt == self.settings.system_prompt:
            prompt = None  # keep following the default until the chat is created
        params, problems = self.query_one(ParamFields).read()
        if web_problem := self._web_problem():
            problems["web"] = web_problem
        return prompt, params, problems

    # -- actions -------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "chat-settings-save":
            self.action_save()
        elif event.button.id == "chat-settings-defaults":
            self.query_one(ParamFields).clear()
            self.query_one("#chat-system-prompt", TextArea).text = self.settings.system_prompt or ""
            self.query_one("#chat-web", Switch).value = False
            self.query_one(FallbackFields).fill(self.settings.fallback)
        else:
            self.action_leave()

    def action_save(self) -> None:
        prompt, params, problems = self.read()
        self.query_one(ParamFields).check()
        fallback, fallback_problems = self.query_one(FallbackFields).read()
        problems.update(fallback_problems)
        self.query_one(FallbackFields).check()
        if problems:
            field, problem = next(iter(problems.items()))
            self.notify(f"Not saved: {problem.rstrip('.')}.", title="Chat settings", severity="error", timeout=8,
                        markup=False)
            target = {"stop": "#param-stop-0", "web": "#chat-web", "fallback_timeout": "#fallback-timeout"}.get(field, f"#param-{field}")
            self.query_one(target).focus()
            return
        self.pane.set_chat_settings(prompt, params)
        web = self.query_one("#chat-web", Switch).value
        if web != self.pane.web_on:
            self.pane.set_web_search(web)
        # The same as the defaults: follow them (a later change of the defaults applies here too).
        self.pane.set_chat_fallback(None if fallback == self.settings.fallback else fallback)
        self.dismiss(True)

    def action_leave(self) -> None:
        if not self.changed:
            self.dismiss(False)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(False)

        self.app.push_screen(ConfirmDialog("Close without applying your changes to this chat?",
                                           yes="Discard changes", no="Keep editing", danger=True), answered)
