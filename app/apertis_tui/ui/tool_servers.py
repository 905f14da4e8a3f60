"""The app's MCP servers: read from the settings, started after the first frame (only when one
is configured: ``mcp`` is imported then, not before), restarted when the settings change,
stopped with the app. Screens and chats follow ``changed`` instead of polling the hub.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from textual.signal import Signal

from ..core.settings.file import ConfigError, Settings, save_settings
from ..core.tools.config import ToolConfigError, ToolsConfig, store_disabled, tools_config

if TYPE_CHECKING:
    from ..core.tools import ToolHub
    from .app import ApertisApp

log = logging.getLogger(__name__)


def _import_sdk() -> None:
    """What starting a server imports (the client session and both transports)."""
    import mcp.client.stdio  # noqa: F401
    import mcp.client.streamable_http  # noqa: F401
    import mcp.client.session  # noqa: F401  (the client session the servers run in)


class ToolServers:
    """``hub`` is None until a server is configured and the first frame is out."""

    def __init__(self, app: "ApertisApp") -> None:
        self.app = app
        self.hub: ToolHub | None = None
        self.error: str | None = None  # why the tools configuration could not be read
        self.config = self._read(app.settings)
        # Published with a server's name whenever its state or its tools change.
        self.changed: Signal[str] = Signal(app, "tools-changed")
        self._said: set[tuple[str, str]] = set()  # (server, reason) failures already told
        self._launched = asyncio.Event()  # the hub's servers were told to start

    def _read(self, settings: Settings) -> ToolsConfig:
        try:
            config = tools_config(settings, self.app.startup.config_path)
        except ToolConfigError as error:
            self.error = str(error)
            return ToolsConfig()
        self.error = None
        return config

    @property
    def default_on(self) -> bool:
        """Tools on for a chat that does not say: a server is configured and not turned off."""
        return bool(self.config.servers) and self.config.enabled

    def start(self) -> None:
        """Start the configured servers in the background (after the first frame)."""
        if self.error is not None:
            self.app.notify(self.error, title="Tools not loaded", severity="error", timeout=30)
        if self.config.servers and self.hub is None:
            self.hub = self._make_hub(self.config)
            self.app.run_worker(self._start_off_the_loop(self.hub), group="tool-servers", exit_on_error=False)

    async def _start_off_the_loop(self, hub: "ToolHub") -> None:
        """Import the SDK in a thread, then start the servers: imported in the event loop, it
        held keys and frames for ~0.5 s right after the first frame."""
        try:
            await asyncio.to_thread(_import_sdk)
        finally:  # (an SDK that cannot be imported fails each server with its sentence)
            if self.hub is hub:
                hub.start()
            self._launched.set()

    async def wait_started(self, timeout: float | None = None) -> None:
        """Wait until every configured server is ready or failed (at most ``timeout`` seconds
        in all); returns at once when none is configured. Raises TimeoutError."""
        if self.hub is None:
            return
        async with asyncio.timeout(timeout):
            await self._launched.wait()
            await self.hub.wait_started()

    def _make_hub(self, config: ToolsConfig) -> "ToolHub":
        from ..core.tools.hub import ToolHub

        # The SDK logs through ``logging`` (mcp.*): into our log file, not onto the terminal.
        logging.getLogger("mcp").setLevel(logging.WARNING)
        return ToolHub(config, on_change=self._announce)

    def _announce(self, name: str) -> None:
        hub = self.hub
        if hub is not None and name:
            status = hub.status(name) if name in {s.name for s in hub.servers()} else None
            if status is not None and status.state.value == "failed":
                said = (name, status.reason or "")
                if said not in self._said:  # once per failure, not at every redraw
                    self._said.add(said)
                    reason = status.reason or f"The tool server '{name}' stopped."
                    self.app.notify(f"{reason} f6 shows its last output.", title="Tools", severity="warning",
                                    timeout=12)
        self.changed.publish(name)

    async def apply(self, settings: Settings) -> None:
        """New settings were saved: servers whose entries changed restart, others run on."""
        config = self._read(settings)
        if self.error is not None:
            self.app.notify(self.error, title="Tools not changed", severity="error", timeout=30)
            return
        self.config = config
        if self.hub is not None:
            await self.hub.apply(config)
        elif config.servers:
            self.hub = self._make_hub(config)
            self.hub.start()
            self._launched.set()
        self._announce("")

    def set_tool_enabled(self, server: str, tool: str, enabled: bool) -> None:
        """Switch one tool on or off (by its server's own name for it): at once in the hub, then
        in the settings file as ``[tools] disabled``. Not through ``app.apply_settings``: that
        would restart servers for nothing; the hub has the new state already. A file that cannot
        be written is a notice; the switch holds for this session."""
        hub = self.hub
        if hub is None:
            return
        hub.set_tool_enabled(server, tool, enabled)
        self.config = replace(self.config, disabled=hub.disabled)
        app = self.app
        try:
            store_disabled(app.settings.extra, hub.disabled)
            save_settings(app.settings, app.startup.config_path)
        except (ConfigError, ToolConfigError) as error:
            state = "on" if enabled else "off"
            app.notify(f"The tool is switched {state} for this session, but not in the settings file: {error}",
                       title="Tools", severity="error", timeout=20)

    async def stop(self) -> None:
        if self.hub is not None:
            try:
                await self.hub.stop_all()
            except Exception:  # the app is closing: a server that fails to stop must not keep it open
                log.exception("stopping the tool servers failed")
