"""`make demo`: try apertis-tui with no account, against the bundled fake server.

Starts the test suite's OpenAI-compatible server on 127.0.0.1 (a free port) and the app pointed
at it, with a throwaway key, settings file and history under a temporary folder. Models named
``test/...`` show the wire's quirks and errors (``test/long``, ``test/reasoning``, ``test/cut``,
``test/err-429`` ...); any other listed model gives a short Markdown answer. The settings name
the suite's MCP server (tests/mcp_server.py) as the tool server ``calc``: pick ``test/agent`` and
write ``call add {"a": 2, "b": 3}`` to see a tool call asked, run and answered.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fake_server import FakeServer  # noqa: E402

DEMO_KEY = "demo-key"


def main() -> int:
    from apertis_tui.cli import main as cli_main

    home = Path(tempfile.mkdtemp(prefix="apertis-tui-demo-"))
    with FakeServer(key=DEMO_KEY, rate=120) as server:
        server.billing.used_usd = 11.58  # the key has $8.42 left; each answer costs a little more
        os.environ["APERTIS_API_KEY"] = DEMO_KEY
        os.environ.pop("STIMA_API_KEY", None)
        config = home / "config.toml"
        if not config.exists():
            server_script = Path(__file__).with_name("mcp_server.py")
            config.write_text(f'[mcp.servers.calc]\ncommand = {json.dumps(sys.executable)}\n'
                              f'args = [{json.dumps(str(server_script))}]\n', encoding="utf-8")
        args = ["--base-url", server.base_url, "--config", str(home / "config.toml"), "--db", str(home / "history.db")]
        if not any(a in ("-m", "--model") for a in sys.argv[1:]):
            args += ["--model", "test/reasoning"]
        code = cli_main(args + sys.argv[1:])
    print(f"demo history and settings were in {home}")
    return code


if __name__ == "__main__":
    sys.exit(main())
