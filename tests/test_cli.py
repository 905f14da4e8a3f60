"""The command line: arguments, startup problems, and the installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from apertis_tui import __version__, cli
from apertis_tui.ui.app import ApertisApp

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "apertis_tui", *args],
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def captured(monkeypatch):
    """Run ``cli.main`` without a terminal: record the Startup the app would get."""
    seen = {}

    def fake_run(self, *args, **kwargs):
        seen["startup"] = self.startup
        seen["api_key"] = self.api_key

    monkeypatch.setattr(ApertisApp, "run", fake_run)
    return seen


def test_version_and_help():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"apertis-tui {__version__}"
    result = run_cli("--help")
    assert result.returncode == 0
    for option in ("PROMPT", "--model", "--base-url", "--config", "--db", "--version"):
        assert option in result.stdout


def test_arguments_reach_the_app(captured, tmp_path, monkeypatch):
    monkeypatch.setenv("STIMA_API_KEY", "from-env")
    code = cli.main(["what is WAL?", "-m", "claude-sonnet-4-20250514", "--base-url", "http://127.0.0.1:9/v1/",
                     "--config", str(tmp_path / "c.toml"), "--db", str(tmp_path / "h.db")])
    assert code == 0
    startup = captured["startup"]
    assert startup.prompt == "what is WAL?"
    assert startup.model == "claude-sonnet-4-20250514"
    assert startup.connection.base_url == ("http://127.0.0.1:9/v1", "flag")
    assert startup.config_path == tmp_path / "c.toml"
    assert captured["api_key"] == "from-env"
    assert (tmp_path / "h.db").exists()


def test_base_url_precedence(captured, tmp_path, monkeypatch):
    (tmp_path / "c.toml").write_text('base_url = "http://from-file/v1"\n')
    args = ["--config", str(tmp_path / "c.toml"), "--db", str(tmp_path / "h.db")]
    cli.main(args)
    assert captured["startup"].connection.base_url == ("http://from-file/v1", "config")
    monkeypatch.setenv("APERTIS_BASE_URL", "http://from-env/v1")
    cli.main(args)
    assert captured["startup"].connection.base_url == ("http://from-env/v1", "APERTIS_BASE_URL")
    cli.main(args + ["--base-url", "http://from-flag/v1"])
    assert captured["startup"].connection.base_url == ("http://from-flag/v1", "flag")


def test_invalid_config_starts_with_defaults_and_keeps_the_file(captured, tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text('default_model = "x"\ntemperature = = 3\n')
    before = bad.read_bytes()
    assert cli.main(["--config", str(bad), "--db", str(tmp_path / "h.db")]) == 0
    error = captured["startup"].config_error
    assert error is not None and str(bad) in str(error) and "line 2" in str(error)
    assert bad.read_bytes() == before


def test_bad_base_url_is_a_sentence_not_a_traceback(tmp_path):
    result = run_cli("--base-url", "ftp://nope", "--db", str(tmp_path / "h.db"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--base-url" in result.stderr


def test_corrupt_history_is_not_touched_without_consent(tmp_path):
    db = tmp_path / "history.db"
    db.write_bytes(b"this is not a database" * 100)
    result = run_cli("--db", str(db), env={"APERTIS_API_KEY": "k"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "damaged" in result.stderr.lower() or "not a database" in result.stderr.lower()
    assert db.read_bytes() == b"this is not a database" * 100


@pytest.mark.skipif(os.environ.get("APERTIS_SKIP_WHEEL") == "1", reason="APERTIS_SKIP_WHEEL=1")
def test_wheel_installs_and_ships_its_styles(tmp_path):
    """Build the wheel, install it into a clean venv, and start the app headless from there."""
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(dist.glob("apertis_tui-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for sheet in ("base", "conversation", "dialogs"):
        assert f"apertis_tui/styles/{sheet}.tcss" in names

    target = tmp_path / "venv"
    venv.create(target, with_pip=True, system_site_packages=False)
    python = target / "bin" / "python"
    install = subprocess.run([python, "-m", "pip", "install", "--quiet", str(wheel)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-2000:]
    env = {**os.environ, "APERTIS_API_KEY": "k", "HOME": str(tmp_path)}
    env.pop("PYTHONPATH", None)
    version = subprocess.run([target / "bin" / "apertis-tui", "--version"], capture_output=True, text=True, env=env)
    assert version.stdout.strip() == f"apertis-tui {__version__}", version.stderr
    # Headless start from the installed copy: the styles must load from inside the package.
    probe = (
        "import asyncio, apertis_tui.ui.paths as p, apertis_tui\n"
        "from apertis_tui.ui.app import ApertisApp, Startup\n"
        "from apertis_tui.core.settings.file import Settings\n"
        "from apertis_tui.core.settings.resolve import resolve_connection\n"
        "from apertis_tui.core.store import History\n"
        "import pathlib, tempfile\n"
        "d = pathlib.Path(tempfile.mkdtemp())\n"
        "assert 'site-packages' in str(p.styles_dir()), p.styles_dir()\n"
        "app = ApertisApp(Startup(settings=Settings(), config_path=d / 'c.toml', store=History(d / 'h.db'),\n"
        "                 connection=resolve_connection(Settings(), {'APERTIS_API_KEY': 'k'},\n"
        "                                               base_url_flag='http://127.0.0.1:9/v1')))\n"
        "async def go():\n"
        "    async with app.run_test() as pilot:\n"
        "        await pilot.pause()\n"
        "        print('title-bg', app.query_one('ChatTitle').styles.background.a)\n"
        "asyncio.run(go())\n"
    )
    started = subprocess.run([python, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert started.returncode == 0, started.stderr[-3000:]
    assert "title-bg 1.0" in started.stdout  # conversation.tcss gave the title bar its background


def test_a_launch_without_arguments_gets_what_the_parser_would_give():
    """main() skips building the parser when there are no arguments; the two must agree."""
    assert vars(cli.build_parser().parse_args([])) == cli.NO_ARGUMENTS


def test_no_arguments_reach_the_app_as_defaults(captured, tmp_path, monkeypatch):
    monkeypatch.setenv("APERTIS_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("APERTIS_API_KEY", "from-env")
    monkeypatch.setattr(sys, "argv", ["apertis-tui"])
    assert cli.main() == 0
    startup = captured["startup"]
    assert startup.prompt is None and startup.model is None
    assert startup.connection.base_url == ("http://127.0.0.1:9/v1", "APERTIS_BASE_URL")
