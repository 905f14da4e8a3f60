"""The chat pane's side of Apertis's web search: the chat's switch (f5), what a request asks
for when it is on (the ``:web`` model and the settings' ``web_results_count`` and
``web_content_length``), free models refused before anything is sent, the search shown as the
reply's status while it lasts, a reply's sources opened on purpose, and a reply's details
(its timings beside the server's own) in the status line when it is selected."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.store import StoreError

if TYPE_CHECKING:
    from ...core.web import WebOptions
    from ...core.events import StreamEvent
    from ...core.reply import ReplyAccumulator
    from .chat_pane import ChatPane
    from .comparison_view import CellHeader
    from .message_view import MessageView
    from .status_line import StreamStats


class WebTurns:
    """Mixed into ``ChatPane``."""

    _pending_web: bool  # a chat not stored yet keeps its switch here (set by ChatPane)

    # -- the switch ------------------------------------------------------------

    @property
    def web_on(self: "ChatPane") -> bool:
        return self.chat.web if self.chat is not None else self._pending_web

    def free_model_refusal(self: "ChatPane", models: "list[str] | tuple[str, ...] | None" = None) -> str | None:
        """Why ``models`` (by default the ones the next prompt goes to) cannot search the web:
        a free one among them; None when none is."""
        from ...core.web import free_refusal, is_free  # (here: not needed for the first frame)

        for model in models if models is not None else self.next_models():
            if is_free(model):
                return free_refusal(model)
        return None

    def web_refusal(self: "ChatPane", models: "list[str] | tuple[str, ...] | None" = None) -> str | None:
        """Why a request of this chat cannot go: web search on, and a free model among them."""
        return self.free_model_refusal(models) if self.web_on else None

    def next_models(self: "ChatPane") -> tuple[str, ...]:
        """The models the next prompt goes to."""
        if self.comparison is not None:
            return self.comparison.models
        return self.comparing or (self.model,)

    def refuse_free(self: "ChatPane", models: "list[str] | tuple[str, ...] | None" = None) -> bool:
        """Say why nothing is sent when web search is on and a model is free; True if so."""
        refusal = self.web_refusal(models)
        if refusal is not None:
            self.tui.notify(refusal, title="Not sent", severity="warning", timeout=10)
        return refusal is not None

    def set_web_search(self: "ChatPane", on: bool) -> bool:
        """This chat's requests search the web (or stop doing so); False, said, when a free model
        cannot. Stored with the chat (a chat not stored yet keeps it until its first message)."""
        if on and (refusal := self.free_model_refusal()):
            self.tui.notify(refusal, title="Web search", severity="warning", timeout=10)
            return False
        if self.chat is None:
            self._pending_web = on
        else:
            try:
                self.chat = self.tui.store.update_chat(self.chat.id, web=on) or self.chat
            except StoreError as error:
                self.tui.notify(f"{error} Web search stays {'off' if on else 'on'}.", severity="error", timeout=10)
                return False
        self.refresh_title()
        return True

    def action_toggle_web_search(self: "ChatPane") -> None:
        """f5: web search on or off for this chat."""
        on = not self.web_on
        if self.set_web_search(on):
            settings = self.tui.settings
            self.tui.notify(
                f"Web search on for this chat: the next answers search the web first ({settings.web_results_count} "
                f"results, {settings.web_content_length} length; f2 changes them)." if on
                else "Web search off for this chat.", title="Web search")

    def web_options(self: "ChatPane") -> "WebOptions | None":
        """What a request of this chat asks for: None without web search."""
        if not self.web_on:
            return None
        from ...core.web import WebOptions

        settings = self.tui.settings
        return WebOptions(settings.web_results_count, settings.web_content_length)

    # -- while an answer arrives ------------------------------------------------

    def web_event(self: "ChatPane", event: "StreamEvent", reply: "ReplyAccumulator", view: "MessageView",
                  stats: "StreamStats", header: "CellHeader | None") -> None:
        """A web search's news: the search under way (the reply's status until its first words),
        its sources (shown under the reply as they come), the server's timings."""
        from ...core.events import ServerTimingsEvent, WebSearching, WebSources

        if isinstance(event, WebSearching):
            stats.searching = True
            view.set_searching(True)
            if header is not None:
                header.show(stats)
            elif self.is_attached:
                self.status.streaming(stats)
        elif isinstance(event, WebSources):
            view.show_sources(tuple(reply.sources))
        elif isinstance(event, ServerTimingsEvent):
            stats.server_timings = event.timings

    # -- sources and details ------------------------------------------------------

    def open_source(self: "ChatPane", view: "MessageView", number: int) -> None:
        """Open source ``number`` (from 1) of a reply in the browser: only on purpose (a key or
        the palette), never on a click."""
        sources = view.message.sources
        if not sources:
            self.tui.notify("This message has no sources: only replies that searched the web (f5) have them.")
            return
        if not 1 <= number <= len(sources):
            self.tui.notify(f"This reply has {len(sources)} source{'s' if len(sources) != 1 else ''}.")
            return
        source = sources[number - 1]
        if not source.url:  # the server's address was not a plain http(s) one: never opened
            self.tui.notify(f"Source {number} has no address that can be opened.", severity="warning")
            return
        if self._open_in_browser(source.url):
            self.tui.notify(f"Opening source {number}: {source.url}", title="Web search")
        else:  # no browser here (a server over ssh): the address, to paste elsewhere
            self.tui.copy_to_clipboard(source.url)
            self.tui.notify(f"No browser could be started here; source {number}'s address is copied to the "
                            f"clipboard: {source.url}", title="Web search", timeout=10)

    def _open_in_browser(self: "ChatPane", url: str) -> bool:
        """Open ``url`` in the user's browser; False when there is none. A browser that runs in
        the terminal (lynx, w3m) gets the terminal while it runs: the app steps aside."""
        if self.app.is_web:  # served in a browser (textual-serve): that browser opens it
            self.app.open_url(url)
            return True
        import webbrowser

        try:
            browser = webbrowser.get()
        except webbrowser.Error:
            return False
        if type(browser) is webbrowser.GenericBrowser:  # a console browser, which waits until it is closed
            from textual.app import SuspendNotSupported

            try:
                with self.app.suspend():
                    return bool(browser.open(url))
            except SuspendNotSupported:
                return False
        return bool(browser.open(url))

    def show_details(self: "ChatPane", view: "MessageView") -> None:
        """A selected reply's figures in the status line: its timings beside the server's own."""
        if self.is_streaming or self.editing is not None:
            return
        if view.message.role == "assistant" and view.message.status != "streaming":
            self.status.details(view.message, self.branch_text())
        else:
            self.hide_details()

    def hide_details(self: "ChatPane") -> None:
        """The status line back to what the chat is doing, if it showed a reply's details."""
        if self.status.state == "reply":
            self.show_idle_status()
