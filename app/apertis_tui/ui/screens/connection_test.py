"""The settings screen's "Test connection" (ctrl+t): ask ``/models`` with the key and base URL
as typed, before anything is saved.

The service answers at two addresses (``APERTIS_BASE_URLS``; the app's ``startup.base_url_pair``,
which tests point at local servers). When the one typed cannot be reached (network, DNS, TLS,
Cloudflare refusing this client), the other is asked too and, if it answers, offered: it goes
into the field only if the user says so, and is saved with the rest by ctrl+s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.widgets import Input

from ...core.api import ApertisClient
from ...core.errors import cannot_connect
from ...core.settings.validation import other_base_url
from ...core.types import ApiError
from ..widgets.param_fields import FieldRow
from .confirm import ConfirmDialog

if TYPE_CHECKING:
    from ..app import ApertisApp


class ConnectionTest:
    """Mixed into ``SettingsScreen``, whose ``_connection()`` reads the form's key, base URL
    and timeouts (with their problems) and whose ``#row-test`` shows the outcome."""

    tui: "ApertisApp"

    def action_test_connection(self) -> None:
        key, _, base_url, connect, read, problems = self._connection()
        row = self.query_one("#row-test", FieldRow)
        if problems:
            row.show(f"Fix this first: {next(iter(problems.values()))}.")
            return
        row.say(f"Asking {base_url}/models …", "-busy")
        self._test(base_url, key, connect, read)

    @work(exclusive=True, group="settings-test", exit_on_error=False)
    async def _test(self, base_url: str, key: str | None, connect: float, read: float) -> None:
        row = self.query_one("#row-test", FieldRow)
        try:
            count = await self._count_models(base_url, key, connect, read)
        except ApiError as error:
            # The service has two addresses: when this one cannot be reached, the other may be.
            other = other_base_url(base_url, self.tui.startup.base_url_pair)
            if other is None or not cannot_connect(error):
                row.say(error.sentence, "-error")
                return
            row.say(f"{error.sentence} Trying {other} …", "-busy")
            try:
                count = await self._count_models(other, key, connect, read)
            except ApiError:
                row.say(f"{error.sentence} {other} did not answer either.", "-error")
                return
            row.say(f"{base_url} did not answer, but {other} did (OK — {count} models).", "-ok")
            self._offer_base_url(base_url, other, count, error)
        else:
            row.say(f"OK — {count} model{'s' if count != 1 else ''}", "-ok")

    async def _count_models(self, base_url: str, key: str | None, connect: float, read: float) -> int:
        user_agent = self.tui.connection.user_agent.value
        client = ApertisClient(base_url, key, connect_timeout=connect, read_timeout=read, user_agent=user_agent)
        try:
            return len(await client.list_models())
        finally:
            await client.aclose()

    def _offer_base_url(self, failed: str, other: str, count: int, error: ApiError) -> None:
        """Ask before using the other address: it goes into the field, saved with ctrl+s."""
        def answered(use: bool | None) -> None:
            if use:
                field = self.query_one("#base_url", Input)
                field.value = other
                field.focus()
                self.notify(f"The base URL is now {other}: ctrl+s saves it.", title="Settings", markup=False)

        self.app.push_screen(ConfirmDialog(
            f"{failed} could not be reached from here: {error.message}\n\n{other} is the same service, and it "
            f"answers ({count} models). Use it as the base URL?",
            yes="Use the other address", no="Keep this one"), answered)
