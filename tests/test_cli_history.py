"""`apertis-tui history` and `apertis-tui export` from the shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from apertis_tui import cli
from apertis_tui.cli_history import subcommand_index
from apertis_tui.core.store import History
from apertis_tui.ui.app import ApertisApp

KEY = "sk-cli-abcdefghijklmnop"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "h.db"
    with History(path) as store:
        older = store.create_chat("gpt-4o", title="Old [bold]SQLite[/] notes")
        store.add_message(older.id, "user", "how does WAL work? key " + KEY)
        reply = store.start_assistant(older.id, "claude-sonnet-4-20250514")
        store.finish_message(reply.id, content="The write-ahead log keeps changes.", status="complete",
                             prompt_tokens=3, completion_tokens=9)
        newer = store.create_chat("gpt-4o", title="Lisbon trip")
        store.add_message(newer.id, "user", "what to see")
        hidden = store.create_chat("m", title="Archived one")
        store.add_message(hidden.id, "user", "walrus facts")
        store.update_chat(hidden.id, archived=True)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    ("argv", "index"),
    [
        (["history"], 0),
        (["--db", "x.db", "history"], 2),
        (["--db=x.db", "export", "3"], 1),
        (["-m", "history"], None),  # "history" is the model's name there
        (["--", "history"], None),  # after --, a prompt
        (["what is history?"], None),
        (["hello", "history"], None),
        ([], None),
    ],
)
def test_subcommand_is_the_first_positional_word(argv, index) -> None:
    assert subcommand_index(argv) == index


def test_history_lists_chats_newest_first(capsys, db: Path) -> None:
    code, out, _ = run(capsys, "history", "--db", str(db))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "LAST", "ACTIVITY", "MSGS", "MODELS", "TITLE"]
    assert "Lisbon trip" in lines[1] and "Old [bold]SQLite[/] notes" in lines[2]
    assert "claude-sonnet-4-20250514" in lines[2] and " 2 " in lines[2]
    assert "Archived one" not in out
    # --db before the subcommand works too; --archived and --all choose which chats.
    code, out, _ = run(capsys, "--db", str(db), "history", "--archived")
    assert code == 0 and "Archived one" in out and "Lisbon" not in out
    code, out, _ = run(capsys, "history", "--all", "--db", str(db))
    assert "Archived one  (archived)" in out and "Lisbon" in out


def test_history_limit_says_how_many_are_left_out(capsys, db: Path) -> None:
    code, out, err = run(capsys, "history", "-n", "1", "--db", str(db))
    assert code == 0 and len(out.splitlines()) == 2 and "(1 of 2 chats; -n 0 lists them all)" in err


def test_history_search(capsys, db: Path) -> None:
    code, out, _ = run(capsys, "history", "-s", "write ahead", "--db", str(db))
    assert code == 0
    assert "Old [bold]SQLite[/] notes" in out and "The write-ahead log keeps changes." in out
    assert "\x02" not in out and "\x1b" not in out  # not a terminal: no highlighting codes
    code, out, _ = run(capsys, "history", "-s", "walrus", "--db", str(db))
    assert "Archived one  (archived)" in out  # search covers archived chats
    code, out, _ = run(capsys, "history", "-s", "nothing-like-this", "--db", str(db))
    assert code == 0 and "No title or message contains those words." in out
    code, _, err = run(capsys, "history", "-s", '"*-:(', "--db", str(db))
    assert code == 2 and "letters or digits" in err


def test_history_without_a_file_creates_nothing(capsys, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "history", "--db", str(tmp_path / "none.db"))
    assert code == 0 and "No history yet" in out and not (tmp_path / "none.db").exists()


def test_export_markdown_and_json_to_stdout(capsys, db: Path, monkeypatch) -> None:
    monkeypatch.setenv("APERTIS_API_KEY", KEY)
    code, out, _ = run(capsys, "export", "1", "--db", str(db))
    assert code == 0 and out.startswith("# Old [bold]SQLite[/] notes\n")
    assert "model claude-sonnet-4-20250514" in out and "3 prompt + 9 completion tokens" in out
    assert "The write-ahead log keeps changes." in out and "how does WAL work?" in out
    assert KEY not in out
    code, out, _ = run(capsys, "export", "1", "--format", "json", "--db", str(db))
    record = json.loads(out)
    assert [m["model"] for m in record["messages"]] == [None, "claude-sonnet-4-20250514"]
    assert KEY not in out


def test_export_to_a_file_refuses_to_replace_without_force(capsys, db: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    code, out, err = run(capsys, "export", "2", "-o", str(target), "--db", str(db))
    assert code == 0 and out == "" and f"Wrote chat 2 to {target}" in err
    assert json.loads(target.read_text())["chat"]["title"] == "Lisbon trip"  # .json chose the format
    target.write_text("keep me")
    code, _, err = run(capsys, "export", "2", "-o", str(target), "--db", str(db))
    assert code == 1 and "already exists; add --force" in err and target.read_text() == "keep me"
    code, _, _ = run(capsys, "export", "2", "-o", str(target), "--force", "--format", "md", "--db", str(db))
    assert code == 0 and target.read_text().startswith("# Lisbon trip")


def test_export_problems_are_sentences(capsys, db: Path, tmp_path: Path) -> None:
    code, _, err = run(capsys, "export", "99", "--db", str(db))
    assert code == 1 and "There is no chat 99 in the history." in err
    with pytest.raises(SystemExit) as exited:
        cli.main(["export", "abc", "--db", str(db)])
    assert exited.value.code == 2 and "'abc' is not a chat number" in capsys.readouterr().err
    code, _, err = run(capsys, "export", "1", "-o", str(tmp_path / "no" / "such" / "x.md"), "--db", str(db))
    assert code == 1 and "does not exist" in err
    code, _, err = run(capsys, "export", "1", "--db", str(tmp_path / "none.db"))
    assert code == 1 and "no history" in err


def test_a_prompt_still_starts_the_app(monkeypatch, tmp_path: Path) -> None:
    seen = {}
    monkeypatch.setattr(ApertisApp, "run", lambda self, *a, **k: seen.setdefault("prompt", self.startup.prompt))
    assert cli.main(["some prompt", "--db", str(tmp_path / "h.db"), "--config", str(tmp_path / "c.toml")]) == 0
    assert seen["prompt"] == "some prompt"
    seen.clear()
    assert cli.main(["--db", str(tmp_path / "h.db"), "--config", str(tmp_path / "c.toml"), "--", "history"]) == 0
    assert seen["prompt"] == "history"


def test_real_process_lists_and_exports(db: Path) -> None:
    env = {**os.environ, "APERTIS_API_KEY": KEY}
    listed = subprocess.run([sys.executable, "-m", "apertis_tui", "history", "--db", str(db)],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=env)
    assert listed.returncode == 0 and "Lisbon trip" in listed.stdout
    exported = subprocess.run([sys.executable, "-m", "apertis_tui", "export", "1", "--format", "md", "--db", str(db)],
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=env)
    assert exported.returncode == 0 and "The write-ahead log keeps changes." in exported.stdout
    assert KEY not in exported.stdout
    helped = subprocess.run([sys.executable, "-m", "apertis_tui", "--help"], capture_output=True, text=True, timeout=60)
    words = " ".join(helped.stdout.split())  # argparse wraps the epilog
    assert "apertis-tui history" in words and "apertis-tui export CHAT_ID" in words
