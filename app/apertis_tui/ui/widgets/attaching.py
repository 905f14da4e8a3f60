"""The chat pane's side of attachments: ``@`` mentions and their completions, pasted paths, the
tray of chips above the prompt, sending (once every attachment is ready), ctrl+l, previews,
editing a message that has attachments, and a model that refuses images.

What a path becomes is ``core.attachments``; it runs in threads (the tray's workers, the
completion worker), never on the event loop. The data goes one way: the prompt's text and the
tray's attachments -> ``ChatPane.send`` -> the store (the message and its files in one
transaction) -> the worker, whose context carries them from the store.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

# Nothing of attachments is imported for the first frame (the prompt's TextArea, Pillow, the
# path helpers): each piece comes with the first use that needs it.
if TYPE_CHECKING:
    from textual.widgets import TextArea

    from ...core.attachments.mentions import Candidate, Mention
    from ...core.types import AttachmentInfo
    from .attachment_tray import AttachmentTray
    from .chat_pane import ChatPane
    from .message_view import MessageView
    from .path_completion import PathCompletion
    from .prompt_input import PromptInput


class Attaching:
    """Mixed into ``ChatPane``."""

    _send_when_ready = False  # enter was pressed while attachments were still being prepared
    _stashed: list | None = None  # the draft's tray items while a message is being edited

    # -- the tray and the list, mounted on first use ---------------------------------

    @property
    def launch_dir(self: "ChatPane") -> Path:
        """Where relative paths start: the folder the app was started in."""
        return self.tui.startup.cwd

    def _found_tray(self: "ChatPane") -> "AttachmentTray | None":
        found = self.query_children("#attachments")
        return found.first() if found else None  # type: ignore[return-value]

    @property
    def tray(self: "ChatPane") -> "AttachmentTray":
        tray = self._found_tray()
        if tray is None:
            from .attachment_tray import AttachmentTray

            tray = AttachmentTray(id="attachments")
            self.mount(tray, before=self.prompt)
        return tray

    @property
    def completion(self: "ChatPane") -> "PathCompletion":
        from .path_completion import PathCompletion

        found = self.query_children(PathCompletion)
        if found:
            return found.first()
        completion = PathCompletion(id="completion")
        self.mount(completion, before=self.prompt)
        return completion

    @property
    def has_attachments(self: "ChatPane") -> bool:
        tray = self._found_tray()
        return tray is not None and bool(tray.items)

    def attach_path(self: "ChatPane", path: Path) -> bool:
        """Start preparing ``path`` for the next message; False when it is attached already."""
        from ...core.attachments.mentions import display_name

        path = Path(os.path.abspath(path))
        return self.tray.add(path, display_name(path, self.launch_dir), self.tui.settings.attachments)

    # -- mentions and their completions -------------------------------------------------

    def start_mention(self: "ChatPane") -> None:
        """The palette's "Attach a file or folder…": an @ at the cursor, and the list of paths opens."""
        self.swap_in_prompt()
        prompt = self.prompt
        row, column = prompt.cursor_location
        before = prompt.document.get_line(row)[:column]
        prompt.insert("@" if not before or before[-1].isspace() else " @")
        prompt.focus()

    def on_text_area_changed(self: "ChatPane", event: "TextArea.Changed") -> None:
        if event.text_area.id == "prompt":
            self._follow_mention(typed=True)

    def on_text_area_selection_changed(self: "ChatPane", event: "TextArea.SelectionChanged") -> None:
        if event.text_area.id == "prompt":
            self._follow_mention()

    def _follow_mention(self: "ChatPane", typed: bool = False) -> None:
        prompt = self.prompt
        row, column = prompt.cursor_location
        line = prompt.document.get_line(row)
        if "@" not in line:  # what nearly every keystroke finds: nothing to do
            if self.completing:
                self.hide_completion()
            return
        from ...core.attachments.mentions import existing, mention_at

        if typed and column >= 2 and line[column - 1] == " ":  # a space typed right after a mention
            closed = mention_at(line, column - 1)
            if closed is not None and closed.end == column - 1 and closed.path:
                path = existing(closed.path, self.launch_dir)
                if path is not None:
                    self.attach_path(path)
        mention = mention_at(line, column)
        if mention is None:
            self.hide_completion()
            return
        shown = self.query_children("#completion")
        if shown and shown.first().shown and (shown.first().mention, shown.first().row) == (mention, row):
            return
        self._complete(mention, row)

    @work(exclusive=True, group="completion", exit_on_error=False)
    async def _complete(self: "ChatPane", mention: "Mention", row: int) -> None:
        from ...core.attachments.mentions import candidates, mention_at

        rows = await asyncio.to_thread(candidates, mention.path, self.launch_dir)
        prompt = self.prompt
        at_row, column = prompt.cursor_location
        if at_row != row or mention_at(prompt.document.get_line(row), column) != mention or self._send_when_ready:
            return  # typed on meanwhile (a newer worker answers), or sent
        self.completion.show(rows, mention, row)
        prompt.completing = bool(rows)
        self.refresh_bindings()  # escape closes the list now

    def hide_completion(self: "ChatPane") -> None:
        self.workers.cancel_group(self, "completion")  # one still listing would show the list again
        for found in (*self.query_children("#completion"), *self.query_children("#prompt")):
            if found.id == "prompt":
                found.completing = False  # type: ignore[attr-defined]
            elif found.shown:  # type: ignore[attr-defined]
                found.hide()  # type: ignore[attr-defined]
                self.refresh_bindings()

    @property
    def completing(self: "ChatPane") -> bool:
        found = self.query_children("#completion")
        return bool(found) and found.first().shown  # type: ignore[attr-defined]

    def action_close_completion(self: "ChatPane") -> None:
        self.hide_completion()

    def on_prompt_input_completion_key(self: "ChatPane", event: "PromptInput.CompletionKey") -> None:
        event.stop()
        if event.what == "move":
            self.completion.move(event.step)
        elif event.what == "complete" and self.completion.current is not None:
            self._accept(self.completion.current)

    def on_path_completion_picked(self: "ChatPane", event) -> None:
        event.stop()
        self._accept(event.candidate)
        self.prompt.focus()

    def _accept(self: "ChatPane", candidate: "Candidate") -> None:
        """Put the completed path in the mention's place; a file is attached at once, a folder
        is opened (its entries are listed next; a space after it attaches the folder)."""
        from ...core.attachments.mentions import resolve, written

        completion, prompt = self.completion, self.prompt
        mention, row = completion.mention, completion.row
        if mention is None:
            return
        text = "@" + written(candidate.text)
        if candidate.is_dir and text.endswith('"'):
            text = text[:-1]  # left open: what is typed next goes on inside the quotes
        if not candidate.is_dir:
            text += " "
        result = prompt.replace(text, (row, mention.start), (row, mention.end))
        prompt.move_cursor(result.end_location)
        if not candidate.is_dir:
            self.hide_completion()
            self.attach_path(resolve(candidate.text, self.launch_dir))

    # -- pasted and dropped paths ----------------------------------------------------

    def on_prompt_input_paths_pasted(self: "ChatPane", event: "PromptInput.PathsPasted") -> None:
        from ...core.attachments.mentions import display_name

        event.stop()
        added = [path for path in event.paths if self.attach_path(path)]
        if added:
            names = ", ".join(display_name(Path(os.path.abspath(p)), self.launch_dir) for p in added)
            self.tui.notify(f"Attached {names} (a pasted path). ctrl+l lists the attachments; delete removes one.",
                            title="Attached", timeout=8)

    # -- sending ----------------------------------------------------------------

    def submit(self: "ChatPane", text: str) -> None:
        """Enter in the prompt: attach what the text mentions, then send the text with every
        attachment, at once or, while some are still being prepared, as soon as they are (a
        failure keeps the text in the prompt, and says why)."""
        self.hide_completion()
        from ...core.attachments.mentions import existing, mentions

        for path_text in mentions(text) if "@" in text else ():
            path = existing(path_text, self.launch_dir)
            if path is not None:
                self.attach_path(path)
        tray = self._found_tray()
        if tray is not None and tray.preparing:
            self._send_when_ready = True
            names = ", ".join(item.name for item in tray.items if not item.ready)
            self.status.preparing(names)
            self.refresh_bindings()
            return
        if self.send(text, tray.ready if tray is not None else ()):
            self.prompt.clear()
            if tray is not None:
                tray.clear()

    def on_attachment_tray_settled(self: "ChatPane", event: "AttachmentTray.Settled") -> None:
        event.stop()
        if not self._send_when_ready:
            return
        self._send_when_ready = False
        self.refresh_bindings()
        if event.failed:  # the tray said why; the text stays
            self.show_idle_status()
            return
        self.submit(self.prompt.text)

    def action_cancel_send(self: "ChatPane") -> None:
        self._send_when_ready = False
        self.refresh_bindings()
        self.show_idle_status()
        self.tui.notify("Not sent yet: the attachments are still being prepared; enter sends once they are.")

    def on_attachment_tray_changed(self: "ChatPane", event: "AttachmentTray.Changed") -> None:
        event.stop()
        self.refresh_bindings()

    # -- ctrl+l and previews --------------------------------------------------------

    def action_attachments(self: "ChatPane") -> None:
        tray = self._found_tray()
        if tray is None or not tray.items:
            self.tui.notify("The prompt has no attachments: type @ and a path (tab completes), or paste or drop "
                            "a file.")
            return
        from ..screens.attachments_dialog import AttachmentsDialog

        self.tui.push_screen(AttachmentsDialog(tray=tray, load=self._stored_data))

    def on_attachment_tray_clicked(self: "ChatPane", event: "AttachmentTray.Clicked") -> None:
        event.stop()
        self.action_attachments()

    def on_message_view_chips_clicked(self: "ChatPane", event: "MessageView.ChipsClicked") -> None:
        event.stop()
        from ..screens.attachments_dialog import AttachmentsDialog

        self.tui.push_screen(AttachmentsDialog(infos=list(event.message.attachments), load=self._stored_data))

    def _stored_data(self: "ChatPane", info: "AttachmentInfo") -> bytes:
        """An attachment's bytes (called in a thread): its own, or the stored ones."""
        data = getattr(info, "data", None)
        if data is not None:
            return data
        return self.tui.store.attachment_data([info.sha256]).get(info.sha256, b"")

    # -- editing a message that has attachments ------------------------------------------

    def attachments_for_edit(self: "ChatPane", infos: "tuple[AttachmentInfo, ...]", *, first: bool) -> None:
        """The message being edited brings its attachments into the tray (the draft's wait)."""
        if not infos and self._found_tray() is None:
            return
        old = self.tray.set_stored(infos)
        if first:
            self._stashed = old

    def attachments_after_edit(self: "ChatPane", *, restore_draft: bool) -> None:
        stashed, self._stashed = self._stashed, None
        tray = self._found_tray()
        if tray is not None and restore_draft:
            tray.restore(stashed or [])

    # -- a model that takes no images ------------------------------------------------

    def offer_vision_model(self: "ChatPane") -> None:
        from ..screens.confirm import ConfirmDialog

        def answered(yes: bool | None) -> None:
            if yes and self.is_attached:
                self._pick_vision_model()

        self.tui.push_screen(ConfirmDialog(
            f"{self.model} does not take images. Pick a model that does, and ask again with it?",
            yes="Pick a model (ctrl+o)", no="Not now"), answered)

    def _pick_vision_model(self: "ChatPane") -> None:
        from ...core.models import record_used
        from ..screens.model_picker import ModelPicker

        picker = ModelPicker(self.model)

        def chosen(model: str | None) -> None:
            if model and self.is_attached:
                record_used(model, picker.prefs.path)
                self.set_model(model)
                self.action_regenerate()

        self.tui.push_screen(picker, chosen)
