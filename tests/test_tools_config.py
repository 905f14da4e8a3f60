"""The tools' configuration: [mcp.servers.NAME], mcp_config (a JSON file), [tools]; every bad
shape is one sentence naming the server and key."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from apertis_tui.core.tools import ToolConfigError, parse_tools_config, tools_config


def test_nothing_configured_means_no_servers_and_tools_off():
    config = parse_tools_config({})
    assert config.servers == () and config.enabled is False
    assert (config.timeout, config.max_result_bytes, config.max_rounds, config.start_timeout) == (60.0, 32768, 10, 20.0)


def test_stdio_and_http_servers_and_defaults():
    config = parse_tools_config(
        {
            "mcp": {
                "servers": {
                    "files": {"command": "npx", "args": ["-y", "srv"], "env": {"LOG": "warn"}, "cwd": "/tmp"},
                    "search": {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer x"}},
                }
            },
            "tools": {"timeout": 5, "max_result_bytes": 1000, "max_rounds": 3, "start_timeout": 2.5},
        }
    )
    files, search = config.servers
    assert (files.transport, files.command, files.args, dict(files.env), files.cwd) == (
        "stdio", "npx", ("-y", "srv"), {"LOG": "warn"}, "/tmp",
    )
    assert (search.transport, search.url, dict(search.headers)) == (
        "http", "https://example.com/mcp", {"Authorization": "Bearer x"},
    )
    assert config.enabled is True  # on by default once a server is configured
    assert (config.timeout, config.max_result_bytes, config.max_rounds, config.start_timeout) == (5.0, 1000, 3, 2.5)


def test_enabled_false_turns_tools_off():
    config = parse_tools_config({"mcp": {"servers": {"a": {"command": "x"}}}, "tools": {"enabled": False}})
    assert config.enabled is False and len(config.servers) == 1


def test_json_file_is_read_and_toml_wins_on_a_clash(tmp_path):
    (tmp_path / "mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "files": {"command": "from-json"},
                    "web": {"type": "http", "url": "http://127.0.0.1:9/mcp", "alwaysAllow": []},
                    "off": {"command": "x", "disabled": True},
                }
            }
        )
    )
    config = parse_tools_config(
        {"mcp_config": "mcp.json", "mcp": {"servers": {"files": {"command": "from-toml"}}}}, base_dir=tmp_path
    )
    assert {s.name: (s.command or s.url) for s in config.servers} == {
        "files": "from-toml", "web": "http://127.0.0.1:9/mcp",
    }
    assert config.server("web").source == str(tmp_path / "mcp.json")


def test_accessor_reads_settings_extra(tmp_path):
    (tmp_path / "m.json").write_text('{"mcpServers": {"a": {"command": "x"}}}')
    settings = SimpleNamespace(extra={"mcp_config": "m.json"})
    assert tools_config(settings, tmp_path / "config.toml").servers[0].name == "a"


@pytest.mark.parametrize(
    ("document", "sentence"),
    [
        ({"mcp": []}, "mcp must be a table"),
        ({"mcp": {"server": {}}}, "mcp: unknown key 'server'"),
        ({"mcp": {"servers": 3}}, "mcp.servers must be a table"),
        ({"mcp": {"servers": {"files": "npx"}}}, "mcp.servers.files: must be a table"),
        ({"mcp": {"servers": {"files": {}}}}, "mcp.servers.files: needs a command"),
        ({"mcp": {"servers": {"files": {"command": 3}}}}, "mcp.servers.files: command must be a string"),
        ({"mcp": {"servers": {"files": {"command": " "}}}}, "mcp.servers.files: command must be a string"),
        ({"mcp": {"servers": {"files": {"command": "x", "args": "a b"}}}}, "mcp.servers.files: args must be a list"),
        ({"mcp": {"servers": {"files": {"command": "x", "args": [1]}}}}, "mcp.servers.files: args must be a list"),
        ({"mcp": {"servers": {"files": {"command": "x", "env": {"A": 1}}}}}, "mcp.servers.files: env must be a table"),
        ({"mcp": {"servers": {"files": {"command": "x", "env": []}}}}, "mcp.servers.files: env must be a table"),
        ({"mcp": {"servers": {"files": {"command": "x", "cwd": 5}}}}, "mcp.servers.files: cwd must be a string"),
        ({"mcp": {"servers": {"files": {"command": "x", "headers": {}}}}}, "mcp.servers.files: headers belongs to an HTTP"),
        ({"mcp": {"servers": {"files": {"command": "x", "comand": "y"}}}}, "mcp.servers.files: unknown key 'comand'"),
        ({"mcp": {"servers": {"s": {"command": "x", "url": "http://a"}}}}, "mcp.servers.s: has both command and url"),
        ({"mcp": {"servers": {"s": {"url": "ftp://a"}}}}, "mcp.servers.s: url must be a string starting with http"),
        ({"mcp": {"servers": {"s": {"url": 1}}}}, "mcp.servers.s: url must be a string"),
        ({"mcp": {"servers": {"s": {"url": "http://a", "headers": {"A": 1}}}}}, "mcp.servers.s: headers must be a table"),
        ({"mcp": {"servers": {"s": {"url": "http://a", "args": []}}}}, "mcp.servers.s: args belongs to a stdio"),
        ({"tools": 3}, "tools must be true, false or a table"),
        ({"tools": {"disabled": "files/x"}}, 'tools.disabled must be a list of "server/tool" names'),
        ({"tools": {"disabled": ["no-slash"]}}, 'tools.disabled must be a list of "server/tool" names'),
        ({"tools": {"enabled": "yes"}}, "tools.enabled must be true or false"),
        ({"tools": {"timeout": 0}}, "tools.timeout must be a positive number"),
        ({"tools": {"timeout": True}}, "tools.timeout must be a positive number"),
        ({"tools": {"timeout": "60"}}, "tools.timeout must be a positive number"),
        ({"tools": {"max_result_bytes": 1.5}}, "tools.max_result_bytes must be a positive whole number"),
        ({"tools": {"max_rounds": -1}}, "tools.max_rounds must be a positive whole number"),
        ({"tools": {"start_timeout": 0}}, "tools.start_timeout must be a positive number"),
        ({"tools": {"timeuot": 1}}, "tools: unknown key 'timeuot'"),
        ({"mcp_config": 5}, "mcp_config must be a string"),
    ],
)
def test_every_bad_shape_is_a_sentence(document, sentence):
    with pytest.raises(ToolConfigError) as caught:
        parse_tools_config(document)
    assert str(caught.value).startswith(sentence), str(caught.value)
    assert str(caught.value).endswith(".")


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (None, "does not exist"),
        ("{not json", "is not valid JSON (line 1, column 2: "),
        ('{"servers": {}}', 'has no "mcpServers" object'),
        ('[1]', 'has no "mcpServers" object'),
        ('{"mcpServers": {"files": {"command": ["npx"]}}}', "mcpServers.files: command must be a string"),
        ('{"mcpServers": {"old": {"type": "sse", "url": "http://a"}}}', "mcpServers.old: the old SSE transport"),
        ('{"mcpServers": {"x": {"command": "a", "bogus": 1}}}', "mcpServers.x: unknown key 'bogus'"),
    ],
)
def test_bad_json_file_is_a_sentence_with_its_path(tmp_path, text, sentence):
    path = tmp_path / "servers.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ToolConfigError) as caught:
        parse_tools_config({"mcp_config": str(path)})
    assert str(path) in str(caught.value) and sentence in str(caught.value), str(caught.value)


def test_importing_the_package_and_parsing_does_not_import_mcp():
    code = (
        "import sys; import apertis_tui.core.tools as t; "
        "c = t.parse_tools_config({}); h = t.ToolHub(c); h.start(); "
        "assert not [m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')], sorted(sys.modules); "
        "assert 'textual' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd="app")


def test_tools_false_is_the_short_spelling_of_enabled_false():
    document = {"tools": False, "mcp": {"servers": {"calc": {"command": "x"}}}}
    config = parse_tools_config(document)
    assert config.enabled is False and [s.name for s in config.servers] == ["calc"]


def test_disabled_tools_are_read_as_server_and_tool():
    config = parse_tools_config({"tools": {"disabled": ["files/write_file", "web/a/b"]}})
    assert config.disabled == {("files", "write_file"), ("web", "a/b")}


def test_store_disabled_writes_what_parse_reads_back():
    from apertis_tui.core.tools.config import store_disabled

    extra: dict = {}
    store_disabled(extra, {("s", "b"), ("s", "a")})
    assert extra == {"tools": {"disabled": ["s/a", "s/b"]}}
    store_disabled(extra, set())
    assert extra == {}  # a [tools] table left empty goes
    extra = {"tools": False}  # the short spelling becomes the table it stands for
    store_disabled(extra, {("s", "x/y")})
    assert extra == {"tools": {"enabled": False, "disabled": ["s/x/y"]}}
    config = parse_tools_config(extra)
    assert config.enabled is False and config.disabled == {("s", "x/y")}  # a tool's name may hold "/"
    extra = {"tools": {"timeout": 5, "disabled": ["s/a"]}}
    store_disabled(extra, set())
    assert extra == {"tools": {"timeout": 5}}
    with pytest.raises(ToolConfigError):  # not written over: the user's value is shown as the problem
        store_disabled({"tools": "yes"}, {("s", "a")})
