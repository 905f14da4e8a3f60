"""One conversation: its title bar, messages, status line and prompt, and the worker that
streams its answers.

Data goes one way: prompt -> store (the user message is saved first) -> worker
(``client.chat``) -> ``ReplyAccumulator`` and message widget -> store (``ReplySaver``: the row
first, the text so far twice a second, the final state).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static
from textual.message import Message
from textual.worker import Worker, WorkerState

from ...core import logs
from ...core.store import StoreError
from ...core.text import clean, one_line
from ...core.types import Message as StoredMessage
from ...core.types import ApiError, AttachmentInfo, Chat, ChatParams, ChatTools, Comparison, FallbackSettings
from ..signals import follow_app_signals
from ..startup import PromptSlot
from ..titles import chat_title
from .message_list import MessageList
from .message_view import MessageView
from .. import key_first
from ..pacing import STATUS_EVERY, YIELD_EVERY
from .attaching import Attaching
from .branches import Branches
from .comparing import Comparing
from .tool_turns import ToolTurns, refuses_tools, tools_refused
from .web_turns import WebTurns
from .status_line import StatusLine, StreamStats

if TYPE_CHECKING:
    from ..app import ApertisApp
    from .comparison_view import CompareCell
    from .reply_saver import ReplySaver
    from .prompt_input import PromptInput
    from .tool_approval import ToolApproval

log = logging.getLogger(__name__)

#: Answers being streamed now, in every pane: each hands the loop back after its share of
#: YIELD_EVERY, so keys and frames wait one slice whatever the number of streams.
_streams = 0

_CODE_BLOCK = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*?)^ {0,3}\1[ \t]*$", re.S | re.M)


def last_code_block(markdown: str) -> str | None:
    blocks = _CODE_BLOCK.findall(markdown)
    return blocks[-1][1].rstrip("\n") if blocks else None


class ChatTitle(Static):
    DEFAULT_CSS = """
    ChatTitle { height: 1; padding: 0 1; }
    """


class ChatPane(WebTurns, ToolTurns, Comparing, Branches, Attaching, Vertical):
    """A chat: ``chat`` is None until its first message is sent (nothing is stored before)."""

    BINDINGS = [
        Binding("escape", "close_completion", show=False),  # the list of paths (f1: under tab)
        Binding("escape", "cancel_edit", "Cancel edit", tooltip="Give back the draft the edit replaced",
                id="chat.cancel_edit"),
        Binding("escape", "stop", "Stop", id="chat.stop"),
        # (Not in f1: the status line says it while it applies, "esc: not now".)
        Binding("escape", "cancel_send", show=False),  # the message waiting for its attachments
        Binding("ctrl+l", "attachments", "Attachments", tooltip="The prompt's attachments (delete removes one)",
                id="chat.attachments"),
        Binding("ctrl+g", "regenerate", "Regenerate", id="chat.regenerate"),
        Binding("f3", "copy_reply", "Copy", tooltip="Copy reply", id="chat.copy_reply"),
        Binding("ctrl+t", "toggle_reasoning", "Reasoning", show=False, id="chat.reasoning"),
        Binding("ctrl+up", "select_messages", "Select",
                tooltip="Select a message: versions, edit, fork", show=False, id="chat.select"),
        Binding("f5", "toggle_web_search", "Web search", tooltip="Web search on or off for this chat (Apertis)",
                show=False, id="chat.web_search"),
    ]

    DEFAULT_CSS = """
    ChatPane { height: 1fr; }
    """

    class Changed(Message):
        """Title, model or streaming state changed; ``finished``: an answer just ended."""

        def __init__(self, pane: "ChatPane", finished: bool = False) -> None:
            super().__init__()
            self.pane = pane
            self.finished = finished

    def __init__(self, chat: Chat | None, *, model: str, first_frame: bool = False, **kwargs) -> None:
        """``first_frame``: part of the app's first frame, which gets a light stand-in for the
        prompt (see ``PromptSlot``)."""
        super().__init__(**kwargs)
        self._first_frame = first_frame
        self._loaded = False  # the newest messages are shown (see load_messages)
        self.chat = chat
        self.model = chat.model if chat else model
        self.leaf_id = chat.current_id if chat else None  # the end of the branch shown (and sent)
        self.editing: StoredMessage | None = None  # the message whose new version is in the prompt
        self._draft = ""  # the prompt's text before editing began
        self._worker: Worker | None = None
        # A chat not yet stored keeps its own settings here until its first message.
        self._pending_system_prompt: str | None = None
        self._pending_params = ChatParams()
        self._pending_tools = ChatTools()
        self._pending_web = False
        self._pending_fallback: FallbackSettings | None = None
        self.comparing: tuple[str, ...] = ()  # the models a prompt goes to at once (see set_comparing)
        self.comparison: Comparison | None = None  # the open one: answered, not picked yet

    @property
    def tui(self) -> "ApertisApp":
        return self.app  # type: ignore[return-value]

    # -- composition ---------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ChatTitle(id="chat-title", markup=False)
        yield MessageList(load_older=self._load_older, load_newer=self._load_newer, id="messages")
        yield StatusLine(id="status")
        if self._first_frame:
            yield PromptSlot(id="prompt-slot")
        else:
            from .prompt_input import PromptInput

            yield PromptInput(id="prompt")

    @property
    def messages(self) -> MessageList:
        return self.query_one(MessageList)

    @property
    def prompt(self) -> PromptInput:
        """The real prompt: there from the start in chats opened later; in the app's first
        frame only once ``swap_in_prompt`` has run (NoMatches before)."""
        return self.query_one("#prompt")  # type: ignore[return-value]

    def typing_target(self) -> Widget | None:
        """Where typed keys go: the prompt, or its stand-in; None before either is composed."""
        found = self.query_children(PromptSlot if self._first_frame else "#prompt")
        return found.first() if found else None

    def focus_prompt(self) -> None:
        """Type into this chat (into the prompt's stand-in while it is there); while a tool
        call waits for an answer, the keys go to the question first."""
        for bar in self.query_children("#approval"):
            if bar.asking:  # type: ignore[attr-defined]
                bar.focus()
                return
        target = self.typing_target()
        if target is not None:
            target.focus()

    def swap_in_prompt(self) -> None:
        """Put the real prompt where its stand-in is, with the focus and any keys it was sent
        (see ui/startup.py). The app does it once the first frame is out; code that needs
        ``prompt`` sooner calls this first. Does nothing when done already."""
        if not self._first_frame:
            return
        self._first_frame = False  # (the slot stays a child until its removal is processed)
        from .prompt_input import PromptInput

        self.query_one(PromptSlot).hand_over(PromptInput(id="prompt"))

    @property
    def approval(self) -> "ToolApproval":
        """The bar that asks about tool calls; mounted the first time a call needs asking."""
        from .tool_approval import ToolApproval

        found = self.query_children(ToolApproval)
        if found:
            return found.first()
        bar = ToolApproval(id="approval")
        self.mount(bar, before=self.status)
        return bar

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    def on_mount(self) -> None:
        follow_app_signals(self)  # renamed in the history, new defaults in the settings: see ui/signals.py
        self.refresh_title()
        self.show_idle_status()
        # A chat restored behind another one loads its messages when it first comes to the
        # front: mounting and styling them delayed the app's first frame (~25 ms for two
        # chats of 20 messages).
        if self.display:
            self.load_messages()
        self.focus_prompt()
        if self._first_frame:
            self.app.call_after_refresh(self.swap_in_prompt)  # in case the app's on_ready is past

    def load_messages(self) -> None:
        """Show the newest page of the chat's current path, once."""
        if self._loaded:
            return
        self._loaded = True
        self.show_path()

    def show_path(self) -> None:
        """Show (again) the newest page of the path to ``leaf_id``."""
        if self.chat is not None:
            comparison = self.tui.store.open_comparison(self.chat.id)
            if comparison is not None:  # answered by several models, none picked yet
                self.comparison, self.comparing = comparison, comparison.models
                self.refresh_title()
                self.show_comparison(comparison)
                return
            page = self.tui.store.path_to(self.leaf_id, limit=MessageList.PAGE)
            self.messages.show(page, more_before=bool(page) and page[0].depth > 1)
            self.mark_versions(self.messages.views)

    def _load_older(self, first: StoredMessage, limit: int) -> list[StoredMessage]:
        if self.chat is None:
            return []
        older = self.tui.store.path_to(self.leaf_id, before_depth=first.depth, limit=limit)
        # Their "‹ 2/3 ›" once they are mounted (the list mounts them above the first one).
        self.call_after_refresh(lambda: self.mark_versions(self.messages.views[: len(older)]))
        return older

    def _load_newer(self, last: StoredMessage, limit: int) -> list[StoredMessage]:
        if self.chat is None:
            return []
        newer = self.tui.store.path_to(self.leaf_id, after_depth=last.depth, limit=limit)
        self.call_after_refresh(lambda: self.mark_versions(self.messages.views[-len(newer):] if newer else []))
        return newer

    def refresh_title(self) -> None:
        """Redraw the title bar (title, model, own settings) and relabel the tab."""
        title = Text(chat_title(self.chat), style="bold")
        if self.comparing:
            title.append("  ·  comparing: " + " · ".join(self.comparing), style="dim")
        else:
            title.append(f"  ·  {self.model}", style="dim")
        own = self.own_settings_summary()
        if own:
            title.append(f"  ·  {own}", style="italic")
        self.post_message(self.Changed(self))
        title.no_wrap = True
        title.overflow = "ellipsis"
        self.query_one(ChatTitle).update(title)

    # -- model and per-chat settings ----------------------------------------

    def set_model(self, model: str) -> None:
        """The model for this chat's next turns; earlier replies keep their own labels."""
        self.model = model
        if self.chat is not None:
            self.chat = self.tui.store.update_chat(self.chat.id, model=model) or self.chat
        self.refresh_title()
        if not self.is_streaming:
            self.show_idle_status()

    @property
    def system_prompt(self) -> str | None:
        return self.chat.system_prompt if self.chat is not None else self._pending_system_prompt

    @property
    def own_params(self) -> ChatParams:
        return self.chat.params if self.chat is not None else self._pending_params

    def set_chat_settings(self, system_prompt: str | None, params: ChatParams) -> None:
        """This chat's own system prompt and parameters (unset ones follow the settings)."""
        if self.chat is None:
            self._pending_system_prompt, self._pending_params = system_prompt, params
        else:
            self.chat = self.tui.store.update_chat(self.chat.id, system_prompt=system_prompt, params=params) or self.chat
        self.refresh_title()

    @property
    def chat_tools(self) -> ChatTools:
        """This chat's own tool settings (``enabled`` None: the settings' default)."""
        return self.chat.tools if self.chat is not None else self._pending_tools

    @property
    def tools_on(self) -> bool:
        return self.chat_tools.is_on(self.tui.tools.default_on)

    def set_chat_tools(self, tools: ChatTools) -> None:
        """This chat's tools on or off, its tool_choice, the tools it always allows."""
        if self.chat is None:
            self._pending_tools = tools
        else:
            self.chat = self.tui.store.update_chat(self.chat.id, tools=tools) or self.chat
        self.refresh_title()

    @property
    def chat_fallback(self) -> FallbackSettings | None:
        """This chat's own fallback models (None: the settings' ``[fallback]``)."""
        return self.chat.fallback if self.chat is not None else self._pending_fallback

    def set_chat_fallback(self, fallback: FallbackSettings | None) -> None:
        if self.chat is None:
            self._pending_fallback = fallback
        else:
            self.chat = self.tui.store.update_chat(self.chat.id, fallback=fallback) or self.chat
        self.refresh_title()

    def own_settings_summary(self) -> str:
        """What this chat sets differently from the defaults, for the title bar."""
        parts = [f"{name}={value}" for name, value in self.own_params.as_dict().items()
                 if value != getattr(self.tui.settings.params, name)]
        if self.system_prompt and self.system_prompt != self.tui.settings.system_prompt:
            parts.append("own system prompt")
        tools = self.chat_tools
        if tools.enabled is not None and tools.enabled != self.tui.tools.default_on:
            parts.append("tools on" if tools.enabled else "tools off")
        if tools.choice != "auto" and self.tools_on:
            parts.append(f"tool_choice={tools.choice}")
        if self.web_on:
            parts.append("web search")
        own = self.chat_fallback
        if own is not None and own != self.tui.settings.fallback:
            parts.append("own fallback" if own.enabled and own.models else "fallback off")
        return ", ".join(parts)

    # -- state ---------------------------------------------------------------

    @property
    def is_streaming(self) -> bool:
        return self._worker is not None and self._worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.is_streaming and self.editing is None
        if action == "cancel_edit":
            return self.editing is not None
        if action == "close_completion":
            return self.completing
        if action == "cancel_send":
            return self._send_when_ready
        if action == "attachments":
            return self.has_attachments
        if action in {"regenerate", "copy_reply"}:
            return True if self._last_assistant_view() is not None or action == "regenerate" else None
        return True

    def _last_assistant_view(self) -> MessageView | None:
        for view in reversed(self.messages.views):
            if view.message.role == "assistant":
                return view
        return None

    # -- sending -------------------------------------------------------------

    def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        event.stop()
        self.submit(event.text)  # (see Attaching: with the prompt's attachments, once ready)

    def on_prompt_input_scroll_request(self, event: PromptInput.ScrollRequest) -> None:
        event.stop()
        if event.pages == 0 and self.messages.more_after:  # "the newest message": it is not mounted yet
            self.show_path()
            return
        self.messages.page(event.pages)

    def send(self, text: str, attachments: Sequence[AttachmentInfo] = ()) -> bool:
        """Store ``text`` (and ``attachments``, prepared) as the user's message and ask for an
        answer. False if not sent."""
        text = clean(text)  # a paste can carry escape sequences too
        if not text.strip() and not attachments:
            return False
        if self.is_streaming:
            asking = any(bar.asking for bar in self.query_children("#approval"))  # type: ignore[attr-defined]
            self.tui.notify("A tool call is waiting for your answer: y runs it, n refuses it, escape stops the turn."
                            if asking else "An answer is still arriving: wait for it, or press escape to stop it.",
                            severity="warning")
            return False
        if self.refuse_free():  # web search on, and a free model: it cannot search
            return False
        if self.comparing or self.comparison is not None:
            if self.editing is not None:
                self.tui.notify("An edit makes a version of one conversation: turn comparing off (f7) first.",
                                severity="warning")
                return False
            return self.send_compared(text, attachments)
        store = self.tui.store
        edited = self.editing  # sending an edit makes a new version of that message
        try:
            if self.chat is None:
                self.chat = self.tui.new_chat(self.model, title=one_line(text, 60) or
                                              one_line(", ".join(a.name for a in attachments), 60),
                                              system_prompt=self._pending_system_prompt, params=self._pending_params,
                                              tools=self._pending_tools, web=self._pending_web,
                                              fallback=self._pending_fallback)
                self.refresh_title()
            parent = edited.parent_id if edited is not None else self.leaf_id
            message = store.add_message(self.chat.id, "user", text, parent_id=parent, attachments=attachments)
        except StoreError as error:  # disk full, a read-only disk, a lock held too long
            self.tui.notify(f"{error} The message was not sent; it is still in the prompt.", title="Not sent",
                            severity="error", timeout=20)
            return False
        if edited is not None:
            self.end_editing()
            self.drop_views_from(edited.id)
        self.leaf_id = message.id
        if self.messages.more_after:  # the middle of the branch is shown: its end, with the new message
            self.show_path()
        else:
            view = self.messages.add(message)
            if edited is not None:
                self.mark_versions([view])
            self.messages.jump_to_end()
        self._start_reply(self.model, message.id)
        return True

    def _start_reply(self, model: str, parent_id: int) -> None:
        self._worker = self._reply(model, parent_id)
        self.refresh_bindings()
        self.post_message(self.Changed(self))

    @work(exclusive=True, group="reply", exit_on_error=False)
    async def _reply(self, model: str, parent_id: int) -> None:
        """A turn: an answer, and while it asks for tools and the user lets them run, the
        rounds of tool calls and the answers that follow them."""
        try:
            tools, tool_choice = await self._tools_for_request()
            rounds = 0
            while True:
                answer = await self._answer(model, parent_id, tools, tool_choice)
                if answer is None or answer.status != "complete" or not answer.tool_calls:
                    break
                from .tool_round import ToolRound  # (here: nothing of it is needed for the first frame)

                rounds += 1
                limit = self.tui.tools.config.max_rounds
                view = self._view_of(answer.id)
                if view is None:
                    break
                round_ = ToolRound(self, answer, view, self.tui.tools.hub, over_limit=limit if rounds > limit else None)
                try:
                    next_parent = await round_.run()
                except asyncio.CancelledError:
                    if self.is_attached:
                        self.status.tools("Turn stopped: calls that had not finished are marked stopped. "
                                          "ctrl+g lets the model go on with the results it has.", warning=True)
                    raise
                if next_parent is None:
                    break
                parent_id = next_parent
        finally:
            if self.is_attached:  # the chat may have been closed while it answered
                self.call_later(self.refresh_bindings)
                self.post_message(self.Changed(self, finished=True))

    def _view_of(self, message_id: int) -> MessageView | None:
        return next((v for v in reversed(self.messages.views) if v.message.id == message_id), None)

    async def _answer(self, model: str, parent_id: int, tools: list[dict] | None,
                      tool_choice: object, *, cell: "CompareCell | None" = None,
                      started: "tuple[ReplySaver, StoredMessage] | None" = None) -> StoredMessage | None:
        """Stream one answer below ``parent_id``, saving it as it comes; the stored result
        (None when it could not even be started). In a comparison, ``cell`` shows it and
        ``started`` is its saver and row, made before any answer of the comparison starts."""
        from ...core.attachments.sending import has_images, images_refused, refuses_images
        from ...core.events import WEB_EVENTS, ContentDelta, FallbackUsed, Finish, ReasoningDelta, StreamError, UsageEvent
        from ...core.reply import ReplyAccumulator
        from .reply_saver import ReplySaver  # (here: nothing of it is needed for the first frame)

        assert self.chat is not None
        app, chat = self.tui, self.chat
        if started is not None:
            saver, message = started
        else:
            saver = ReplySaver(app, chat.id)
            message = saver.start(model, parent_id)  # type: ignore[assignment]
            if message is None:
                return None
        if cell is not None:
            view = cell.show(message, streaming=True)
            header = cell.header
        else:
            self.leaf_id = message.id
            view = self.messages.add(message, streaming=True)
            self.mark_versions([view])  # a regenerated reply: "‹ 2/2 ›" at once
            header = None
        # With attachments in the history, in a thread: those on the path are read and base64-encoded.
        if app.store.any_attachments():
            context = await asyncio.to_thread(app.store.context, chat.id, parent_id)
        else:
            context = app.store.context(chat.id, parent_id)
        stats = StreamStats(model=model, started=time.monotonic())
        reply = ReplyAccumulator()
        if header is not None:
            header.show(stats)
        else:
            self.status.waiting(stats)
        last_yield = time.monotonic()
        last_status = 0.0
        final: StoredMessage | None = None
        global _streams
        _streams += 1
        metered = app.spend.started(message.id, model)  # what it costs is measured across it (ui/spend.py)
        # A comparison measures the very models it names: no fallback answers in their place.
        fallback = app.fallback_for(chat) if cell is None else None
        try:
            async for event in app.client.chat(model, context, app.params_for(chat), stream=app.settings.stream,
                                               tools=tools, tool_choice=tool_choice, web=self.web_options(),
                                               fallback=fallback):
                if key_first.pending():  # a typed key goes first (ui/key_first.py)
                    await key_first.step_aside()
                    last_yield = time.monotonic()
                reply.feed(event)
                if isinstance(event, ContentDelta):
                    view.append(content=event.text)
                    stats.token()
                elif isinstance(event, ReasoningDelta):
                    view.append(reasoning=event.text)
                    stats.token()
                elif isinstance(event, UsageEvent):
                    stats.usage = event.usage
                elif isinstance(event, FallbackUsed):
                    view.served_by(event)
                    saver.served_by(reply)
                    stats.model = event.actual or stats.model
                elif isinstance(event, WEB_EVENTS):
                    self.web_event(event, reply, view, stats, header)
                now = time.monotonic()
                if now - last_yield >= YIELD_EVERY / _streams:
                    # A fast server keeps the socket full, and then this loop never waits:
                    # let keystrokes and redraws in now and then.
                    await asyncio.sleep(0)
                    last_yield = now = time.monotonic()
                saver.flush(reply, now)
                if now - last_status >= STATUS_EVERY:
                    if header is not None:
                        header.show(stats)
                    else:
                        self.status.streaming(stats)
                    last_status = now
        except Exception as exc:  # a bug of ours: keep the text, say so, keep the app alive
            log.exception("reply to chat %s failed", chat.id)
            where = f" Details are in {logs.current_path}." if logs.current_path else ""
            reply.feed(StreamError(ApiError(
                "bad_response", f"Something went wrong inside apertis-tui ({type(exc).__name__}).",
                f"The text so far is kept.{where}")))
        finally:
            _streams -= 1
            # No end: stopped (escape cancels the worker; CancelledError passes through here).
            status = "complete" if isinstance(reply.end, Finish) else "error" if reply.end else "stopped"
            refused_tools = tools is not None and refuses_tools(reply.error)
            if refused_tools:
                reply.end = StreamError(tools_refused(model, reply.error))  # type: ignore[arg-type]
            refused_images = not refused_tools and refuses_images(reply.error) and has_images(context)
            if refused_images:
                reply.end = StreamError(images_refused(model, reply.error))  # type: ignore[arg-type]
            duration = time.monotonic() - stats.started
            app.spend.ended(metered, reply)  # (a 402 says what was left; the usage is read after the save)
            final = saver.finish(reply, status, stats, duration)
            view.finish(final)
            if header is not None:
                if header.is_attached:
                    header.show(message=final)
            elif self.is_attached:
                self.status.finished(status, stats, duration, self.branch_text())
                if refused_tools:
                    self.call_later(self._offer_tools_off)
                elif refused_images:
                    self.call_later(self.offer_vision_model)
        return final

    # -- actions -------------------------------------------------------------

    def action_stop(self) -> None:
        if self._worker is not None and self.is_streaming:
            self._worker.cancel()

    def action_cancel_edit(self) -> None:
        if self.editing is not None:
            self.end_editing(restore_draft=True)

    def action_copy_reply(self) -> None:
        view = self._last_assistant_view()
        if view is None or not view.text:
            self.tui.notify("There is no reply to copy yet.")
            return
        self.tui.copy_to_clipboard(view.text)
        self.tui.notify(f"Copied the last reply ({len(view.text)} characters).")

    def copy_last_code_block(self) -> None:
        for view in reversed(self.messages.views):
            if view.message.role == "assistant":
                code = last_code_block(view.text)
                if code is not None:
                    self.tui.copy_to_clipboard(code)
                    self.tui.notify(f"Copied the last code block ({len(code.splitlines())} lines).")
                    return
        self.tui.notify("There is no code block in the replies yet.")

    def action_toggle_reasoning(self) -> None:
        for view in reversed(self.messages.views):
            if view.reasoning.size:
                view.toggle_reasoning()
                return
        self.tui.notify("No reply here has reasoning to show.")
