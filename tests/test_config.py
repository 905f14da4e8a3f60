from __future__ import annotations

import os
import stat
import sys
import tomllib
from pathlib import Path

import pytest
import tomli_w

from apertis_tui.core import paths
from apertis_tui.core.paths import config_path
from apertis_tui.core.settings.file import ConfigError, Settings, load_settings, save_settings
from apertis_tui.core.settings.resolve import Resolved, resolve_api_key, resolve_base_url, resolve_connection
from apertis_tui.core.settings.validation import DEFAULT_BASE_URL, validate_base_url, validate_param
from apertis_tui.core.types import ChatParams


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return tmp_path / "apertis-tui" / "config.toml"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ---------------------------------------------------------------------------
# Defaults and paths


def test_missing_file_gives_defaults_and_is_not_created(cfg: Path) -> None:
    settings = load_settings(cfg)
    assert settings == Settings()
    assert settings.default_model == "gpt-4o-mini"
    assert settings.stream is True and settings.theme == "textual-dark"
    assert (settings.connect_timeout, settings.read_timeout) == (10.0, 60.0)
    assert not cfg.exists() and not cfg.parent.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG applies on Linux")
def test_xdg_dirs_are_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "conf"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert config_path() == tmp_path / "conf" / "apertis-tui" / "config.toml"
    assert paths.default_db_path() == tmp_path / "data" / "apertis-tui" / "history.db"
    assert paths.state_dir() == tmp_path / "state" / "apertis-tui"
    assert paths.cache_dir() == tmp_path / "cache" / "apertis-tui"


def test_load_and_save_default_to_config_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(paths, "config_path", lambda: tmp_path / "x" / "config.toml")
    save_settings(Settings(default_model="m"))
    assert (tmp_path / "x" / "config.toml").exists()
    assert load_settings().default_model == "m"


# ---------------------------------------------------------------------------
# Round trip and unknown keys


def full_settings() -> Settings:
    return Settings(
        api_key="sk-file",
        base_url="https://example.test/v1",
        default_model="claude-sonnet-4",
        system_prompt='Be "terse".\nReally.',
        params=ChatParams(
            temperature=0.7,
            top_p=0.9,
            max_tokens=1024,
            frequency_penalty=-0.5,
            presence_penalty=1.5,
            stop=["###", "END"],
        ),
        stream=False,
        connect_timeout=3.5,
        read_timeout=120.0,
        theme="nord",
    )


def test_round_trip(cfg: Path) -> None:
    original = full_settings()
    save_settings(original, cfg)
    assert load_settings(cfg) == original


def test_round_trip_with_unset_params_leaves_them_out(cfg: Path) -> None:
    original = Settings(params=ChatParams(max_tokens=5))
    save_settings(original, cfg)
    document = tomllib.loads(cfg.read_text())
    assert document["params"] == {"max_tokens": 5}
    assert "api_key" not in document and "system_prompt" not in document
    assert load_settings(cfg) == original


def test_file_layout_matches_documentation(cfg: Path) -> None:
    save_settings(full_settings(), cfg)
    document = tomllib.loads(cfg.read_text())
    assert document["params"]["stop"] == ["###", "END"]
    assert document["timeouts"] == {"connect": 3.5, "read": 120.0}
    assert document["stream"] is False and document["theme"] == "nord"


def test_loading_normalises_values(cfg: Path) -> None:
    write(cfg, 'base_url = "http://localhost:4000/v1/"\n[params]\ntemperature = 1\nstop = "###"\n'
               "[timeouts]\nread = 30\n")
    settings = load_settings(cfg)
    assert settings.base_url == "http://localhost:4000/v1"
    assert settings.params.temperature == 1.0 and isinstance(settings.params.temperature, float)
    assert settings.params.stop == ["###"]
    assert settings.read_timeout == 30.0 and settings.connect_timeout == 10.0


def test_unknown_keys_and_tables_are_kept(cfg: Path) -> None:
    write(
        cfg,
        'default_model = "a"\nfuture_flag = true\n'
        "[params]\ntemperature = 0.2\nseed = 42\n"
        "[timeouts]\nread = 5\nwrite = 7\n"
        '[keymap]\nquit = "ctrl+q"\n[keymap.nested]\nx = [1, 2]\n',
    )
    settings = load_settings(cfg)
    assert settings.extra == {
        "future_flag": True,
        "params": {"seed": 42},
        "timeouts": {"write": 7},
        "keymap": {"quit": "ctrl+q", "nested": {"x": [1, 2]}},
    }
    settings.default_model = "b"
    settings.params.temperature = 0.4
    save_settings(settings, cfg)
    document = tomllib.loads(cfg.read_text())
    assert document["future_flag"] is True
    assert document["params"] == {"temperature": 0.4, "seed": 42}
    assert document["timeouts"] == {"connect": 10.0, "read": 5.0, "write": 7}
    assert document["keymap"] == {"quit": "ctrl+q", "nested": {"x": [1, 2]}}
    assert document["default_model"] == "b"
    assert load_settings(cfg) == settings


def test_known_values_win_over_extra(cfg: Path) -> None:
    settings = Settings(theme="nord", params=ChatParams(top_p=0.5),
                        extra={"theme": "stale", "params": {"top_p": 0.1, "seed": 1}})
    save_settings(settings, cfg)
    document = tomllib.loads(cfg.read_text())
    assert document["theme"] == "nord"
    assert document["params"] == {"top_p": 0.5, "seed": 1}


# ---------------------------------------------------------------------------
# Safe writing


def test_saved_file_is_private_and_no_temp_file_is_left(cfg: Path) -> None:
    save_settings(full_settings(), cfg)
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    assert stat.S_IMODE(cfg.parent.stat().st_mode) == 0o700
    assert leftovers(cfg.parent) == []
    assert sorted(p.name for p in cfg.parent.iterdir()) == ["config.toml"]


def test_temp_file_is_created_exclusively_and_private_beside_the_target(
    cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(cfg, 'theme = "x"\n')
    calls: list[tuple[Path, int, int | None]] = []
    real_open = os.open

    def spy(file, flags, mode=0o777, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        if flags & os.O_CREAT:
            calls.append((Path(file), flags, mode))
        return real_open(file, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    save_settings(Settings(theme="nord"), cfg)
    assert len(calls) == 1
    temp, flags, mode = calls[0]
    assert temp.parent == cfg.parent and temp != cfg
    assert flags & os.O_EXCL and mode == 0o600
    assert not temp.exists()


def test_existing_wider_mode_is_tightened(cfg: Path) -> None:
    write(cfg, 'theme = "nord"\n')
    cfg.chmod(0o644)
    save_settings(load_settings(cfg), cfg)
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600


@pytest.mark.parametrize("umask", [0o000, 0o277])
def test_mode_is_exactly_0600_whatever_the_umask(cfg: Path, umask: int) -> None:
    cfg.parent.mkdir(parents=True)
    old = os.umask(umask)
    try:
        save_settings(Settings(), cfg)
    finally:
        os.umask(old)
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600


def test_failed_rename_keeps_old_file(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(cfg, 'default_model = "old"\n')
    before = cfg.read_bytes()

    def broken_replace(src, dst):  # noqa: ANN001
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ConfigError) as caught:
        save_settings(Settings(default_model="new"), cfg)
    assert str(cfg) in str(caught.value)
    assert cfg.read_bytes() == before
    assert leftovers(cfg.parent) == []


def test_failed_write_keeps_old_file(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(cfg, 'default_model = "old"\n')
    before = cfg.read_bytes()
    real_write = os.write

    def half_write(fd, data):  # noqa: ANN001
        real_write(fd, bytes(data[:5]))
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "write", half_write)
    with pytest.raises(ConfigError):
        save_settings(Settings(default_model="new"), cfg)
    assert cfg.read_bytes() == before
    assert leftovers(cfg.parent) == []


def test_failed_serialisation_keeps_old_file(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(cfg, 'default_model = "old"\n')
    before = cfg.read_bytes()

    def boom(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("boom")

    monkeypatch.setattr(tomli_w, "dumps", boom)
    with pytest.raises(RuntimeError):
        save_settings(Settings(default_model="new"), cfg)
    assert cfg.read_bytes() == before
    assert leftovers(cfg.parent) == []


def test_invalid_file_is_not_overwritten(cfg: Path) -> None:
    write(cfg, "theme = \n")
    before = cfg.read_bytes()
    with pytest.raises(ConfigError) as caught:
        save_settings(Settings(theme="nord"), cfg)
    assert caught.value.path == cfg and str(cfg) in str(caught.value)
    assert cfg.read_bytes() == before
    assert not (cfg.parent / "config.toml.bak").exists()


def test_file_with_wrong_types_is_not_overwritten(cfg: Path) -> None:
    write(cfg, '[params]\ntemperature = "hot"\n')
    before = cfg.read_bytes()
    with pytest.raises(ConfigError):
        save_settings(Settings(), cfg)
    assert cfg.read_bytes() == before


def test_replace_invalid_keeps_a_backup(cfg: Path) -> None:
    write(cfg, "theme = \nsecret = 1\n")
    before = cfg.read_bytes()
    save_settings(Settings(theme="nord"), cfg, replace_invalid=True)
    backup = cfg.parent / "config.toml.bak"
    assert backup.read_bytes() == before
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert load_settings(cfg).theme == "nord"
    assert leftovers(cfg.parent) == []


def test_replace_invalid_on_a_valid_file_makes_no_backup(cfg: Path) -> None:
    write(cfg, 'theme = "x"\n')
    save_settings(Settings(theme="nord"), cfg, replace_invalid=True)
    assert not (cfg.parent / "config.toml.bak").exists()


# ---------------------------------------------------------------------------
# Errors while loading


def test_invalid_toml_names_file_and_line(cfg: Path) -> None:
    write(cfg, 'default_model = "a"\n\ntheme = = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(cfg)
    error = caught.value
    assert error.path == cfg and error.line == 3
    message = str(error)
    assert str(cfg) in message and "line 3" in message and "column" in message
    assert "not valid TOML" in message and "has not been changed" in message
    assert "(at line" not in message  # the position is said once, our way


def test_not_utf8_is_a_config_error(cfg: Path) -> None:
    cfg.parent.mkdir(parents=True)
    cfg.write_bytes(b'theme = "\xff"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(cfg)
    assert str(cfg) in str(caught.value)


BAD_VALUES = [
    # (file text, dotted key, line, a word of what is expected)
    ('theme = "x"\n\n[params]\ntemperature = "hot"\n', "params.temperature", 4, "0 to 2"),
    ("[params]\ntemperature = 2.5\n", "params.temperature", 2, "0 to 2"),
    ("[params]\ntemperature = true\n", "params.temperature", 2, "number"),
    ("[params]\ntemperature = nan\n", "params.temperature", 2, "number"),
    ("[params]\ntop_p = 7\n", "params.top_p", 2, "0 to 1"),
    ("[params]\n\nmax_tokens = -3\n", "params.max_tokens", 3, "whole number"),
    ("[params]\nmax_tokens = 10.5\n", "params.max_tokens", 2, "whole number"),
    ("[params]\nmax_tokens = 0\n", "params.max_tokens", 2, "whole number"),
    ("[params]\nfrequency_penalty = -3\n", "params.frequency_penalty", 2, "-2 to 2"),
    ("[params]\npresence_penalty = '1'\n", "params.presence_penalty", 2, "-2 to 2"),
    ("[params]\nstop = 5\n", "params.stop", 2, "list"),
    ('[params]\nstop = ["a", 1]\n', "params.stop", 2, "list"),
    ('[params]\nstop = ["a", "b", "c", "d", "e"]\n', "params.stop", 2, "4"),
    ('stream = "yes"\n', "stream", 1, "true or false"),
    ("theme = 3\n", "theme", 1, "string"),
    ('default_model = ""\n', "default_model", 1, "non-empty"),
    ("api_key = 123\n", "api_key", 1, "string"),
    ("system_prompt = []\n", "system_prompt", 1, "string"),
    ('base_url = "ftp://x"\n', "base_url", 1, "http"),
    ("params = 3\n", "params", 1, "table"),
    ('x = 1\n[timeouts]\nconnect = 0\n', "timeouts.connect", 3, "greater than 0"),
    ('[timeouts]\nread = "60"\n', "timeouts.read", 2, "greater than 0"),
    ("params.top_p = 9\n", "params.top_p", 1, "0 to 1"),
    ("params = { top_p = 9 }\n", "params.top_p", 1, "0 to 1"),
    # the same key elsewhere in the file does not confuse the line finder
    ('[other]\ntemperature = 1\n[params]\ntemperature = 9\n', "params.temperature", 4, "0 to 2"),
]


@pytest.mark.parametrize(("text", "key", "line", "expected"), BAD_VALUES)
def test_wrong_types_name_key_line_and_expectation(
    cfg: Path, text: str, key: str, line: int, expected: str
) -> None:
    write(cfg, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(cfg)
    error = caught.value
    message = str(error)
    assert error.path == cfg and str(cfg) in message
    assert error.key == key
    assert f"{key} must" in message or f"{key} can" in message
    assert error.line == line and f"(line {line})" in message
    assert expected in message


def test_api_key_value_never_in_error(cfg: Path) -> None:
    write(cfg, 'api_key = ["sk-secret-123"]\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(cfg)
    assert "sk-secret-123" not in str(caught.value)


# ---------------------------------------------------------------------------
# Validators


def test_validate_param() -> None:
    assert validate_param("temperature", 0) is None
    assert validate_param("temperature", 2) is None
    assert validate_param("temperature", None) is None
    assert validate_param("temperature", 2.01) == "temperature must be a number from 0 to 2"
    assert validate_param("temperature", 1, label="Temperature") is None
    assert "Temperature" in validate_param("temperature", -1, label="Temperature")
    assert validate_param("top_p", 1.0) is None and validate_param("top_p", 1.1)
    assert validate_param("max_tokens", 1) is None
    assert validate_param("max_tokens", True) and validate_param("max_tokens", 1.0)
    assert validate_param("frequency_penalty", -2) is None and validate_param("frequency_penalty", -2.1)
    assert validate_param("stop", "x") is None and validate_param("stop", ["a"] * 4) is None
    assert validate_param("stop", ["a"] * 5) and validate_param("stop", [""]) and validate_param("stop", 5)
    with pytest.raises(KeyError):
        validate_param("seed", 1)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://api.stima.tech/v1", True),
        ("http://localhost:11434/v1/", True),
        ("http://127.0.0.1:4000", True),
        ("api.stima.tech/v1", False),
        ("ftp://host/v1", False),
        ("https://", False),
        ("https://exa mple.com", False),
        ("http://host:notaport", False),
        ("", False),
        (None, False),
        (5, False),
    ],
)
def test_validate_base_url(url: object, ok: bool) -> None:
    assert (validate_base_url(url) is None) is ok


# ---------------------------------------------------------------------------
# Resolution


def test_api_key_precedence() -> None:
    settings = Settings(api_key="  sk-config\n")
    both = {"APERTIS_API_KEY": "sk-apertis\n", "STIMA_API_KEY": "sk-stima"}
    assert resolve_api_key(settings, both) == ("sk-apertis", "APERTIS_API_KEY")
    assert resolve_api_key(settings, {"STIMA_API_KEY": " sk-stima "}) == ("sk-stima", "STIMA_API_KEY")
    assert resolve_api_key(settings, {}) == ("sk-config", "config")
    assert resolve_api_key(Settings(), {}) == (None, "none")


def test_empty_env_values_are_ignored() -> None:
    env = {"APERTIS_API_KEY": "", "STIMA_API_KEY": "  \n", "APERTIS_BASE_URL": " "}
    assert resolve_api_key(Settings(api_key="sk-config"), env) == ("sk-config", "config")
    assert resolve_api_key(Settings(api_key=" "), env) == (None, "none")
    assert resolve_base_url(None, Settings(), env) == (DEFAULT_BASE_URL, "default")
    assert resolve_base_url("", Settings(base_url="https://c.test/v1"), env) == ("https://c.test/v1", "config")


def test_api_key_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APERTIS_API_KEY", "sk-env")
    assert resolve_api_key(Settings()) == ("sk-env", "APERTIS_API_KEY")


def test_base_url_precedence() -> None:
    settings = Settings(base_url="https://config.test/v1")
    env = {"APERTIS_BASE_URL": "https://env.test/v1/"}
    assert resolve_base_url("http://flag.test/v1/", settings, env) == ("http://flag.test/v1", "flag")
    assert resolve_base_url(None, settings, env) == ("https://env.test/v1", "APERTIS_BASE_URL")
    assert resolve_base_url(None, settings, {}) == ("https://config.test/v1", "config")
    assert resolve_base_url(None, Settings(), {}) == (DEFAULT_BASE_URL, "default")


def test_bad_base_url_from_flag_or_env_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_base_url("api.example.com", Settings(), {})
    assert "--base-url" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        resolve_base_url(None, Settings(), {"APERTIS_BASE_URL": "localhost:8080"})
    assert "APERTIS_BASE_URL" in str(caught.value)


def test_the_connection_is_resolved_once_with_each_source() -> None:
    settings = Settings(api_key="sk-file", base_url="https://file.test/v1", user_agent="file-agent")
    env = {"STIMA_API_KEY": "sk-stima", "APERTIS_USER_AGENT": "env-agent"}
    connection = resolve_connection(settings, env, base_url_flag="https://flag.test/v1/")
    assert connection.api_key == Resolved("sk-stima", "STIMA_API_KEY")
    assert connection.base_url == ("https://flag.test/v1", "flag")
    assert connection.user_agent == ("env-agent", "APERTIS_USER_AGENT")
    assert resolve_connection(Settings(), {}) == ((None, "none"), (DEFAULT_BASE_URL, "default"), (None, "default"))
    with pytest.raises(ConfigError):
        resolve_connection(Settings(), {}, base_url_flag="not a url")


def test_after_a_save_what_was_typed_applies_and_the_rest_is_kept() -> None:
    env = {"APERTIS_API_KEY": "sk-env"}
    started = resolve_connection(Settings(), env, base_url_flag="https://flag.test/v1")
    typed = Settings(api_key="sk-typed", base_url="https://typed.test/v1")
    assert started.edited(typed, env, key_typed=True, base_url_typed=True)[:2] == (
        ("sk-typed", "config"), ("https://typed.test/v1", "config"))
    # Fields left alone: the environment's key and the flag's URL still apply.
    assert started.edited(typed, env, key_typed=False, base_url_typed=False) == started
    # Emptied: the environment's key, the default URL.
    emptied = started.edited(Settings(), env, key_typed=True, base_url_typed=True)
    assert emptied[:2] == (("sk-env", "APERTIS_API_KEY"), (DEFAULT_BASE_URL, "default"))
    assert started.edited(Settings(), {}, key_typed=True, base_url_typed=False).api_key == (None, "none")
    assert started.edited(Settings(user_agent="mine"), env, key_typed=False, base_url_typed=False).user_agent == (
        "mine", "config")


def test_env_key_is_not_written(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APERTIS_API_KEY", "sk-from-env")
    monkeypatch.setenv("STIMA_API_KEY", "sk-from-stima")
    settings = load_settings(cfg)
    assert settings.api_key is None
    save_settings(settings, cfg)
    text = cfg.read_text()
    assert "sk-from-env" not in text and "sk-from-stima" not in text and "api_key" not in text
    assert resolve_api_key(load_settings(cfg)) == ("sk-from-env", "APERTIS_API_KEY")
    settings.api_key = "sk-typed-in"
    save_settings(settings, cfg)
    assert tomllib.loads(cfg.read_text())["api_key"] == "sk-typed-in"
