"""core/store/export.py: a chat to Markdown and to JSON, and writing the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apertis_tui.core.store.export import (
    JSON_FORMAT,
    ExportError,
    ExportExists,
    chat_to_json,
    chat_to_markdown,
    default_path,
    export_chat,
    format_for_path,
    render,
    write_export,
)
from apertis_tui.core.store import History
from apertis_tui.core.types import ChatParams

KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def store(tmp_path: Path):
    h = History(tmp_path / "history.db")
    yield h
    h.close()


@pytest.fixture
def chat(store: History):
    """A chat with every kind of message: plain, reasoning, usage, error, stopped, another version, tools."""
    c = store.create_chat("gpt-4o", title="SQLite WAL\x1b]0;pwned\x07 questions", system_prompt="Be terse.",
                          params=ChatParams(temperature=0.2, stop=["END"]))
    store.add_message(c.id, "user", "What is WAL? My key is " + KEY)
    first = store.start_assistant(c.id, "claude-sonnet-4-20250514")
    store.finish_message(first.id, content="Write-ahead logging.\n\n```sql\nPRAGMA journal_mode=WAL;\n```",
                         reasoning="The user asks about SQLite.", status="complete", prompt_tokens=12,
                         completion_tokens=34, ttft_ms=250, duration_ms=1500)
    second = store.start_assistant(c.id, "gpt-4o", parent_id=first.parent_id)  # regenerated: a sibling
    store.finish_message(second.id, content="It is a journal mode.", status="stopped")
    store.add_message(c.id, "user", "And checkpoints?")
    failed = store.start_assistant(c.id, "deepseek-r1")
    store.finish_message(failed.id, content="", status="error", error="Too many requests (429). Wait 5 s.")
    tool = store.start_assistant(c.id, "gpt-4o")
    store.finish_message(tool.id, content="", status="complete",
                         tool_calls=[{"id": "call_1", "type": "function",
                                      "function": {"name": "lookup", "arguments": "{\"q\": \"```\"}"}}])
    return store.get_chat(c.id)


def test_markdown_has_every_message_with_role_model_time_status_usage_reasoning(store, chat) -> None:
    messages = store.messages(chat.id)
    text = chat_to_markdown(chat, messages, secret=KEY)
    assert text.startswith("# SQLite WAL]0;pwned questions\n")  # controls stripped from the title
    assert "\x1b" not in text and "\x07" not in text
    assert "- **Model for the next turn:** gpt-4o" in text
    assert "temperature=0.2" in text and "stop=['END']" in text
    assert "> Be terse." in text
    for message in messages:
        assert message.created_at in text
        if message.model:
            assert f"model {message.model}" in text
        if message.content:
            assert message.content.replace(KEY, "[redacted]") in text
    assert "12 prompt + 34 completion tokens · first token 250 ms · 1.5 s" in text
    assert "<summary>Reasoning</summary>" in text and "The user asks about SQLite." in text
    assert "<summary>Other versions of this turn (1)</summary>" in text  # the first try, folded
    assert text.index("It is a journal mode.") < text.index("<summary>Other versions") < text.index("Write-ahead")
    assert "stopped (by the user)" in text
    assert "> **Error:** Too many requests (429). Wait 5 s." in text
    assert "````json" in text  # the fence outgrows the backticks inside the tool call
    assert text.count("\n## ") == len(messages) - 1 + 1  # the current path, and the system prompt's section
    assert text.count("\n### ") == 1  # the other version
    assert "- **Messages:** 5 on this branch, 6 in all" in text
    assert KEY not in text and "[redacted]" in text


def test_json_has_every_field_and_parses_back(store, chat) -> None:
    messages = store.messages(chat.id)
    record = json.loads(chat_to_json(chat, messages, secret=KEY))
    assert record["format"] == JSON_FORMAT and record["version"] == 2
    # The whole tree: each message with its parent, and the leaf that is current.
    assert [m["parent_id"] for m in record["messages"]] == [m.parent_id for m in messages]
    assert record["messages"][1]["parent_id"] == record["messages"][2]["parent_id"] == messages[0].id
    assert record["chat"]["current_id"] == chat.current_id == messages[-1].id
    assert record["chat"]["title"] == chat.title and record["chat"]["params"] == {"temperature": 0.2, "stop": ["END"]}
    assert record["chat"]["system_prompt"] == "Be terse."
    assert [m["id"] for m in record["messages"]] == [m.id for m in messages]
    assert [m["role"] for m in record["messages"]] == [m.role for m in messages]
    assert [m["model"] for m in record["messages"]] == [m.model for m in messages]
    assert [m["status"] for m in record["messages"]] == [m.status for m in messages]
    assert [m["created_at"] for m in record["messages"]] == [m.created_at for m in messages]
    first = record["messages"][1]
    assert first["usage"] == {"prompt_tokens": 12, "completion_tokens": 34, "total_tokens": 46}
    assert first["reasoning"] == "The user asks about SQLite." and first["ttft_ms"] == 250
    assert record["messages"][0]["usage"] is None
    assert record["messages"][-2]["error"].startswith("Too many requests")
    assert record["messages"][-1]["tool_calls"][0]["function"]["name"] == "lookup"
    assert record["messages"][0]["content"].endswith("[redacted]")
    assert KEY not in json.dumps(record)


def test_a_key_prefix_echoed_by_a_proxy_is_removed_too(store) -> None:
    c = store.create_chat("m", title="t")
    store.add_message(c.id, "user", f"the proxy said {KEY[:12]}**** is invalid")
    for fmt in ("md", "json"):
        assert KEY[:12] not in export_chat(store, c.id, fmt, secret=KEY)


def test_export_chat_and_render(store, chat) -> None:
    def timeless(text: str) -> list[str]:  # the export time differs by a few milliseconds
        return [line for line in text.splitlines() if "Exported" not in line and "exported_at" not in line]

    for fmt in ("md", "json"):
        assert timeless(export_chat(store, chat.id, fmt)) == timeless(render(chat, store.messages(chat.id), fmt))
    assert json.loads(export_chat(store, chat.id, "json"))["chat"]["id"] == chat.id
    with pytest.raises(ExportError, match="no chat 999"):
        export_chat(store, 999, "md")
    with pytest.raises(ExportError, match="Unknown export format"):
        render(chat, [], "pdf")  # type: ignore[arg-type]


def test_empty_chat_exports(store) -> None:
    c = store.create_chat("m")
    assert "# Untitled chat" in export_chat(store, c.id, "md")
    assert json.loads(export_chat(store, c.id, "json"))["messages"] == []


def test_default_path_and_format_for_path(tmp_path: Path) -> None:
    assert default_path(7, "md", tmp_path) == tmp_path / "apertis-chat-7.md"
    assert default_path(7, "json", tmp_path) == tmp_path / "apertis-chat-7.json"
    assert default_path(7, "md").parent == Path.home()
    assert format_for_path("x.JSON") == "json"
    assert format_for_path("x.markdown") == "md"
    assert format_for_path("x.txt") == "md" and format_for_path("x", "json") == "json"


def test_write_export_never_replaces_without_being_asked(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "chat.md"
    assert write_export(target, "one") == target
    assert target.read_text() == "one"
    with pytest.raises(ExportExists) as caught:
        write_export(target, "two")
    assert caught.value.path == target and target.read_text() == "one"
    write_export(target, "two", overwrite=True)
    assert target.read_text() == "two"
    assert sorted(p.name for p in folder.iterdir()) == ["chat.md"]  # no temp file left behind


def test_write_export_problems_are_sentences(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        write_export(tmp_path / "missing" / "chat.md", "x")
    with pytest.raises(ExportError, match="is a folder"):
        write_export(tmp_path, "x")


def test_write_export_expands_the_home_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert write_export("~/exported.json", "{}") == tmp_path / "exported.json"
    assert (tmp_path / "exported.json").read_text() == "{}"
