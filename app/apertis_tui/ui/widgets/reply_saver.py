"""Saving one answer while it arrives: its row first, the text so far every FLUSH_EVERY
seconds, then its final state. A save that fails is said once; the answer goes on on screen."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from ...core.store import StoreError, now_iso
from ...core.types import Message, MessageStatus
from ..pacing import FLUSH_EVERY

if TYPE_CHECKING:
    from ...core.reply import ReplyAccumulator
    from ..app import ApertisApp
    from .status_line import StreamStats


class ReplySaver:
    def __init__(self, app: "ApertisApp", chat_id: int) -> None:
        self._app = app
        self._chat_id = chat_id
        self._unsaved: StoreError | None = None  # the first failed save
        self._last_flush = time.monotonic()
        self.message: Message | None = None

    def start(self, model: str, parent_id: int) -> Message | None:
        """The answer's row (a reply to ``parent_id``), before anything is asked; None (said)
        when it cannot be written."""
        try:
            self.message = self._app.store.start_assistant(self._chat_id, model, parent_id=parent_id)
        except StoreError as error:
            self._app.notify(f"{error} No answer was asked for.", title="Not sent", severity="error", timeout=20)
            return None
        return self.message

    def flush(self, reply: "ReplyAccumulator", now: float) -> None:
        """Save the text so far, if FLUSH_EVERY has passed since the last save."""
        if now - self._last_flush < FLUSH_EVERY or self.message is None:
            return
        self._last_flush = now
        served = reply.fallback  # known from the first byte: kept even if the app dies mid-answer
        try:
            self._app.store.flush_partial(self.message.id, reply.content, reply.reasoning,
                                          model=served.actual if served is not None else None,
                                          fallback=served.record() if served is not None else None)
        except StoreError as error:
            self._say(error, "The answer goes on, but is not being saved.")

    def served_by(self, reply: "ReplyAccumulator") -> None:
        """A fallback model answers (``reply.fallback``): into the row at once, not at the next
        flush, which a stalled answer may never reach."""
        self._last_flush = float("-inf")
        self.flush(reply, time.monotonic())

    def finish(self, reply: "ReplyAccumulator", status: MessageStatus, stats: "StreamStats",
               duration: float) -> Message:
        """The answer's final state, stored; when it cannot be stored, the same as it is shown."""
        assert self.message is not None
        error = reply.error.sentence if reply.error else None
        usage = stats.usage
        served = reply.fallback  # a fallback answered: its model is the one that wrote this
        model = served.actual if served is not None else None
        fallback = served.record() if served is not None else None
        try:
            final = self._app.store.finish_message(
                self.message.id,
                content=reply.content,
                reasoning=reply.reasoning,
                status=status,
                error=error,
                prompt_tokens=usage.prompt_tokens if usage else None,
                completion_tokens=usage.completion_tokens if usage else None,
                ttft_ms=round(stats.ttft * 1000) if stats.ttft is not None else None,
                duration_ms=round(duration * 1000),
                tool_calls=reply.tool_calls,
                sources=reply.sources,
                web_search=reply.web_search,
                server_timings=reply.server_timings,
                model=model,
                fallback=fallback,
            )
        except StoreError as problem:
            self._say(problem, "This answer is shown but was not saved.")
            final = None
        return final or dataclasses.replace(self.message, content=reply.content, reasoning=reply.reasoning,
                                            status=status, error=error, finished_at=now_iso(),
                                            sources=tuple(reply.sources), web_search=reply.web_search,
                                            server_timings=reply.server_timings,
                                            model=model or self.message.model, fallback=fallback)

    def _say(self, error: StoreError, consequence: str) -> None:
        if self._unsaved is None:
            self._app.notify(f"{error} {consequence}", title="Not saved", severity="error", timeout=20)
        self._unsaved = error
