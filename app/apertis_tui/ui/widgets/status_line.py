"""One line under the messages: what the chat is doing, and the figures of the last answer."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from ...core.events import Usage


class StreamStats:
    """Live figures of one answer."""

    def __init__(self, model: str, started: float) -> None:
        self.model, self.started = model, started
        self.first_token: float | None = None
        self.tokens = 0  # content/reasoning chunks seen: about one token each
        self.usage: Usage | None = None

    def token(self) -> None:
        if self.first_token is None:
            self.first_token = time.monotonic()
        self.tokens += 1

    @property
    def ttft(self) -> float | None:
        return None if self.first_token is None else self.first_token - self.started

    @property
    def rate(self) -> float | None:
        if self.first_token is None:
            return None
        elapsed = time.monotonic() - self.first_token
        return self.tokens / elapsed if elapsed > 0.2 else None


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} s"


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; padding: 0 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.state = "ready"

    def _show(self, state: str, *parts: str) -> None:
        self.state = state.split()[0]
        text = Text(state, style="bold")
        for part in parts:
            if part:
                text.append(" · " + part)
        # One line whatever it says: a layout pass (of the whole screen) is not needed.
        self.update(text, layout=False)

    def tools(self, sentence: str, *, warning: bool = False) -> None:
        """What the tool part of a turn is doing (asking, running, stopped at the limit)."""
        self.state = "tools"
        self.update(Text(sentence, style="bold yellow" if warning else ""), layout=False)

    def preparing(self, names: str) -> None:
        """Attachments are read and scaled; the message goes when they are ready."""
        self._show("preparing", names, "sent when ready", "esc: not now")

    def ready(self, model: str, branch: str = "") -> None:
        self._show("ready", model, branch)

    def editing(self) -> None:
        self._show("editing", "enter sends it as a new version of your message", "esc gives your draft back")

    def waiting(self, stats: StreamStats) -> None:
        self._show("waiting", stats.model, f"{time.monotonic() - stats.started:.1f} s")

    def streaming(self, stats: StreamStats) -> None:
        rate = stats.rate
        self._show(
            "streaming",
            stats.model,
            f"~{stats.tokens} tokens",
            f"first token {_seconds(stats.ttft)}" if stats.ttft is not None else "",
            f"{rate:.0f} tok/s" if rate else "",
            "esc stops",
        )

    def finished(self, status: str, stats: StreamStats, duration: float, branch: str = "") -> None:
        usage = stats.usage
        if usage and (usage.prompt_tokens is not None or usage.completion_tokens is not None):
            tokens = f"{usage.prompt_tokens or 0} prompt + {usage.completion_tokens or 0} completion tokens"
        else:
            tokens = f"~{stats.tokens} tokens" if stats.tokens else ""
        label = {"complete": "done", "stopped": "stopped", "error": "error"}.get(status, status)
        self._show(
            label,
            stats.model,
            tokens,
            f"first token {_seconds(stats.ttft)}" if stats.ttft is not None else "",
            f"{duration:.1f} s",
            "ctrl+g retries" if status in {"error", "stopped"} else "",
            branch,
        )
