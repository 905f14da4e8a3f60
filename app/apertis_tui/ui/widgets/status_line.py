"""One line under the messages: what the chat is doing, and the figures of the last answer."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.app import RenderResult

    from ...core.events import Usage
    from ...core.spend import TokenUsage
    from ...core.types import Message
    from ...core.web import ServerTimings


class StreamStats:
    """Live figures of one answer."""

    def __init__(self, model: str, started: float) -> None:
        self.model, self.started = model, started
        self.first_token: float | None = None
        self.tokens = 0  # content/reasoning chunks seen: about one token each
        self.usage: Usage | None = None
        self.searching = False  # the server said it searches the web (until the first token)
        self.server_timings: ServerTimings | None = None

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


def first_token(ttft: float | None, server: "ServerTimings | None") -> str:
    """The time to first token measured here, and beside it the server's own when it gave it:
    a slow answer tells itself apart from a slow network."""
    server_ttft = server.ttft_ms if server is not None else None
    if ttft is None and server_ttft is None:
        return ""
    here = f"first token {_seconds(ttft)}" if ttft is not None else "first token"
    return f"{here} (server {server_ttft / 1000:.2f} s)" if server_ttft is not None else here


class StatusLine(Static):
    """What the chat is doing at the left; at the right, what the key has left (ui/spend.py),
    as a warning under ``warn_below_usd``."""

    COMPONENT_CLASSES = {"status--low-balance"}

    DEFAULT_CSS = """
    StatusLine { height: 1; padding: 0 1; }
    StatusLine > .status--low-balance { color: $warning; text-style: bold; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.state = "ready"
        self.balance = ""  # "$8.42 left", or "" when nothing is known
        self.low_balance = False

    def show_balance(self, usage: "TokenUsage | None", warn_below_usd: float | None) -> None:
        from ...core.spend import balance_text, is_low

        balance = balance_text(usage) if usage is not None else ""
        low = is_low(usage, warn_below_usd)
        if (balance, low) != (self.balance, self.low_balance):
            self.balance, self.low_balance = balance, low
            self.refresh()

    def render(self) -> "RenderResult":
        if not self.balance:
            return super().render()
        if self.low_balance:
            right = Text(f"low balance: {self.balance}", style=self.get_component_rich_style("status--low-balance"))
        else:
            right = Text(self.balance, style="dim")
        content = self.content
        left = content.copy() if isinstance(content, Text) else Text(str(content))
        room = self.content_region.width - right.cell_len - 2
        left.truncate(max(0, room), overflow="ellipsis")
        return Text.assemble(left, " " * max(2, room - left.cell_len + 2), right, no_wrap=True, overflow="crop")

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
        if stats.searching and not stats.tokens:  # the answer has not begun: the search is the news
            self._show("searching the web", stats.model, f"{time.monotonic() - stats.started:.1f} s", "esc stops")
            return
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
            first_token(stats.ttft, stats.server_timings),
            f"{duration:.1f} s",
            "ctrl+g retries" if status in {"error", "stopped"} else "",
            branch,
        )

    def details(self, message: "Message", branch: str = "") -> None:
        """A reply's figures (a selected one): its model, tokens, time to first token measured
        here beside the server's own, duration; and the branch shown."""
        tokens = (f"{message.prompt_tokens or 0} prompt + {message.completion_tokens or 0} completion tokens"
                  if message.prompt_tokens is not None or message.completion_tokens is not None else "")
        ttft = message.ttft_ms / 1000 if message.ttft_ms is not None else None
        self._show("reply", message.model or "", tokens, first_token(ttft, message.server_timings),
                   f"{message.duration_ms / 1000:.1f} s" if message.duration_ms is not None else "", branch)
