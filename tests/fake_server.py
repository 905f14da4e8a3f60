"""A fake Apertis (OpenAI-compatible) server on 127.0.0.1 for tests, demos and benchmarks.

Standard library only. It speaks real HTTP/1.1 on a real socket and writes its own chunked
transfer encoding, so a stream can be cut, stalled or paced exactly. Every wire quirk listed
in DESIGN.md ("The service") has a scenario model; see ``SCENARIOS``.

    with FakeServer(key="test-key") as server:
        httpx.get(server.base_url + "/models", headers={"Authorization": "Bearer test-key"})

``GET /v1/token/usage`` gives the key's spend and balance (``fake_billing.Ledger``, at
``.billing``): every answer is booked at a fixed price per token; a listed id with ``:free``
appended answers as that id and costs nothing.

As a script (used by ``make demo``)::

    python tests/fake_server.py --port 8765 --key demo-key --rate 60
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import signal
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Iterator

try:
    from tests.fake_billing import Ledger
except ImportError:  # run as a script from tests/
    from fake_billing import Ledger  # type: ignore[no-redef]

__all__ = [
    "FakeServer",
    "MODELS",
    "MODEL_IDS",
    "SCENARIOS",
    "HOSTILE_TEXT",
    "FALLBACK_HOSTILE_HEADERS",
    "long_markdown",
    "normal_answer",
    "count_tokens",
    "split_tokens",
]

# ---------------------------------------------------------------------------
# Scenarios

SCENARIOS: dict[str, str] = {
    "test/slow": "the normal answer, streamed at 20 tokens/s whatever .rate is",
    "test/long": "a ~20,000-token Markdown answer (long_markdown); a last user message "
    "containing 'tokens=N' asks for N tokens instead",
    "test/reasoning": "a few sentences in delta.reasoning_content, then the normal answer",
    "test/reasoning-alt": "a few sentences in delta.reasoning, then the normal answer",
    "test/tools": "two tool calls (get_weather, get_time) streamed as interleaved fragments "
    "joined by index, finish_reason 'tool_calls'; after a role 'tool' message, a normal answer",
    "test/agent": "calls the tools the request offers, as the last user message says: each line "
    "'call NAME {json args}' is one call (several lines: parallel calls, streamed as fragments); "
    "after the tool results it answers 'Tool results: ...' quoting each result, unless the user "
    "message has the word 'loop', then it calls the same tools again (new ids)",
    "test/no-tools": "HTTP 400 'tools is not supported by this model' when the request has tools; "
    "the normal answer otherwise",
    "test/comments": "the normal answer with ': keep-alive', ': PING' and "
    "': OPENROUTER PROCESSING' comment lines between and inside events",
    "test/usage-shapes": "usage chunks with choices [], null, missing and [{index 0, empty delta}]; "
    "only the last one has the true usage; sent even without include_usage",
    "test/no-done": "the normal answer, then a clean end of the body without 'data: [DONE]'",
    "test/cut": "about half the normal answer, then the socket closes with no terminating chunk",
    "test/midstream-error": "some content, then 'data: {\"error\": ...}' (upstream overloaded) "
    "and the connection closes",
    "test/changing-id": "the normal answer whose chunk id changes half-way (web-search style)",
    "test/bad-json": "some content, then a 'data: {not json' event, then the rest and [DONE]",
    "test/stall": "the first content chunk, then silence until .stall_release is set or the "
    "server stops (cap 120 s), then the socket closes with no terminating chunk",
    "test/hostile": "content full of Rich/Textual markup, ANSI/OSC escapes, C1 controls, "
    "zero-width and bidi characters and CRLF line ends (HOSTILE_TEXT)",
    "test/err-401": "HTTP 401 invalid_api_key (the key is fine; the body says it is not)",
    "test/err-402": "HTTP 402 insufficient_user_quota",
    "test/err-403-quota": "HTTP 403 insufficient_user_quota, 'user quota is not enough'",
    "test/err-403": "HTTP 403 'access denied for this group'",
    "test/err-404": "HTTP 404 model_not_found, OpenAI style 'The model `x` does not exist'",
    "test/err-503-model": "HTTP 503 model_not_found 'No available channel for model ...'",
    "test/err-429": "HTTP 429 rate_limit_exceeded JSON body and 'Retry-After: 7'",
    "test/err-429-empty": "HTTP 429 with an empty body and no Retry-After",
    "test/err-500": "HTTP 500 server_error JSON body",
    "test/err-502-html": "HTTP 502 with an nginx HTML page as body",
    "test/err-400": "HTTP 400 invalid_request_error, param 'temperature'",
    "test/err-403-cloudflare": "HTTP 403 'error code: 1010' in plain text from 'server: cloudflare' "
    "(Cloudflare's bot rules refusing the User-Agent)",
    "test/err-context": "HTTP 400 context_length_exceeded, 'maximum context length is 8192 tokens'",
    "test/err-402-balance": "HTTP 402 insufficient_balance (Apertis)",
    "test/err-402-expired": "HTTP 402 subscription_expired (Apertis)",
    "test/json-answer": "a streamed request answered with a whole JSON completion (not SSE), "
    "with reasoning and an empty error object beside it",
    "test/timings": "the normal answer; its usage carries latency_checkpoint (LATENCY_CHECKPOINT)",
    "test/fails-then-fallback": "always fails: with fallback_models in the request, the first of them "
    "answers (its normal answer, as that model) with the headers X-Fallback-Used: true, X-Actual-Model, "
    "X-Fallback-From and X-Fallback-Reason (naming fallback_timeout); without, HTTP 503",
    "test/fallback-hostile": "as test/fails-then-fallback, but the fallback headers carry markup, C1 "
    "controls, a bidi override and hundreds of characters (FALLBACK_HOSTILE_HEADERS)",
    "test/vision": "a vision model: answers with what the last user message carried: its text, the "
    "count of image_url parts and each data URI's decoded size and type ('Images: 1 (2016×1512 "
    "image/jpeg)'), decoded with Pillow",
    "test/no-vision": "HTTP 400 as OpenAI words it ('Invalid content type. image_url is only supported by "
    "certain models.') when a message has an image_url part; the normal answer otherwise",
}

# Header values a hostile server sends with a fallback answer. HTTP carries bytes: the UTF-8
# of each (httpx reads them back as UTF-8), written through http.server's latin-1.
_HOSTILE_HEADER_TEXT = {
    "X-Actual-Model": "gpt-4o-mini[/][@click=app.quit]q[/]\u202e\u009b2J" + "M" * 300,
    "X-Fallback-From": "[red]test/fallback-hostile[/red]\u009d0;pwned\u009c",
    "X-Fallback-Reason": "timeout [@click=app.quit]quit[/] [bold]x[/bold]\u202eevil\u009b31m " + "r" * 2000,
}
FALLBACK_HOSTILE_HEADERS = {name: value.encode("utf-8").decode("latin-1")
                            for name, value in _HOSTILE_HEADER_TEXT.items()}

# Apertis's web search: any listed model with ":web" (WEB_NOTES). Not in the model list, as
# Apertis lists only the base models.
WEB_NOTES = (
    "MODEL:web searches first: X-Web-Search-Used/-Count/-Status headers, an indicator chunk "
    "(id 'web-search', '🔍 Web searching...'), then MODEL's answer, whose chunk id changes half-way; "
    "web_sources (web_results_count of WEB_SOURCES) with half of them on a chunk half-way and all on the "
    "last, beside an empty error object; latency_checkpoint in the usage. A last user message saying "
    "'no results' gets status no_results and no sources; 'hostile sources' gets HOSTILE_SOURCES; "
    "'slow search' waits after the indicator until .stall_release is set. "
    "Not streamed: one body with web_sources and the empty error object. MODEL:free:web is a 400."
)
WEB_INDICATOR = "🔍 Web searching...\n\n"
WEB_SOURCES: list[dict[str, str]] = [
    {"title": "Write-Ahead Logging", "url": "https://www.sqlite.org/wal.html",
     "snippet": "The default method by which SQLite implements atomic commit and rollback is a rollback journal."},
    {"title": "sqlite3 — DB-API 2.0 interface for SQLite databases", "url": "https://docs.python.org/3/library/sqlite3.html",
     "snippet": "SQLite is a C library that provides a lightweight disk-based database."},
    {"title": "SQLite FTS5 Extension", "url": "https://www.sqlite.org/fts5.html",
     "snippet": "FTS5 is an SQLite virtual table module that provides full-text search functionality."},
    {"title": "Appropriate Uses For SQLite", "url": "https://www.sqlite.org/whentouse.html",
     "snippet": "SQLite is not directly comparable to client/server SQL database engines."},
    {"title": "The SQLite Query Optimizer Overview", "url": "https://www.sqlite.org/optoverview.html",
     "snippet": "This document provides an overview of how the query planner and optimizer for SQLite works."},
    {"title": "Datatypes In SQLite", "url": "https://www.sqlite.org/datatype3.html",
     "snippet": "SQLite uses a more general dynamic type system."},
]
HOSTILE_SOURCES: list[dict[str, Any]] = [
    {"title": "[bold]x[/bold] [/] [@click=app.quit]click[/] \x1b]0;pwned\x07\x1b[2J",
     "url": "https://evil.example/\x1b]8;;https://other.example\x1b\\x", "snippet": "\x1b[31mred"},
    {"title": "A javascript link", "url": "javascript:alert(1)", "snippet": ""},
    {"title": "Spaces in the address", "url": "https://evil.example/a b", "snippet": ""},
    {"title": "\u202eevil.exe\u202c [link](https://x.example) `code` *star*", "url": "https://fine.example/ok?a=1&b=[2]",
     "snippet": "fine"},
    {"title": 42, "url": ["not", "a", "url"]},
    "not an object",
]
LATENCY_CHECKPOINT = {"engine_ttft_ms": 182, "engine_ttlt_ms": 911, "service_ttft_ms": 236, "total_duration_ms": 1024}
_EMPTY_ERROR = {"message": "", "type": "", "param": "", "code": None}

HOSTILE_TEXT = (
    "Hostile output follows.\r\n"
    "Markup: [bold]x[/bold] and a stray [/] and [@click=app.quit]click[/] and [red on white]r[/]\r\n"
    "ANSI: \x1b[31mred\x1b[0m and clear screen \x1b[2J\x1b[H done\r\n"
    "OSC 52 clipboard: \x1b]52;c;aGVsbG8=\x07 and OSC 0 title: \x1b]0;pwned\x07 end\r\n"
    "C1 CSI: \x9b31m and NUL \x00 and backspace \x08 and bell \x07\r\n"
    "Zero\u200bwidth and right-to-left \u202eevil.exe\u202c and tab\there\r\n"
    "Links: [click me](javascript:alert(1)) and [file](file:///etc/passwd)\r\n"
)

# ---------------------------------------------------------------------------
# The model list

_SEED_MODELS: list[tuple[str, str]] = [
    ("gpt-4o", "openai"),
    ("gpt-4o-mini", "openai"),
    ("gpt-4.1", "openai"),
    ("gpt-4.1-mini", "openai"),
    ("gpt-4.1-nano", "openai"),
    ("o3-mini", "openai"),
    ("o3", "openai"),
    ("o4-mini", "openai"),
    ("gpt-3.5-turbo", "openai"),
    ("claude-3-5-sonnet-20241022", "anthropic"),
    ("claude-3-5-haiku-20241022", "anthropic"),
    ("claude-3-7-sonnet-20250219", "anthropic"),
    ("claude-sonnet-4-20250514", "anthropic"),
    ("claude-opus-4-20250514", "anthropic"),
    ("gemini-2.5-pro", "google"),
    ("gemini-2.5-flash", "google"),
    ("gemini-2.0-flash", "google"),
    ("deepseek-chat", "deepseek"),
    ("deepseek-reasoner", "deepseek"),
    ("llama-3.3-70b-instruct", "meta"),
    ("qwen-max", "alibaba"),
    ("qwen-plus", "alibaba"),
    ("qwen-turbo", "alibaba"),
    ("mistral-large-latest", "mistralai"),
    ("mistral-small-latest", "mistralai"),
    ("codestral-latest", "mistralai"),
    ("grok-3", "xai"),
    ("grok-3-mini", "xai"),
    ("command-r-plus", "cohere"),
    ("text-embedding-3-small", "openai"),
    ("text-embedding-3-large", "openai"),
    ("dall-e-3", "openai"),
    ("whisper-1", "openai"),
    ("tts-1", "openai"),
]

# (family, owner, sizes, suffixes): generated as family-size-suffix.
_FAMILIES: list[tuple[str, str, list[str], list[str]]] = [
    ("llama-3.1", "meta", ["8b", "70b", "405b"], ["-instruct", "-instruct-turbo", ""]),
    ("llama-3.2", "meta", ["1b", "3b", "11b-vision", "90b-vision"], ["-instruct", ""]),
    ("llama-4", "meta", ["scout-17b-16e", "maverick-17b-128e"], ["-instruct", ""]),
    ("qwen2.5", "alibaba", ["0.5b", "1.5b", "3b", "7b", "14b", "32b", "72b"], ["-instruct", ""]),
    ("qwen2.5-coder", "alibaba", ["1.5b", "7b", "14b", "32b"], ["-instruct", ""]),
    ("qwen3", "alibaba", ["0.6b", "1.7b", "4b", "8b", "14b", "32b", "30b-a3b", "235b-a22b"], ["", "-fp8"]),
    ("gemma-2", "google", ["2b", "9b", "27b"], ["-it", ""]),
    ("gemma-3", "google", ["1b", "4b", "12b", "27b"], ["-it", ""]),
    ("phi-3", "microsoft", ["mini-4k", "mini-128k", "medium-4k", "medium-128k"], ["-instruct"]),
    ("phi-4", "microsoft", ["mini", "multimodal", "reasoning"], ["", "-instruct"]),
    ("mistral", "mistralai", ["7b", "nemo-12b", "small-24b"], ["-instruct-v0.3", "-instruct"]),
    ("mixtral", "mistralai", ["8x7b", "8x22b"], ["-instruct", ""]),
    ("deepseek-r1-distill-qwen", "deepseek", ["1.5b", "7b", "14b", "32b"], [""]),
    ("deepseek-r1-distill-llama", "deepseek", ["8b", "70b"], [""]),
    ("deepseek-v3", "deepseek", ["0324", "1226"], ["", "-fast"]),
    ("yi-1.5", "01-ai", ["6b", "9b", "34b"], ["-chat", ""]),
    ("glm-4", "zhipu", ["9b", "plus", "air", "flash", "long"], [""]),
    ("internlm2.5", "shanghai-ai-lab", ["7b", "20b"], ["-chat"]),
    ("falcon", "tii", ["7b", "40b", "180b"], ["-instruct"]),
    ("nous-hermes-2", "nousresearch", ["mixtral-8x7b", "yi-34b"], ["-dpo", "-sft"]),
    ("command-r", "cohere", ["08-2024", "plus-08-2024", "7b-12-2024"], [""]),
    ("jamba-1.5", "ai21", ["mini", "large"], [""]),
    ("granite-3.1", "ibm", ["2b", "8b"], ["-instruct", ""]),
    ("olmo-2", "allenai", ["7b", "13b"], ["-instruct", ""]),
    ("nemotron", "nvidia", ["70b", "mini-4b", "super-49b"], ["-instruct", ""]),
]

# (base, owner, dates): generated as base-date.
_DATED: list[tuple[str, str, list[str]]] = [
    ("gpt-4o", "openai", ["2024-05-13", "2024-08-06", "2024-11-20"]),
    ("gpt-4o-mini", "openai", ["2024-07-18"]),
    ("gpt-4-turbo", "openai", ["2024-04-09", "preview"]),
    ("gpt-4.1", "openai", ["2025-04-14"]),
    ("gpt-4o-audio-preview", "openai", ["2024-10-01", "2024-12-17"]),
    ("gpt-4o-search-preview", "openai", ["2025-03-11"]),
    ("o1", "openai", ["2024-12-17", "preview", "mini"]),
    ("o3-mini", "openai", ["2025-01-31"]),
    ("claude-3-opus", "anthropic", ["20240229"]),
    ("claude-3-sonnet", "anthropic", ["20240229"]),
    ("claude-3-haiku", "anthropic", ["20240307"]),
    ("claude-3-5-sonnet", "anthropic", ["20240620"]),
    ("claude-3-7-sonnet", "anthropic", ["20250219-thinking"]),
    ("claude-sonnet-4", "anthropic", ["20250514-thinking"]),
    ("claude-opus-4-1", "anthropic", ["20250805"]),
    ("gemini-1.5-pro", "google", ["001", "002", "latest"]),
    ("gemini-1.5-flash", "google", ["001", "002", "8b", "latest"]),
    ("gemini-2.0-flash", "google", ["001", "lite", "exp", "thinking-exp-01-21"]),
    ("gemini-2.5-pro", "google", ["preview-03-25", "preview-05-06", "preview-06-05"]),
    ("gemini-2.5-flash", "google", ["preview-04-17", "preview-05-20", "lite"]),
    ("grok-2", "xai", ["1212", "vision-1212"]),
    ("grok-3", "xai", ["beta", "fast", "mini-fast"]),
    ("mistral-large", "mistralai", ["2407", "2411"]),
    ("mistral-small", "mistralai", ["2409", "2501", "2503"]),
    ("mistral-medium", "mistralai", ["2505"]),
    ("qwen-max", "alibaba", ["2025-01-25", "latest"]),
    ("qwen-plus", "alibaba", ["2025-01-25", "latest"]),
    ("deepseek-chat", "deepseek", ["v3", "v3.1"]),
]

# Apertis's free models end in ":free".
_FREE_MODELS: list[tuple[str, str]] = [
    ("deepseek-chat:free", "deepseek"),
    ("llama-3.3-70b-instruct:free", "meta"),
    ("gemini-2.0-flash:free", "google"),
    ("qwen-turbo:free", "alibaba"),
    ("mistral-small-latest:free", "mistralai"),
]

# Prefixes some aggregators put in front of ids; applied to a subset to reach 430+.
_ROUTED_PREFIXES: list[tuple[str, str]] = [
    ("openrouter/", "openrouter"),
    ("together/", "together"),
    ("groq/", "groq"),
    ("bedrock/", "aws"),
    ("vertex/", "google"),
]


def _build_models() -> list[dict[str, Any]]:
    ids: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(model_id: str, owner: str) -> None:
        if model_id not in seen:
            seen.add(model_id)
            ids.append((model_id, owner))

    for mid, owner in _SEED_MODELS:
        add(mid, owner)
    for family, owner, sizes, suffixes in _FAMILIES:
        for size in sizes:
            for suffix in suffixes:
                add(f"{family}-{size}{suffix}", owner)
    for base, owner, dates in _DATED:
        for date in dates:
            add(f"{base}-{date}", owner)
    base_ids = [i for i in ids]
    for prefix, owner in _ROUTED_PREFIXES:
        for j, (mid, _owner) in enumerate(base_ids):
            if j % 4 == 0 and "embedding" not in mid:
                add(f"{prefix}{mid}", owner)
    for mid, owner in _FREE_MODELS:
        add(mid, owner)
    add("fireworks/firefunction-v2", "fireworks")  # not free, though f-r-e-e is in it, in order
    for mid in SCENARIOS:
        add(mid, "apertis-test")

    models: list[dict[str, Any]] = []
    base_created = 1_700_000_000
    for n, (mid, owner) in enumerate(ids):
        entry: dict[str, Any] = {
            "id": mid,
            "object": "model",
            "created": base_created + n * 86_400,
            "owned_by": owner,
        }
        if owner != "apertis-test":
            if n % 3 == 0:  # new-api
                entry["supported_endpoint_types"] = (
                    ["anthropic", "openai"] if owner == "anthropic" else ["openai"]
                )
            elif n % 5 == 1:  # one-api
                entry["permission"] = [
                    {
                        "id": f"modelperm-{n:024x}",
                        "object": "model_permission",
                        "created": base_created,
                        "allow_create_engine": True,
                        "allow_sampling": True,
                        "allow_logprobs": True,
                        "allow_search_indices": False,
                        "allow_view": True,
                        "allow_fine_tuning": False,
                        "organization": "*",
                        "group": None,
                        "is_blocking": False,
                    }
                ]
                entry["root"] = mid
                entry["parent"] = None
            if n in (41, 137):  # a couple of sparse entries
                del entry["owned_by"]
            if n in (42, 211):
                del entry["created"]
        models.append(entry)
    return models


MODELS: list[dict[str, Any]] = _build_models()
MODEL_IDS: list[str] = [m["id"] for m in MODELS]
_MODEL_ID_SET = frozenset(MODEL_IDS)

# ---------------------------------------------------------------------------
# Text helpers

_TOKEN_RE = re.compile(r"\s*\S+|\s+")


def split_tokens(text: str) -> list[str]:
    """One token = one word with its leading whitespace; ''.join(split_tokens(t)) == t."""
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    return len(split_tokens(text))


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, {"type": "image_url", ...}]
        return "".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return str(content)


def _last_user_text(messages: list[Any]) -> str:
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            return _content_text(m.get("content"))
    return ""


_NGINX_413 = (b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center>"
              b"<h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


def _image_urls(message: Any) -> list[str]:
    """The image_url URLs of a message's content parts."""
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return []
    return [str((p.get("image_url") or {}).get("url", "")) for p in content
            if isinstance(p, dict) and p.get("type") == "image_url"]


def describe_image(url: str) -> str:
    """``2016×1512 image/jpeg`` for a data URI (decoded with Pillow), or why it is not one."""
    import base64
    import io

    found = re.match(r"data:([\w/+.-]+);base64,(.*)$", url, re.S)
    if not found:
        return "not a base64 data URI"
    try:
        from PIL import Image

        with Image.open(io.BytesIO(base64.b64decode(found.group(2), validate=True))) as image:
            return f"{image.size[0]}×{image.size[1]} {found.group(1)}"
    except Exception as error:  # the test asserts on this text
        return f"unreadable {found.group(1)} ({type(error).__name__})"


def vision_answer(messages: list[Any]) -> str:
    """test/vision: what the last user message carried, images decoded; earlier images counted."""
    last = next((m for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), {})
    urls = _image_urls(last)
    earlier = sum(len(_image_urls(m)) for m in messages if m is not last)
    shown = ", ".join(describe_image(url) for url in urls)
    return (f"Images: {len(urls)}" + (f" ({shown})" if urls else "") + f". Earlier images: {earlier}.\n\n"
            f"You said: {_last_user_text(messages)[:2000]}\n")


def normal_answer(model: str, messages: list[Any]) -> str:
    """The deterministic answer of a normal model to a request's messages."""
    said = _last_user_text(messages)
    if said.startswith("echo:"):
        return said[len("echo:"):]
    return (
        f"**{model}** got {len(messages)} messages. You said: {said}\n"
        "\n"
        "## Summary\n"
        "\n"
        "- the whole history arrived\n"
        "- this answer is *deterministic*\n"
        "- it has `inline code` too\n"
        "\n"
        "```python\n"
        "def greet(name: str) -> str:\n"
        '    return f"Hello, {name}!"\n'
        "```\n"
    )


_WORDS = (
    "the a an stream token model answer server client widget render terminal buffer latency "
    "frame markdown table code block list heading paragraph quote history message chat screen "
    "cursor scroll line cache layout width height style theme color key binding worker event "
    "request response socket chunk header body retry error quota limit usage cost prompt "
    "context window reasoning tool call function argument value result index offset "
    "quick brown fox jumps over lazy dog while careful readers measure every byte twice "
    "and then some more because performance matters when twenty thousand tokens arrive"
).split()

_CODE_SNIPPETS: list[tuple[str, str]] = [
    (
        "python",
        "def fib(n: int) -> int:\n"
        "    a, b = 0, 1\n"
        "    for _ in range(n):\n"
        "        a, b = b, a + b\n"
        "    return a\n"
        "\n"
        "print([fib(i) for i in range(10)])",
    ),
    (
        "rust",
        "fn main() {\n"
        "    let v: Vec<u32> = (1..=10).map(|x| x * x).collect();\n"
        '    println!("{:?}", v);\n'
        "}",
    ),
    (
        "javascript",
        "const sum = (xs) => xs.reduce((a, b) => a + b, 0);\n"
        "console.log(sum([1, 2, 3, 4]));\n"
        "export default sum;",
    ),
    (
        "sql",
        "SELECT chat_id, COUNT(*) AS n\n"
        "FROM messages\n"
        "WHERE role = 'assistant'\n"
        "GROUP BY chat_id\n"
        "ORDER BY n DESC\n"
        "LIMIT 10;",
    ),
    (
        "bash",
        "#!/usr/bin/env bash\n"
        "set -euo pipefail\n"
        'for f in *.md; do\n'
        '  wc -w "$f"\n'
        "done",
    ),
    (
        "go",
        "package main\n"
        "\n"
        'import "fmt"\n'
        "\n"
        "func main() {\n"
        "\tfor i := 0; i < 3; i++ {\n"
        '\t\tfmt.Println("tick", i)\n'
        "\t}\n"
        "}",
    ),
    ("json", '{\n  "model": "gpt-4o",\n  "stream": true,\n  "messages": []\n}'),
]


def long_markdown(tokens: int = 20000) -> str:
    """A deterministic Markdown document of exactly ``tokens`` tokens (see ``split_tokens``).

    Headings, paragraphs, bullet and numbered lists, tables, fenced code in several languages
    and block quotes, cycling; the last block is a paragraph sized to hit the count exactly.
    """
    tokens = max(1, int(tokens))
    rng = random.Random(20000)

    def words(n: int) -> str:
        out = [rng.choice(_WORDS) for _ in range(n)]
        out[0] = out[0].capitalize()
        return " ".join(out)

    def sentence() -> str:
        return words(rng.randint(6, 16)) + "."

    def paragraph() -> str:
        parts = [sentence() for _ in range(rng.randint(3, 6))]
        i = rng.randrange(len(parts))
        parts[i] = parts[i] + " See `cfg.value` and *emphasis* and a [link](https://example.com)."
        return " ".join(parts)

    section = 0

    def block(k: int) -> str:
        nonlocal section
        kind = k % 8
        if kind == 0:
            section += 1
            level = "#" if section == 1 else ("##" if section % 3 else "###")
            return f"{level} Section {section}: {words(rng.randint(2, 5))}"
        if kind in (1, 5):
            return paragraph()
        if kind == 2:
            return "\n".join(f"- {words(rng.randint(3, 9))}" for _ in range(rng.randint(3, 6)))
        if kind == 3:
            lang, code = _CODE_SNIPPETS[(k // 8) % len(_CODE_SNIPPETS)]
            return f"```{lang}\n{code}\n```"
        if kind == 4:
            rows = [
                "| # | Name | Value | Notes |",
                "|---|------|------:|-------|",
            ]
            for r in range(rng.randint(3, 6)):
                rows.append(
                    f"| {r + 1} | {rng.choice(_WORDS)} | {rng.randint(1, 9999)} | "
                    f"{words(rng.randint(2, 5))} |"
                )
            return "\n".join(rows)
        if kind == 6:
            return "\n".join(f"{i + 1}. {words(rng.randint(3, 9))}" for i in range(rng.randint(3, 5)))
        # kind == 7
        return "\n".join(f"> {sentence()}" for _ in range(rng.randint(1, 3)))

    out: list[str] = []
    count = 0
    k = 0
    while count < tokens:
        b = block(k)
        k += 1
        piece = b if not out else "\n\n" + b
        n = count_tokens(piece)
        if count + n > tokens:
            remaining = tokens - count
            filler = words(remaining)
            piece = filler if not out else "\n\n" + filler
            out.append(piece)
            count += remaining
            break
        out.append(piece)
        count += n
    return "".join(out)


_REASONING_TEXT = (
    "The user wants an answer, so first I think it through. "
    "The request carries the whole conversation, which I should acknowledge. "
    "A short Markdown reply with a list and a code block will do."
)

_TOKENS_OVERRIDE = re.compile(r"tokens\s*=\s*(\d+)")

# ---------------------------------------------------------------------------
# Error bodies

_NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def _error(message: str, type_: str, code: Any = None, param: Any = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class _Cut(Exception):
    """Raised inside a stream to end it without the terminating chunk."""


# ---------------------------------------------------------------------------
# The server


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: "FakeServer"

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client that went away (BrokenPipe, ConnectionReset, ...) is not a bug
        print(f"fake_server: error while serving {client_address}", file=sys.stderr)
        traceback.print_exc()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    server: _HTTPServer
    _web: dict[str, Any] | None = None  # this request's web search (a ":web" model), see _web_plan

    # -- plumbing -----------------------------------------------------------

    @property
    def fake(self) -> "FakeServer":
        return self.server.fake

    def setup(self) -> None:
        super().setup()
        try:  # headers and body are separate writes: no Nagle/delayed-ACK 40 ms stalls
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.fake._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.fake._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.fake.verbose:
            super().log_message(format, *args)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except OSError:  # BrokenPipe, ConnectionReset, timeouts: the client went away
            self.close_connection = True

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = bytearray()
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: int, obj: Any, extra: dict[str, str] | None = None) -> None:
        body = json.dumps(obj).encode()
        self._send_bytes(status, body, "application/json; charset=utf-8", extra)

    def _send_bytes(
        self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _cut_connection(self) -> None:
        """Close abruptly: FIN after what was sent, no terminating chunk, no more requests."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- routing ------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        limit = self.fake.max_body
        length = int(self.headers.get("Content-Length") or 0)
        raw = self._read_body()
        if limit is not None and max(length, len(raw)) > limit:  # as nginx's client_max_body_size
            self.fake._record({"method": method, "path": self.path, "headers": {k.lower(): v for k, v in
                               self.headers.items()}, "json": None, "size": len(raw), "at": time.monotonic()})
            self._send_bytes(413, _NGINX_413, "text/html")
            return
        parsed: Any = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        model = parsed.get("model") if isinstance(parsed, dict) else None
        self.fake._record(  # "web": the request asked for a web search (a ":web" model)
            {"method": method, "path": self.path, "headers": headers, "json": parsed, "size": len(raw),
             "at": time.monotonic(), "web": isinstance(model, str) and model.endswith(":web")}
        )
        path = self.path.split("?", 1)[0].rstrip("/")

        status = self._check_auth(headers.get("authorization"))
        if status is not None:
            return

        if method == "GET" and path == "/v1/models":
            self._send_json(200, {"object": "list", "data": MODELS, "success": True})
        elif method == "GET" and path == "/v1/token/usage":  # Apertis: spend and balance (fake_billing.py)
            self._send_json(*self.fake.billing.answer())
        elif method == "GET" and path.startswith("/v1/models/"):
            mid = path[len("/v1/models/"):]
            for m in MODELS:
                if m["id"] == mid:
                    self._send_json(200, m)
                    return
            self._send_json(
                404,
                _error(f"The model `{mid}` does not exist", "invalid_request_error", "model_not_found"),
            )
        elif method == "POST" and path == "/v1/chat/completions":
            if raw and parsed is None:
                self._send_json(
                    400,
                    _error(
                        "We could not parse the JSON body of your request.",
                        "invalid_request_error",
                    ),
                )
                return
            self._chat(parsed if isinstance(parsed, dict) else {})
        else:
            self._send_json(
                404, _error(f"Invalid URL ({method} {path})", "invalid_request_error")
            )

    def _check_auth(self, auth: str | None) -> int | None:
        key = ""
        if auth and auth[:7].lower() == "bearer ":
            key = auth[7:].strip()
        if key and key == self.fake.key:
            return None
        rid = self.fake._request_id()
        if not key:
            msg = f"Invalid token (request id: {rid})"
        else:
            shown = key[:8] if len(key) > 12 else key[: len(key) // 2]
            msg = f"Incorrect API key provided: {shown}**** (request id: {rid})"
        self._send_json(401, _error(msg, "invalid_request_error", "invalid_api_key"))
        return 401

    # -- chat ---------------------------------------------------------------

    def _chat(self, req: dict[str, Any]) -> None:
        model = req.get("model")
        messages = req.get("messages")
        if not isinstance(model, str) or not model:
            self._send_json(
                400, _error("you must provide a model parameter", "invalid_request_error", None, "model")
            )
            return
        if not isinstance(messages, list) or not messages:
            self._send_json(
                400,
                _error("'messages' must contain at least one message", "invalid_request_error", None, "messages"),
            )
            return
        self._web = None
        if model.endswith(":free:web"):  # as Apertis documents: free models cannot search
            self._send_json(400, _error("Web search is not available for free models", "invalid_request_error",
                                        "web_search_not_supported", "model"))
            return
        if model.endswith(":web") and model[: -len(":web")] in _MODEL_ID_SET:
            model = model[: -len(":web")]
            self._web = self._web_plan(req, messages)
        if model not in _MODEL_ID_SET and not (model.endswith(":free") and model[:-5] in _MODEL_ID_SET):
            self._send_json(
                503,
                _error(
                    f"No available channel for model {model} under group default (distributor)",
                    "new_api_error",
                    "model_not_found",
                ),
            )
            return
        if model.startswith("test/err-"):
            self._send_error_scenario(model)
            return
        if model == "test/no-vision" and any(_image_urls(m) for m in messages):
            self._send_json(400, _error("Invalid content type. image_url is only supported by certain models.",
                                        "invalid_request_error", None, "messages.[0].content.[1].type"))
            return
        self._answer_headers: dict[str, str] = {}  # (the handler serves every request of a connection)
        if model in ("test/fails-then-fallback", "test/fallback-hostile"):
            fallbacks = req.get("fallback_models")
            if req.get("fallback_enabled") is False or not isinstance(fallbacks, list) or not fallbacks:
                self._send_json(503, _error(f"The upstream provider for {model} is unavailable.",
                                            "upstream_error", "model_unavailable"))
                return
            self._answer_headers = {
                "X-Fallback-Used": "true",
                "X-Actual-Model": str(fallbacks[0]),
                "X-Fallback-From": model,
                "X-Fallback-Reason": f"upstream timeout after {req.get('fallback_timeout')} ms",
            }
            if model == "test/fallback-hostile":
                self._answer_headers.update(FALLBACK_HOSTILE_HEADERS)
            model = str(fallbacks[0])  # the first fallback answers, as itself
        if model == "test/no-tools" and req.get("tools"):
            self._send_json(400, _error("tools is not supported by this model", "invalid_request_error", None, "tools"))
            return
        stream = bool(req.get("stream"))
        self._offered_tools = req.get("tools")
        if model == "test/json-answer":  # whatever was asked: one JSON body, as some gateways do
            stream = False
        if stream:
            self._stream(model, messages, req)
        else:
            self._complete(model, messages, req)

    @staticmethod
    def _web_plan(req: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        """What a ":web" request finds: its sources and the headers that say so."""
        count = req.get("web_results_count")
        count = count if isinstance(count, int) and 1 <= count <= 10 else 5
        said = _last_user_text(messages)
        if "no results" in said:
            sources: list[Any] = []
            headers = {"X-Web-Search-Used": "false", "X-Web-Search-Count": "0", "X-Web-Search-Status": "no_results"}
        else:
            sources = list(HOSTILE_SOURCES) if "hostile sources" in said else WEB_SOURCES[:count]
            headers = {"X-Web-Search-Used": "true", "X-Web-Search-Count": str(len(sources)),
                       "X-Web-Search-Status": "success"}
        return {"sources": sources, "headers": headers, "slow": "slow search" in said}

    def _send_error_scenario(self, model: str) -> None:
        rid = self.fake._request_id()
        if model == "test/err-401":
            self._send_json(
                401, _error(f"Invalid token (request id: {rid})", "invalid_request_error", "invalid_api_key")
            )
        elif model == "test/err-402":
            self._send_json(
                402,
                _error(
                    f"Insufficient balance: your account has run out of credit, please top up "
                    f"(request id: {rid})",
                    "new_api_error",
                    "insufficient_user_quota",
                ),
            )
        elif model == "test/err-403-quota":
            self._send_json(
                403, _error("user quota is not enough", "new_api_error", "insufficient_user_quota")
            )
        elif model == "test/err-403":
            self._send_json(
                403,
                _error(f"access denied for this group (request id: {rid})", "new_api_error", "access_denied"),
            )
        elif model == "test/err-404":
            self._send_json(
                404,
                _error(
                    f"The model `{model}` does not exist or you do not have access to it.",
                    "invalid_request_error",
                    "model_not_found",
                ),
            )
        elif model == "test/err-503-model":
            self._send_json(
                503,
                _error(
                    f"No available channel for model {model} under group default (distributor)",
                    "new_api_error",
                    "model_not_found",
                ),
            )
        elif model == "test/err-429":
            self._send_json(
                429,
                _error(
                    "Rate limit reached for requests per min. Please try again in 7s.",
                    "rate_limit_error",
                    "rate_limit_exceeded",
                ),
                {"Retry-After": "7"},
            )
        elif model == "test/err-429-empty":
            self._send_bytes(429, b"", "")
        elif model == "test/err-500":
            self._send_json(
                500,
                _error(
                    f"The server had an error while processing your request (request id: {rid})",
                    "server_error",
                    "internal_error",
                ),
            )
        elif model == "test/err-502-html":
            self._send_bytes(502, _NGINX_502.encode(), "text/html")
        elif model == "test/err-400":
            self._send_json(
                400,
                _error(
                    "Invalid 'temperature': decimal above maximum value. Expected a value <= 2.",
                    "invalid_request_error",
                    "invalid_value",
                    "temperature",
                ),
            )
        elif model == "test/err-403-cloudflare":
            self._send_bytes(403, b"error code: 1010", "text/plain; charset=UTF-8",
                             {"Server": "cloudflare", "CF-RAY": "8f0000000000abcd-AMS"})
        elif model == "test/err-context":
            self._send_json(400, _error(
                "This model's maximum context length is 8192 tokens. However, your messages resulted in "
                "9001 tokens. Please reduce the length of the messages.", "invalid_request_error",
                "context_length_exceeded", "messages"))
        elif model == "test/err-402-balance":
            self._send_json(402, _error("Insufficient balance: $0.02 left, this request needs about $0.05",
                                        "billing_error", "insufficient_balance"))
        elif model == "test/err-402-expired":
            self._send_json(402, _error("Your subscription expired on 2026-11-01", "billing_error",
                                        "subscription_expired"))
        else:  # an err-* id not known here
            self._send_json(500, _error(f"unknown error scenario {model}", "server_error"))

    @staticmethod
    def _usage(messages: list[Any], completion: int) -> dict[str, Any]:
        prompt = sum(
            count_tokens(_content_text(m.get("content")) if isinstance(m, dict) else "") + 4
            for m in messages
        )
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _timed_usage(self, model: str, messages: list[Any], completion: int) -> dict[str, Any]:
        """The usage, with the server's own timings for the models that send them."""
        usage = self._usage(messages, completion)
        if self._web is not None or model == "test/timings":
            usage["latency_checkpoint"] = dict(LATENCY_CHECKPOINT)
        return usage

    def _answer_for(self, model: str, messages: list[Any]) -> str:
        if model == "test/agent":
            return self._agent_answer(messages)
        if model == "test/hostile":
            return HOSTILE_TEXT
        if model == "test/vision":
            return vision_answer(messages)
        if model == "test/long":
            m = _TOKENS_OVERRIDE.search(_last_user_text(messages))
            n = min(int(m.group(1)), 2_000_000) if m else 20000
            return self.fake._long(n)
        return normal_answer(model, messages)

    @staticmethod
    def _tool_calls_wanted(model: str, messages: list[Any]) -> bool:
        if model != "test/tools":
            return False
        last = messages[-1] if messages else None
        return not (isinstance(last, dict) and last.get("role") == "tool")

    def _agent_calls(self, messages: list[Any], offered: Any) -> list[tuple[str, str, str]]:
        """test/agent: the calls to make now ((id, name, arguments)), or [] to answer in words."""
        said = _last_user_text(messages)
        last = messages[-1] if messages else None
        after_results = isinstance(last, dict) and last.get("role") == "tool"
        if not offered or (after_results and not re.search(r"\bloop\b", said)):
            return []
        calls = []
        for line in said.splitlines():
            found = re.match(r"\s*call\s+(\S+)\s*(.*)$", line)
            if found:
                number = self.fake._completion_id()[-8:]
                calls.append((f"call_{number}_{len(calls)}", found.group(1), found.group(2).strip() or "{}"))
        return calls

    @staticmethod
    def _agent_answer(messages: list[Any]) -> str:
        results = []
        for m in reversed(messages):
            if not (isinstance(m, dict) and m.get("role") == "tool"):
                break
            results.append(f"{m.get('tool_call_id')}: {_content_text(m.get('content'))[:200]}")
        if not results:
            return normal_answer("test/agent", messages)
        return "Tool results: " + " | ".join(reversed(results))

    _TOOL_CALLS = [
        ("call_fake_weather_0", "get_weather", '{"city": "Paris", "unit": "celsius"}'),
        ("call_fake_time_1", "get_time", '{"timezone": "Europe/Paris", "format": "24h"}'),
    ]

    # -- non-streaming --------------------------------------------------------

    def _complete(self, model: str, messages: list[Any], req: dict[str, Any]) -> None:
        cid = self.fake._completion_id()
        created = int(time.time())
        if model == "test/stall":
            self._wait_stall()
            self._cut_connection()
            return
        if model == "test/midstream-error":
            self._send_json(
                502, _error("Upstream provider overloaded", "upstream_error", "502")
            )
            return
        message: dict[str, Any] = {"role": "assistant"}
        finish = "stop"
        agent_calls = self._agent_calls(messages, self._offered_tools) if model == "test/agent" else []
        if agent_calls:
            message["content"] = None
            message["tool_calls"] = [
                {"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in agent_calls
            ]
            finish = "tool_calls"
            completion = sum(count_tokens(a) for _, _, a in agent_calls)
        elif self._tool_calls_wanted(model, messages):
            message["content"] = None
            message["tool_calls"] = [
                {"id": i, "type": "function", "function": {"name": n, "arguments": a}}
                for i, n, a in self._TOOL_CALLS
            ]
            finish = "tool_calls"
            completion = sum(count_tokens(a) for _, _, a in self._TOOL_CALLS)
        else:
            text = self._answer_for(model, messages)
            message["content"] = text
            completion = count_tokens(text)
            if model in ("test/reasoning", "test/json-answer"):
                message["reasoning_content"] = _REASONING_TEXT
                completion += count_tokens(_REASONING_TEXT)
            elif model == "test/reasoning-alt":
                message["reasoning"] = _REASONING_TEXT
                completion += count_tokens(_REASONING_TEXT)
        obj = {
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": self._timed_usage(model, messages, completion),
        }
        if model == "test/json-answer":  # Apertis's documented answer has this beside a good one
            obj["error"] = dict(_EMPTY_ERROR)
        web_headers = None
        if self._web is not None:  # as Apertis documents a web search's answer
            obj["web_sources"] = self._web["sources"]
            obj["error"] = dict(_EMPTY_ERROR)
            web_headers = self._web["headers"]
        if model not in ("test/bad-json", "test/cut"):
            self.fake.billing.book(model, obj["usage"]["prompt_tokens"], obj["usage"]["completion_tokens"])
        body = json.dumps(obj).encode()
        if model == "test/bad-json":
            body = body[: len(body) // 2]  # 200 OK with a truncated JSON body
            self._send_bytes(200, body, "application/json")
            return
        if model == "test/cut":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self._cut_connection()
            return
        self._send_bytes(200, body, "application/json", {**self._answer_headers, **(web_headers or {})})

    # -- streaming ------------------------------------------------------------

    def _wait_stall(self) -> None:
        deadline = time.monotonic() + 120.0
        fake = self.fake
        while time.monotonic() < deadline:
            if fake.stall_release.wait(0.05) or fake._stopping.is_set():
                return

    def _stream(self, model: str, messages: list[Any], req: dict[str, Any]) -> None:
        opts = req.get("stream_options")
        include_usage = isinstance(opts, dict) and bool(opts.get("include_usage"))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Accel-Buffering", "no")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in {**self._answer_headers, **(self._web["headers"] if self._web is not None else {})}.items():
            self.send_header(name, value)
        if model in ("test/midstream-error",):
            self.send_header("Connection", "close")
        self.end_headers()
        fixed_rate = 20.0 if model == "test/slow" else None
        try:
            tokens = self._write_paced(self._events(model, messages, include_usage), fixed_rate)
        except _Cut:
            self._cut_connection()
            return
        self.wfile.write(b"0\r\n\r\n")
        if model != "test/midstream-error":  # an answer that failed is not billed
            self.fake.billing.book(model, self._usage(messages, 0)["prompt_tokens"], tokens)
        if model == "test/midstream-error":
            self.close_connection = True

    def _events(
        self, model: str, messages: list[Any], include_usage: bool
    ) -> Iterator[tuple[bytes, bool] | Callable[[], None]]:
        """Yield (sse_bytes, paced) pairs, or callables run in order after a flush."""
        cid = self.fake._completion_id()
        created = int(time.time())
        ids = [cid]

        def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> bytes:
            obj: dict[str, Any] = {
                "id": ids[0],
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
            }
            if delta is not None:
                obj["choices"] = [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ]
            obj.update(extra)
            return b"data: " + json.dumps(obj).encode() + b"\n\n"

        def raw_chunk(obj: dict[str, Any]) -> bytes:
            base = {"id": ids[0], "object": "chat.completion.chunk", "created": created, "model": model}
            base.update(obj)
            return b"data: " + json.dumps(base).encode() + b"\n\n"

        done = b"data: [DONE]\n\n"
        web = self._web
        if web is not None:  # Apertis's indicator: its own id, no model, a status in the content
            indicator = {"id": "web-search", "object": "chat.completion.chunk", "created": created, "model": "",
                         "choices": [{"index": 0, "delta": {"role": "assistant", "content": WEB_INDICATOR}}]}
            yield b"data: " + json.dumps(indicator).encode() + b"\n\n", False
            if web["slow"]:
                yield self._wait_stall

        # -- test/agent: calls to the offered tools --------------------------
        if model == "test/agent":
            calls = self._agent_calls(messages, self._offered_tools)
            if calls:
                yield chunk({"role": "assistant", "content": None}), False
                for idx, (call_id, name, args) in enumerate(calls):
                    head = {"index": idx, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
                    yield chunk({"tool_calls": [head]}), True
                    for i in range(0, len(args), 9):
                        yield chunk({"tool_calls": [{"index": idx, "function": {"arguments": args[i: i + 9]}}]}), True
                yield chunk({}, "tool_calls"), False
                if include_usage:
                    completion = sum(count_tokens(a) for _, _, a in calls)
                    yield raw_chunk({"choices": [], "usage": self._usage(messages, completion)}), False
                yield done, False
                return

        # -- tool calls ----------------------------------------------------
        if self._tool_calls_wanted(model, messages):
            yield chunk({"role": "assistant", "content": None}), False
            frags: list[list[str]] = []
            for idx, (call_id, name, args) in enumerate(self._TOOL_CALLS):
                frags.append([args[i : i + 7] for i in range(0, len(args), 7)])
            heads = [
                {
                    "index": idx,
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": ""},
                }
                for idx, (call_id, name, _a) in enumerate(self._TOOL_CALLS)
            ]
            yield chunk({"tool_calls": [heads[0]]}), True
            # two fragments of call 0 first, then call 1's head, then interleave
            for f in frags[0][:2]:
                yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": f}}]}), True
            yield chunk({"tool_calls": [heads[1]]}), True
            rest0, rest1 = frags[0][2:], frags[1]
            for a, b in itertools.zip_longest(rest0, rest1):
                if a is not None:
                    yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": a}}]}), True
                if b is not None:
                    yield chunk({"tool_calls": [{"index": 1, "function": {"arguments": b}}]}), True
            yield chunk({}, "tool_calls"), False
            completion = sum(count_tokens(a) for _, _, a in self._TOOL_CALLS)
            if include_usage:
                yield raw_chunk({"choices": [], "usage": self._usage(messages, completion)}), False
            yield done, False
            return

        text = self._answer_for(model, messages)
        toks = split_tokens(text)
        usage = self._timed_usage(model, messages, len(toks))

        # -- reasoning -----------------------------------------------------
        reasoning_field = {"test/reasoning": "reasoning_content", "test/reasoning-alt": "reasoning"}.get(model)
        if reasoning_field:
            rtoks = split_tokens(_REASONING_TEXT)
            usage = self._usage(messages, len(toks) + len(rtoks))
            usage["completion_tokens_details"] = {"reasoning_tokens": len(rtoks)}  # type: ignore[assignment]
            first = {"role": "assistant", "content": ""}
            first[reasoning_field] = ""
            yield chunk(first), False
            for t in rtoks:
                yield chunk({reasoning_field: t}), True
        elif model == "test/comments":
            yield b": OPENROUTER PROCESSING\n\n", False
            yield b": keep-alive\n\n", False
            yield chunk({"role": "assistant", "content": ""}), False
        else:
            yield chunk({"role": "assistant", "content": ""}), False

        half = max(1, len(toks) // 2)
        for i, t in enumerate(toks):
            if model == "test/stall" and i == 1:
                yield self._wait_stall
                raise _Cut
            if model == "test/cut" and i == half:
                raise _Cut
            if model == "test/midstream-error" and i == half:
                yield b'data: {"error":{"message":"Upstream provider overloaded","type":"upstream_error","code":"502"}}\n\n', False
                return
            if (model == "test/changing-id" or web is not None) and i == half:
                ids[0] = self.fake._completion_id()
                if web is not None and web["sources"]:  # some sources early, beside a word
                    yield chunk({"content": t}, web_sources=web["sources"][: max(1, len(web["sources"]) // 2)]), True
                    continue
            if model == "test/bad-json" and i == half:
                yield b"data: {not json\n\n", False
            if model == "test/comments" and i % 3 == 1:
                comment = (b": PING", b": keep-alive", b": OPENROUTER PROCESSING")[(i // 3) % 3]
                if i % 2:
                    yield comment + b"\n\n", False  # a comment line of its own
                else:
                    yield comment + b"\n" + chunk({"content": t}), True  # inside an event
                    continue
            if model == "test/usage-shapes" and i == half:
                partial = self._usage(messages, i)
                yield raw_chunk({"choices": [], "usage": partial}), False
            yield chunk({"content": t}), True

        if model == "test/usage-shapes":
            partial = self._usage(messages, len(toks) - 1)
            yield raw_chunk({"choices": None, "usage": partial}), False
            yield chunk({}, "stop"), False
            yield raw_chunk({"usage": partial}), False
            yield raw_chunk({"choices": [{"index": 0, "delta": {}}], "usage": usage}), False
            yield done, False
            return

        if model == "test/comments":
            yield b": keep-alive\n\n", False
        if web is not None:  # every source, again, and Apertis's empty error object beside a good answer
            yield chunk({}, "stop", web_sources=web["sources"], error=dict(_EMPTY_ERROR)), False
        else:
            yield chunk({}, "stop"), False
        if include_usage:
            yield raw_chunk({"choices": [], "usage": usage}), False
        if model == "test/comments":
            yield b": PING\n\n", False
        if model == "test/no-done":
            return
        yield done, False

    def _write_chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _write_paced(
        self, events: Iterable[tuple[bytes, bool] | Callable[[], None]], fixed_rate: float | None
    ) -> int:
        """Write SSE events, one per token, paced at the rate; batch socket writes. Returns
        how many were paced (the answer's tokens, as billed).

        Token i is due at start + i/rate (the rate is re-read for every token, so it can change
        while streaming). Socket writes happen at most every ~5 ms: tokens that fell due in the
        meantime go out together in one HTTP chunk, each still its own SSE event. Non-paced
        events (role, finish, usage, [DONE], comments) go with the next write.
        """
        batch_gap = 0.005
        max_batch = 256
        buf: list[bytes] = []
        t_next = time.monotonic()
        last_flush = t_next
        prev_rate = 0.0

        def flush() -> None:
            nonlocal last_flush
            if buf:
                self._write_chunk(b"".join(buf))
                buf.clear()
            last_flush = time.monotonic()

        tokens = 0
        try:
            for ev in events:
                if callable(ev):
                    flush()
                    ev()
                    continue
                data, paced = ev
                if paced:
                    tokens += 1
                    rate = fixed_rate if fixed_rate is not None else float(self.fake.rate or 0)
                    if rate > 0:
                        now = time.monotonic()
                        if prev_rate <= 0:  # (re)starting to pace: no catch-up burst
                            t_next = max(t_next, now)
                        if t_next > now:
                            flush()
                            wake = max(t_next, last_flush + batch_gap)
                            delay = wake - time.monotonic()
                            if delay > 0 and self.fake._stopping.wait(delay):
                                raise _Cut
                        t_next += 1.0 / rate
                    prev_rate = rate
                buf.append(data)
                if len(buf) >= max_batch:
                    flush()
        except _Cut:
            flush()
            raise
        flush()
        return tokens


class FakeServer:
    """A fake OpenAI-compatible server on 127.0.0.1 (see module doc and SCENARIOS)."""

    def __init__(
        self,
        key: str = "test-key",
        rate: float = 0,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        verbose: bool = False,
    ) -> None:
        self.key = key
        self.rate = rate
        self.host = host
        self.verbose = verbose
        self._port = port
        self._lock = threading.Lock()
        self._requests: list[dict[str, Any]] = []
        self._conns: set[socket.socket] = set()
        self.accepted = 0  # connections clients opened (keep-alive reuses one)
        self._ids = itertools.count(1)
        self._long_cache: dict[int, str] = {}
        self.stall_release = threading.Event()
        self.billing = Ledger()  # GET /v1/token/usage; .mode and .book_late_ms switch its behaviour
        self.max_body: int | None = None  # a bigger request body is refused with 413, as nginx does
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> "FakeServer":
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer((self.host, self._port), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-apertis", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd = self._httpd
        if httpd is None:
            return
        self._stopping.set()
        self.billing.stop()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def serve_forever(self) -> None:
        """Start and block until KeyboardInterrupt (for the script)."""
        self.start()
        try:
            while True:
                time.sleep(3600)
        finally:
            self.stop()

    def __enter__(self) -> "FakeServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- properties ------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """Only the POST /v1/chat/completions requests."""
        return [r for r in self.requests if r["path"].split("?")[0].rstrip("/") == "/v1/chat/completions"]

    def reset(self) -> None:
        """Forget the recorded requests and re-arm stalls (clears stall_release)."""
        with self._lock:
            self._requests.clear()
        self.stall_release.clear()

    # -- internals ---------------------------------------------------------------

    def _record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(entry)

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._conns.add(conn)
                self.accepted += 1  # connections opened by clients, in all
            else:
                self._conns.discard(conn)

    def _completion_id(self) -> str:
        with self._lock:
            n = next(self._ids)
        return f"chatcmpl-{n:08x}{(n * 2654435761) % (1 << 32):08x}fake"

    def _request_id(self) -> str:
        with self._lock:
            n = next(self._ids)
        return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + f"{n:012d}"

    def _long(self, n: int) -> str:
        with self._lock:
            text = self._long_cache.get(n)
        if text is None:
            text = long_markdown(n)
            with self._lock:
                if len(self._long_cache) > 8:
                    self._long_cache.clear()
                self._long_cache[n] = text
        return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="A fake Apertis (OpenAI-compatible) server for demos and tests.")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--key", default="demo-key")
    p.add_argument("--rate", type=float, default=60.0, help="tokens/second for streamed answers; 0 = flat out")
    p.add_argument("--verbose", action="store_true", help="log every request")
    p.add_argument("--usage", choices=("ok", "none", "wrong"), default="ok",
                   help="GET /v1/token/usage: as Apertis has it, 404, or a body of another shape")
    p.add_argument("--book-late", type=int, default=0, metavar="MS", help="book each answer's cost MS ms after it ends")
    p.add_argument("--max-body", type=int, default=None, help="answer 413 to bigger request bodies (bytes)")
    args = p.parse_args(argv)
    # Ctrl-C stops it even when started in the background (where SIGINT is inherited ignored);
    # SIGTERM stops it cleanly too.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    server = FakeServer(key=args.key, rate=args.rate, port=args.port, host=args.host, verbose=args.verbose)
    server.billing.mode, server.billing.book_late_ms = args.usage, args.book_late
    server.max_body = args.max_body
    server.start()
    print(f"fake Apertis server on {server.base_url} (key: {server.key})", flush=True)
    print(f"{len(MODEL_IDS)} models; scenarios: {', '.join(SCENARIOS)}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
