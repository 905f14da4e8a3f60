"""ApertisApp: owns the settings, the history store and the API client; global keys; screens."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import App
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.signal import Signal
from textual.worker import WorkerState

from ..core.settings.file import ConfigError, Settings, save_settings
from ..core.settings.resolve import Connection, Resolved
from ..core.session import Session, load_session, save_session
from ..core.store import History
from ..core.settings.validation import APERTIS_BASE_URLS
from ..core.types import Chat, ChatParams, ChatTools, FallbackSettings
from . import key_first
from .paths import stylesheets
from .screens.conversation import ConversationScreen
from .signals import ChatChanged
from .startup import FIRST_BALANCE_READING, first_frame_out
from .widgets.chat_pane import ChatPane

if TYPE_CHECKING:
    from textual.command import Provider

    from ..core.api import ApertisClient
    from .spend import Spend, SpendNews
    from .tool_servers import ToolServers


def _chat_commands() -> type[Provider]:
    from .commands import ChatCommands  # textual.command is only needed once the palette opens

    return ChatCommands


def _history_commands() -> type[Provider]:
    from .commands import HistoryCommands

    return HistoryCommands


@dataclass
class Startup:
    """Everything the command line worked out before the app starts."""

    settings: Settings
    config_path: Path
    store: History
    connection: Connection  # the key, base URL and user agent, each with where it came from
    config_error: ConfigError | None = None
    model: str | None = None  # -m/--model: the model for new chats
    prompt: str | None = None  # PROMPT: sent at once in a new chat
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    session_path: Path | None = None  # where the open chats are remembered; None: not at all
    # The service's two addresses: "Test connection" offers the other when one cannot be reached.
    base_url_pair: tuple[str, str] = APERTIS_BASE_URLS
    cwd: Path = field(default_factory=Path.cwd)  # where an attachment's relative path starts


class ApertisApp(App[None]):
    TITLE = "apertis-tui"
    # The dialogs, picker, settings and history screens bring their own stylesheets when first
    # opened: every rule parsed at start-up delays the first frame.
    CSS_PATH = stylesheets("base", "conversation")
    COMMANDS = App.COMMANDS | {_chat_commands, _history_commands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="app.quit"),
        Binding("f1", "show_keys", "Keys", id="app.keys"),
        Binding("ctrl+o", "pick_model", "Model", id="app.pick_model"),
        Binding("f2", "settings", "Settings", id="app.settings"),
        Binding("f9", "chat_settings", "Chat settings", show=False, id="app.chat_settings"),
        Binding("f6", "tools", "Tools", show=False, id="app.tools"),
        Binding("f7", "compare", "Compare models", show=False, id="app.compare"),
        Binding("ctrl+r", "history", "History", id="app.history"),
    ]

    def __init__(self, startup: Startup) -> None:
        super().__init__()
        self.startup = startup
        self.settings = startup.settings
        self.store = startup.store
        self.connection = startup.connection  # replaced when a key is given or settings are saved
        self._client: ApertisClient | None = None
        self._tools: ToolServers | None = None
        self._spend: Spend | None = None
        # Open chat panes follow these (ui/signals.py) instead of being looked for screen by screen.
        self.chat_changed: Signal[ChatChanged] = Signal(self, "chat-changed")
        self.settings_changed: Signal[Settings] = Signal(self, "settings-changed")
        self.spend_changed: Signal[SpendNews] = Signal(self, "spend-changed")  # balance read, cost measured
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme

    # -- typed keys go before streamed text (ui/key_first.py) -------------------

    def post_message(self, message: Message) -> bool:
        key_first.key_arrived(message)
        return super().post_message(message)

    async def on_event(self, event: events.Event) -> None:
        typed = isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded
        await super().on_event(event)
        if typed:
            key_first.key_handed_on(self.focused or self.screen)

    # -- wiring --------------------------------------------------------------

    @property
    def api_key(self) -> str | None:
        return self.connection.api_key.value

    @property
    def api_key_source(self) -> str:
        return self.connection.api_key.source

    @property
    def base_url(self) -> str:
        return self.connection.base_url.value

    @property
    def client(self) -> ApertisClient:
        """Made on first use: httpx and its TLS set-up cost ~60 ms that the first frame need not wait for."""
        if self._client is None:
            self._client = self._make_client()
        return self._client

    @client.setter
    def client(self, client: ApertisClient) -> None:
        self._client = client

    @property
    def tools(self) -> ToolServers:
        """The MCP servers. Made on first use (after the first frame, or at the first send):
        reading their configuration is no part of drawing an empty chat."""
        if self._tools is None:
            from .tool_servers import ToolServers

            self._tools = ToolServers(self)
        return self._tools

    @property
    def spend(self) -> Spend:
        """The balance and what replies cost (ui/spend.py). Made a second after the first frame,
        or at the first request if that is sooner."""
        if self._spend is None:
            from .spend import Spend

            self._spend = Spend(self)
        return self._spend

    @property
    def spend_if_started(self) -> Spend | None:
        return self._spend

    def _replace_client(self) -> None:
        """The next request uses a new client (new key, URL or timeouts)."""
        previous, self._client = self._client, None
        if previous is not None:
            self._retire_client(previous)
        if self._spend is not None:  # another key or server: its balance is another one
            self._spend.reset()

    def _make_client(self) -> ApertisClient:
        from ..core.api import ApertisClient

        return ApertisClient(
            self.base_url,
            self.api_key,
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout,
            user_agent=self.connection.user_agent.value,
        )

    async def use_key(self, key: str, source: str = "config") -> None:
        self.connection = self.connection._replace(api_key=Resolved(key, source))
        self._replace_client()

    async def apply_settings(self, settings: Settings, connection: Connection) -> None:
        """Use just-saved settings at once (``connection``: as resolved from them): a new client
        when the key, base URL, user agent or a timeout changed; the theme; the chats' title bars
        (they show what differs from the defaults)."""
        old, old_connection = self.settings, self.connection
        rebuild = ([part.value for part in connection], settings.connect_timeout, settings.read_timeout) != (
            [part.value for part in old_connection], old.connect_timeout, old.read_timeout)
        if settings.default_model != old.default_model:
            self.startup.model = None  # the newly chosen default wins over -m for new chats
        self.settings, self.connection = settings, connection
        if rebuild:
            self._replace_client()
        await self.tools.apply(settings)
        if settings.theme in self.available_themes:
            self.theme = settings.theme
        self.settings_changed.publish(settings)

    def _retire_client(self, client: ApertisClient) -> None:
        """Close a replaced client once no answer is streaming through it (closing it at once
        would cut those answers)."""
        async def close_when_idle() -> None:
            while any(w.group == "reply" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                      for w in self.workers):
                await asyncio.sleep(0.2)
            await client.aclose()

        self.run_worker(close_when_idle(), group="retired-client", exit_on_error=False)

    @property
    def default_model(self) -> str:
        return self.startup.model or self.settings.default_model

    def get_default_screen(self) -> ConversationScreen:
        session = load_session(self.startup.session_path) if self.startup.session_path else Session()
        chats = [chat for chat in map(self.store.get_chat, session.chat_ids) if chat is not None and not chat.archived]
        focused = session.focused if len(chats) == len(session.chat_ids) else 0
        if self.startup.prompt and chats:  # README: a PROMPT starts a new chat (beside the restored ones)
            chats, focused = [*chats, None], len(chats)
        return ConversationScreen(chats, model=self.default_model, focus_index=focused)

    @property
    def conversation(self) -> ConversationScreen | None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ConversationScreen):
                return screen
        return None

    @property
    def active_pane(self) -> ChatPane | None:
        conversation = self.conversation
        return conversation.pane if conversation is not None else None

    async def open_chat(self, chat_id: int | None, message_id: int | None = None) -> ChatPane | None:
        """Bring a stored chat to the front (opening a tab if needed), at ``message_id`` if given.
        ``None`` opens a new, empty chat."""
        conversation = self.conversation
        if conversation is None:
            return None
        chat = self.store.get_chat(chat_id) if chat_id is not None else None
        if chat_id is not None and chat is None:
            self.notify("That chat no longer exists.", severity="warning")
            return None
        while self.screen is not conversation:
            await self.pop_screen()
        return await conversation.open_chat(chat, model=self.default_model, message_id=message_id)

    async def close_chat(self, chat_id: int) -> None:
        """Close the chat's tab if it is open (for instance because it was deleted)."""
        conversation = self.conversation
        pane = conversation.pane_for(chat_id) if conversation is not None else None
        if pane is not None and conversation is not None:
            await conversation.close_pane(pane)

    def remember_session(self) -> None:
        """Record the open chats (stored ones only) and the one in front."""
        conversation, path = self.conversation, self.startup.session_path
        if conversation is None or path is None or not conversation.is_mounted:
            return
        panes = conversation.panes
        front = conversation.pane
        ids = [p.chat.id for p in panes if p.chat is not None]
        stored_front = [p for p in panes if p.chat is not None]
        focused = stored_front.index(front) if front in stored_front else max(0, len(ids) - 1)
        save_session(path, Session(ids, focused))

    def new_chat(self, model: str, *, title: str, system_prompt: str | None = None,
                 params: ChatParams | None = None, tools: ChatTools | None = None,
                 fallback: FallbackSettings | None = None, web: bool = False) -> Chat:
        """Store a new chat; its system prompt defaults to the settings' one."""
        if system_prompt is None:
            system_prompt = self.settings.system_prompt
        return self.store.create_chat(model, title=title, system_prompt=system_prompt,
                                      params=params, tools=tools, web=web, fallback=fallback)

    def params_for(self, chat: Chat) -> ChatParams:
        """The chat's own parameters where it has them, the settings' elsewhere."""
        return chat.params.merged_over(self.settings.params)

    def fallback_for(self, chat: Chat) -> FallbackSettings:
        """The chat's own fallback models where it has them, the settings' ``[fallback]`` else."""
        return chat.fallback if chat.fallback is not None else self.settings.fallback

    # -- lifecycle -----------------------------------------------------------

    def conversation_ready(self) -> None:
        """The first conversation screen is up: report a bad settings file, ask for a key, send
        the command line's prompt."""
        if self.startup.config_error is not None:
            self.notify(str(self.startup.config_error), title="Settings not loaded", severity="error", timeout=30)
        if self.store.recovered:
            count = self.store.recovered
            self.notify(f"{count} {'answer was' if count == 1 else 'answers were'} cut short when the app last "
                        "closed; the text that arrived is kept, marked interrupted.", severity="warning", timeout=10)
        if self.api_key is None:
            from .screens.key_dialog import KeyDialog  # only when there is no key: off the usual start

            self.push_screen(KeyDialog(self.base_url), self._key_given)
        else:
            self._send_startup_prompt()

    def on_ready(self) -> None:
        first_frame_out(self)  # Textual posts Ready right after painting the first frame
        from .terminal_watch import watch_terminal  # after the first frame: nothing of it is needed before

        watch_terminal(self)
        self.tools.start()
        self.set_timer(FIRST_BALANCE_READING, lambda: self.spend.begin())

    async def _key_given(self, key: str | None) -> None:
        if key:
            self.settings.api_key = key
            try:
                save_settings(self.settings, self.startup.config_path)
            except ConfigError as error:
                # Used, but not from the file: the source stays what it was (no key found).
                await self.use_key(key, self.api_key_source)
                self.notify(f"The key works for this session but was not saved: {error}", severity="error", timeout=20)
            else:
                await self.use_key(key, "config")
                self.notify(f"Key saved to {self.startup.config_path}.")
        self._send_startup_prompt()

    def _send_startup_prompt(self) -> None:
        prompt, self.startup.prompt = self.startup.prompt, None
        pane = self.active_pane
        if prompt and pane is not None:
            pane.send(prompt)

    async def on_unmount(self) -> None:
        if self._spend is not None:
            self._spend.close()  # its readings are tasks of their own
        if self._tools is not None:
            await self._tools.stop()  # their processes too: none outlives the app
        if self._client is not None:
            await self._client.aclose()

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """As Textual's, but always plain text (widgets' ``notify`` lands here too): our messages
        carry titles, paths, model ids and error text, which must never be read as markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    # -- actions -------------------------------------------------------------

    def action_pick_model(self, regenerate: bool = False) -> None:
        """ctrl+o: choose the focused chat's model; ``regenerate``: replace its last reply with one
        from the chosen model."""
        from .screens.model_picker import open_model_picker

        open_model_picker(self, regenerate=regenerate)

    def action_compare(self) -> None:
        """f7: tick the models the focused chat's next prompts go to at once (or none, to stop)."""
        from .screens.compare_picker import open_compare_picker

        open_compare_picker(self)

    def action_settings(self) -> None:
        """f2: the settings screen (not over a dialog, nor twice)."""
        from .screens.settings import SettingsScreen

        if not isinstance(self.screen, (SettingsScreen, ModalScreen)):
            self.push_screen(SettingsScreen())

    def action_chat_settings(self) -> None:
        """f9: the focused chat's own system prompt and parameters."""
        from .screens.chat_settings import ChatSettingsDialog

        pane = self.active_pane
        if pane is not None and self.screen is pane.screen:
            self.push_screen(ChatSettingsDialog(pane, self.settings))

    def action_tools(self) -> None:
        """f6: the tool servers, their tools, and the chat in front's tool settings."""
        from .screens.tools import ToolsScreen

        if not isinstance(self.screen, (ToolsScreen, ModalScreen)):
            self.push_screen(ToolsScreen(self.active_pane))

    def action_history(self, query: str = "") -> None:
        """ctrl+r: the history screen (on it, ctrl+r goes back to its search field)."""
        from .screens.history import HistoryScreen

        if isinstance(self.screen, HistoryScreen):
            self.screen.action_focus_search()
        elif not isinstance(self.screen, ModalScreen):
            self.push_screen(HistoryScreen(query))

    def action_export_chat(self) -> None:
        """Export the chat in front to Markdown or JSON (asks where)."""
        from .screens.history.dialogs import start_export

        pane = self.active_pane
        if pane is None or pane.chat is None:
            self.notify("This chat has no messages yet: there is nothing to export.")
            return
        start_export(self, pane.chat)

    def action_export_comparison(self) -> None:
        """The chat in front's comparisons, as Markdown, to ~/apertis-comparison-<id>.md (a free
        name beside it when that exists)."""
        from ..core.pathtext import home_relative
        from ..core.store.compare_report import ExportError, ExportExists, comparison_report, default_report_path
        from ..core.store.compare_report import write_export

        pane = self.active_pane
        if pane is None or pane.chat is None:
            self.notify("This chat has no messages yet: there is no comparison to export.")
            return
        try:
            text = comparison_report(self.store, pane.chat.id)
        except ExportError as error:
            self.notify(str(error))
            return
        target = default_report_path(pane.chat.id)
        for number in range(2, 100):
            try:
                written = write_export(target, text)
                break
            except ExportExists:
                target = target.with_name(f"apertis-comparison-{pane.chat.id}-{number}.md")
            except ExportError as error:
                self.notify(str(error), title="Not exported", severity="error", timeout=10)
                return
        else:
            self.notify("Too many comparison reports of this chat in your home folder already.", severity="error")
            return
        self.notify(f"Wrote the comparisons to {home_relative(written)}.", title="Export")

    def action_show_keys(self) -> None:
        from .screens.keys import KeysScreen, key_rows

        if not isinstance(self.screen, KeysScreen):
            self.push_screen(KeysScreen(key_rows(self.screen)))
