"""One conversation: its title bar, messages, status line and prompt, and the worker that
streams its answers.

Data goes one way: prompt -> store (the user message is saved first) -> worker
(``client.stream_chat``) -> message widget (+ a store flush every second) -> store (final state).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from typing import TYPE_CHECKING, Any

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
from ...core.store import StoreError, now_iso
from ...core.text import clean, one_line
from ...core.types import Message as StoredMessage
from ...core.types import ApiError, Chat, ChatParams
from ..signals import follow_app_signals
from .message_list import MessageList
from .message_view import MessageView
from .prompt_slot import PromptSlot
from .status_line import StatusLine, StreamStats

if TYPE_CHECKING:
    from ..app import ApertisApp
    from ...core.events import ToolCallDelta
    from .prompt_input import PromptInput

log = logging.getLogger(__name__)
YIELD_EVERY = 0.008  # seconds of stream handling before the event loop gets a turn
STATUS_EVERY = 0.25  # seconds between status-line updates while streaming (each costs a frame)
FLUSH_EVERY = 0.5  # seconds between saves of a streaming answer: about the most a crash can lose
_CODE_BLOCK = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*?)^ {0,3}\1[ \t]*$", re.S | re.M)


def last_code_block(markdown: str) -> str | None:
    blocks = _CODE_BLOCK.findall(markdown)
    return blocks[-1][1].rstrip("\n") if blocks else None


class ChatTitle(Static):
    DEFAULT_CSS = """
    ChatTitle { height: 1; padding: 0 1; }
    """


class _Reply:
    """What one answer has gathered so far."""

    def __init__(self) -> None:
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.error: ApiError | None = None

    def tool_call(self, delta: ToolCallDelta) -> None:
        call = self.tool_calls.setdefault(
            delta.index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if delta.id:
            call["id"] = delta.id
        if delta.name:
            call["function"]["name"] += delta.name
        call["function"]["arguments"] += delta.arguments

    @property
    def tool_call_list(self) -> list[dict[str, Any]] | None:
        return [self.tool_calls[i] for i in sorted(self.tool_calls)] or None


class ChatPane(Vertical):
    """A chat: ``chat`` is None until its first message is sent (nothing is stored before)."""

    BINDINGS = [
        Binding("escape", "stop", "Stop", id="chat.stop"),
        Binding("ctrl+g", "regenerate", "Regenerate", id="chat.regenerate"),
        Binding("f3", "copy_reply", "Copy", tooltip="Copy reply", id="chat.copy_reply"),
        Binding("ctrl+t", "toggle_reasoning", "Reasoning", show=False, id="chat.reasoning"),
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
        self._worker: Worker | None = None
        # A chat not yet stored keeps its own settings here until its first message.
        self._pending_system_prompt: str | None = None
        self._pending_params = ChatParams()

    @property
    def tui(self) -> "ApertisApp":
        return self.app  # type: ignore[return-value]

    # -- composition ---------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ChatTitle(id="chat-title", markup=False)
        yield MessageList(load_older=self._load_older, id="messages")
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
        self.mount_prompt()
        return self.query_one("#prompt")  # type: ignore[return-value]

    def typing_target(self) -> Widget | None:
        """Where typed keys go: the prompt, or its stand-in; None before either is composed."""
        found = self.query_children(PromptSlot if self._first_frame else "#prompt")
        return found.first() if found else None

    def focus_prompt(self) -> None:
        """Type into this chat (into the prompt's stand-in while it is there)."""
        target = self.typing_target()
        if target is not None:
            target.focus()

    def mount_prompt(self) -> None:
        """Put the real prompt where the stand-in is, with the focus and any keys it was sent.
        (The app does it as soon as the first frame is out; anything that needs the prompt
        sooner, through ``prompt``, gets it at once.)"""
        if not self._first_frame:
            return
        self._first_frame = False  # (the slot stays a child until its removal is processed)
        from .prompt_input import PromptInput

        slot = self.query_one(PromptSlot)
        prompt = PromptInput(id="prompt")
        self.mount(prompt, after=slot)  # in the DOM at once; mounted soon after
        if self.screen.focused is slot:
            self.screen.set_focus(prompt, scroll_visible=False)
        slot.hand_over(prompt)
        slot.remove()

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    def on_mount(self) -> None:
        follow_app_signals(self)  # renamed in the history, new defaults in the settings: see ui/signals.py
        self.refresh_title()
        self.status.ready(self.model)
        # A chat restored behind another one loads its messages when it first comes to the
        # front: mounting and styling them delayed the app's first frame (~25 ms for two
        # chats of 20 messages).
        if self.display:
            self.load_messages()
        self.focus_prompt()
        if self._first_frame:
            self.app.call_after_refresh(self.mount_prompt)  # in case the app's on_ready is past

    def load_messages(self) -> None:
        """Show the chat's newest page of messages, once."""
        if self._loaded:
            return
        self._loaded = True
        if self.chat is not None:
            page = self.tui.store.messages_page(self.chat.id, limit=MessageList.PAGE)
            visible = [m for m in page if m.status != "superseded"]
            self.messages.show(visible, more_before=len(page) >= MessageList.PAGE)

    def _load_older(self, before_id: int, limit: int) -> list[StoredMessage]:
        if self.chat is None:
            return []
        page = self.tui.store.messages_page(self.chat.id, before_id=before_id, limit=limit)
        return [m for m in page if m.status != "superseded"]

    def refresh_title(self) -> None:
        """Redraw the title bar (title, model, own settings) and relabel the tab."""
        title = Text(one_line(self.chat.title) if self.chat and self.chat.title else "New chat", style="bold")
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
            self.status.ready(model)

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

    def own_settings_summary(self) -> str:
        """What this chat sets differently from the defaults, for the title bar."""
        parts = [f"{name}={value}" for name, value in self.own_params.as_dict().items()
                 if value != getattr(self.tui.settings.params, name)]
        if self.system_prompt and self.system_prompt != self.tui.settings.system_prompt:
            parts.append("own system prompt")
        return ", ".join(parts)

    # -- state ---------------------------------------------------------------

    @property
    def is_streaming(self) -> bool:
        return self._worker is not None and self._worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.is_streaming
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
        if self.send(event.text):
            self.prompt.clear()

    def on_prompt_input_scroll_request(self, event: PromptInput.ScrollRequest) -> None:
        event.stop()
        self.messages.page(event.pages)

    def send(self, text: str) -> bool:
        """Store ``text`` as the user's message and ask for an answer. False if not sent."""
        text = clean(text)  # a paste can carry escape sequences too
        if not text.strip():
            return False
        if self.is_streaming:
            self.tui.notify("An answer is still arriving: wait for it, or press escape to stop it.",
                            severity="warning")
            return False
        store = self.tui.store
        try:
            if self.chat is None:
                self.chat = self.tui.new_chat(self.model, title=one_line(text, 60),
                                              system_prompt=self._pending_system_prompt, params=self._pending_params)
                self.refresh_title()
            message = store.add_message(self.chat.id, "user", text)
        except StoreError as error:  # disk full, a read-only disk, a lock held too long
            self.tui.notify(f"{error} The message was not sent; it is still in the prompt.", title="Not sent",
                            severity="error", timeout=20)
            return False
        self.messages.add(message)
        self.messages.jump_to_end()
        self._start_reply(self.model)
        return True

    def _start_reply(self, model: str) -> None:
        self._worker = self._reply(model)
        self.refresh_bindings()
        self.post_message(self.Changed(self))

    @work(exclusive=True, group="reply", exit_on_error=False)
    async def _reply(self, model: str) -> None:
        from ...core.events import ContentDelta, Finish, ReasoningDelta, StreamError, ToolCallDelta, UsageEvent

        assert self.chat is not None
        app, store, chat = self.tui, self.tui.store, self.chat
        try:
            message = store.start_assistant(chat.id, model)
        except StoreError as error:
            app.notify(f"{error} No answer was asked for.", title="Not sent", severity="error", timeout=20)
            return
        unsaved: StoreError | None = None  # the first failed save: said once, the answer goes on
        view = self.messages.add(message, streaming=True)
        context = store.context(chat.id)
        params = app.params_for(chat)
        stats = StreamStats(model=model, started=time.monotonic())
        reply = _Reply()
        status = "stopped"  # unless the stream ends some other way
        self.status.waiting(stats)
        last_flush = last_yield = time.monotonic()
        last_status = 0.0
        try:
            if app.settings.stream:
                async for event in app.client.stream_chat(model, context, params):
                    if isinstance(event, ContentDelta):
                        reply.content.append(event.text)
                        view.append(content=event.text)
                        stats.token()
                    elif isinstance(event, ReasoningDelta):
                        reply.reasoning.append(event.text)
                        view.append(reasoning=event.text)
                        stats.token()
                    elif isinstance(event, ToolCallDelta):
                        reply.tool_call(event)
                    elif isinstance(event, UsageEvent):
                        stats.usage = event.usage
                    elif isinstance(event, Finish):
                        status = "complete"
                    elif isinstance(event, StreamError):
                        reply.error = event.error
                        status = "error"
                    now = time.monotonic()
                    if now - last_yield >= YIELD_EVERY:
                        # A fast server keeps the socket full, and then this loop never waits:
                        # let keystrokes and redraws in now and then.
                        await asyncio.sleep(0)
                        last_yield = now = time.monotonic()
                    if now - last_flush >= FLUSH_EVERY:
                        try:
                            store.flush_partial(message.id, "".join(reply.content), "".join(reply.reasoning))
                        except StoreError as error:
                            if unsaved is None:
                                app.notify(f"{error} The answer goes on, but is not being saved.",
                                           title="Not saved", severity="error", timeout=20)
                            unsaved = error
                        last_flush = now
                    if now - last_status >= STATUS_EVERY:
                        self.status.streaming(stats)
                        last_status = now
            else:
                try:
                    completion = await app.client.complete(model, context, params)
                except ApiError as error:
                    reply.error, status = error, "error"
                else:
                    reply.content.append(completion.content)
                    reply.reasoning.append(completion.reasoning)
                    view.append(content=completion.content, reasoning=completion.reasoning)
                    stats.usage = completion.usage
                    for index, call in enumerate(completion.tool_calls or []):
                        reply.tool_calls[index] = call
                    status = "complete"
        except asyncio.CancelledError:
            status = "stopped"
            raise
        except Exception as exc:  # a bug of ours: keep the text, say so, keep the app alive
            log.exception("reply to chat %s failed", chat.id)
            where = f" Details are in {logs.current_path}." if logs.current_path else ""
            reply.error = ApiError("bad_response", f"Something went wrong inside apertis-tui ({type(exc).__name__}).",
                                   f"The text so far is kept.{where}")
            status = "error"
        finally:
            usage = stats.usage
            duration = time.monotonic() - stats.started
            try:
                final = store.finish_message(
                    message.id,
                    content="".join(reply.content),
                    reasoning="".join(reply.reasoning),
                    status=status,
                    error=reply.error.sentence if reply.error else None,
                    prompt_tokens=usage.prompt_tokens if usage else None,
                    completion_tokens=usage.completion_tokens if usage else None,
                    ttft_ms=round(stats.ttft * 1000) if stats.ttft is not None else None,
                    duration_ms=round(duration * 1000),
                    tool_calls=reply.tool_call_list,
                )
            except StoreError as error:  # keep what arrived on screen, say it is not in the history
                if unsaved is None:
                    app.notify(f"{error} This answer is shown but was not saved.", title="Not saved",
                               severity="error", timeout=20)
                final = dataclasses.replace(message, content="".join(reply.content),
                                            reasoning="".join(reply.reasoning), status=status,
                                            error=reply.error.sentence if reply.error else None,
                                            finished_at=now_iso())
            if final is not None:
                view.finish(final)
            if self.is_attached:  # the chat may have been closed while it answered
                self.status.finished(status, stats, duration)
                self.call_later(self.refresh_bindings)
                self.post_message(self.Changed(self, finished=True))

    def show_message(self, message_id: int) -> None:
        """Scroll to a stored message, mounting it (and what follows) if it is not yet shown."""
        for view in self.messages.views:
            if view.message.id == message_id:
                break
        else:
            if self.chat is None:
                return
            everything = [m for m in self.tui.store.messages(self.chat.id) if m.status != "superseded"]
            ids = [m.id for m in everything]
            if message_id not in ids:
                return
            start = max(0, ids.index(message_id) - 2)
            self.messages.show(everything[start:], more_before=start > 0, follow=False)
            self.call_after_refresh(self.show_message, message_id)
            return
        self.messages.release_anchor()
        self.messages.scroll_to_widget(view, top=True, animate=False)

    # -- actions -------------------------------------------------------------

    def action_stop(self) -> None:
        if self._worker is not None and self.is_streaming:
            self._worker.cancel()

    def action_regenerate(self, model: str | None = None) -> None:
        """Replace the last answer (or retry a failed one) with a new one."""
        if self.is_streaming:
            self.tui.notify("An answer is still arriving: press escape to stop it first.", severity="warning")
            return
        if self.chat is None:
            self.tui.notify("Nothing to regenerate yet: send a message first.")
            return
        views = self.messages.views
        if views and views[-1].message.role == "assistant":
            self.tui.store.mark_superseded(views[-1].message.id)
            views[-1].remove()
        elif not views or views[-1].message.role != "user":
            self.tui.notify("Nothing to regenerate yet: send a message first.")
            return
        self._start_reply(model or self.model)

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
