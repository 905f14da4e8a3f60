"""Apertis's web search and server timings: what a reply keeps of them (``WebSource``,
``WebSearch``, ``ServerTimings``), the request side (the ``:web`` model, its
parameters, the ``:free`` rule) and reading what comes back (sources, the ``X-Web-Search-*``
headers, ``usage.latency_checkpoint``).

Everything read here is untrusted server text: a title becomes one clean line, a URL is kept
only when it is an http(s) address with nothing in it that a terminal would act on (it is
handed to the terminal inside an OSC 8 hyperlink), and every length is capped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from .settings.validation import DEFAULT_WEB_CONTENT_LENGTH, DEFAULT_WEB_RESULTS
from .text import clean, one_line

WEB_SUFFIX = ":web"
FREE_SUFFIX = ":free"
#: The id of the chunk that only says a search is under way (its text is not the answer).
INDICATOR_ID = "web-search"
MAX_SOURCES = 20  # a request asks for at most 10; a server sending more gets the first 20
_TITLE_LIMIT = 300
_URL_LIMIT = 2048
_SNIPPET_LIMIT = 2000
_STATUS_LIMIT = 40
_TIMING_NAMES = ("engine_ttft_ms", "engine_ttlt_ms", "service_ttft_ms", "total_duration_ms")
# Printable ASCII that may stay as it is in a URL; anything else is percent-encoded.
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~-._"
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


# ---------------------------------------------------------------------------
# What a reply keeps


@dataclass(frozen=True)
class WebSource:
    """One source a web search found. Cleaned on the way in (``core.web``): ``title`` is one
    line, ``url`` an http(s) address safe to hand to a terminal, or "" when it was not."""

    title: str
    url: str = ""
    snippet: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "url": self.url, "snippet": self.snippet}


@dataclass(frozen=True)
class WebSearch:
    """A reply whose request asked for a web search, and what the server said of it in its
    ``X-Web-Search-*`` headers (None where it said nothing): used, how many results, and
    success, failed or no_results."""

    used: bool | None = None
    count: int | None = None
    status: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"used": self.used, "count": self.count, "status": self.status}


@dataclass(frozen=True)
class ServerTimings:
    """``usage.latency_checkpoint``: the server's own timings of a reply, in milliseconds."""

    engine_ttft_ms: float | None = None
    engine_ttlt_ms: float | None = None
    service_ttft_ms: float | None = None
    total_duration_ms: float | None = None

    @property
    def ttft_ms(self) -> float | None:
        """The server's time to first token: the service's (what the server measured from the
        request's arrival), else the engine's."""
        return self.service_ttft_ms if self.service_ttft_ms is not None else self.engine_ttft_ms

    def as_dict(self) -> dict[str, float]:
        return {name: value for name, value in self.__dict__.items() if value is not None}


# ---------------------------------------------------------------------------
# The request


@dataclass(frozen=True)
class WebOptions:
    """A request that searches the web: the model is sent as ``model:web`` with these."""

    results: int = DEFAULT_WEB_RESULTS  # web_results_count, 1 to 10
    content_length: str = DEFAULT_WEB_CONTENT_LENGTH  # web_content_length: short, medium or full


def is_free(model: str) -> bool:
    return model.endswith(FREE_SUFFIX)


def web_model(model: str) -> str:
    """The id that asks Apertis to search the web with ``model`` (once, whatever it was given)."""
    return model if model.endswith(WEB_SUFFIX) else model + WEB_SUFFIX


def free_refusal(model: str) -> str:
    """Why a chat with web search on cannot ask ``model``: a sentence, with what to do."""
    return (f"{one_line(model, 80)} is a free model, and free models (:free) cannot search the web. "
            "Pick another model (ctrl+o), or turn web search off (f5).")


def web_body(model: str, options: WebOptions) -> dict[str, Any]:
    """The body fields of a request that searches the web with ``model``."""
    return {"model": web_model(model), "web_results_count": options.results,
            "web_content_length": options.content_length}


# ---------------------------------------------------------------------------
# What comes back


def safe_url(value: Any) -> str:
    """``value`` as an http(s) URL fit for a terminal hyperlink, or "" when it is not one.

    A URL holding spaces or control characters is refused whole (a terminal would end the
    hyperlink there, or act on an escape sequence); other non-ASCII characters are
    percent-encoded, and a non-ASCII host is written in its ASCII (IDNA) form."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    if not url or len(url) > _URL_LIMIT or _SPACE_OR_CONTROL.search(url):
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # raises ValueError on a bad port
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not host:
        return ""
    if "@" in parts.netloc:  # user info in a link shown by its host misleads
        return ""
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return ""
    netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port is not None else "")
    rebuilt = urlunsplit((parts.scheme.lower(), netloc, quote(parts.path, safe=_URL_SAFE),
                          quote(parts.query, safe=_URL_SAFE), quote(parts.fragment, safe=_URL_SAFE)))
    return rebuilt if len(rebuilt) <= _URL_LIMIT else ""


def host_of(url: str) -> str:
    """The host a source's link goes to, as shown beside it (``www.`` left out)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def parse_sources(value: Any) -> tuple[WebSource, ...]:
    """``web_sources`` (a list of ``{title, url, snippet}``) as clean sources; entries of
    another shape, or with neither a title nor a usable URL, are left out."""
    if not isinstance(value, list):
        return ()
    out: list[WebSource] = []
    for item in value[:MAX_SOURCES]:
        if not isinstance(item, dict):
            continue
        url = safe_url(item.get("url"))
        title = item.get("title")
        title = one_line(title, _TITLE_LIMIT) if isinstance(title, str) else ""
        snippet = item.get("snippet")
        snippet = clean(snippet)[:_SNIPPET_LIMIT].strip() if isinstance(snippet, str) else ""
        if title or url:
            out.append(WebSource(title or host_of(url), url, snippet))
    return tuple(out)


def merge_sources(have: list[WebSource], more: tuple[WebSource, ...]) -> None:
    """Add ``more`` to ``have``, in order, leaving out what is there already (a server may send
    the list again with its last chunk)."""
    seen = {(s.url or s.title) for s in have}
    for source in more:
        key = source.url or source.title
        if key not in seen and len(have) < MAX_SOURCES:
            seen.add(key)
            have.append(source)


def search_report(headers: Mapping[str, str]) -> WebSearch | None:
    """What the ``X-Web-Search-*`` response headers say; None when there are none."""
    used = headers.get("x-web-search-used")
    count = headers.get("x-web-search-count")
    status = headers.get("x-web-search-status")
    if used is None and count is None and status is None:
        return None
    count_value = int(count.strip()) if count is not None and count.strip().isdigit() else None
    status_text = one_line(status, _STATUS_LIMIT).lower() if status is not None else ""
    return WebSearch(
        used={"true": True, "false": False}.get(used.strip().lower()) if used is not None else None,
        count=count_value,
        status=status_text or None,
    )


def parse_timings(value: Any) -> ServerTimings | None:
    """``usage.latency_checkpoint`` as ServerTimings (non-negative finite numbers only); None
    when it holds none of them."""
    if not isinstance(value, dict):
        return None
    found = {}
    for name in _TIMING_NAMES:
        number = value.get(name)
        if isinstance(number, (int, float)) and not isinstance(number, bool) and math.isfinite(number) and number >= 0:
            found[name] = number
    return ServerTimings(**found) if found else None


# ---------------------------------------------------------------------------
# Stored as JSON (the history) and read back


def sources_from_json(value: Any) -> tuple[WebSource, ...]:
    """Sources as stored (a JSON list), cleaned again: the file may hold text from elsewhere."""
    return parse_sources(value)


def search_from_json(value: Any) -> WebSearch | None:
    if not isinstance(value, dict):
        return None
    used, count, status = value.get("used"), value.get("count"), value.get("status")
    return WebSearch(
        used=used if isinstance(used, bool) else None,
        count=count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None,
        status=one_line(status, _STATUS_LIMIT) or None if isinstance(status, str) else None,
    )


def describe_search(search: WebSearch | None, sources: int) -> str:
    """One line on how a reply's web search went ("" when it asked for none)."""
    if search is None:
        return ""
    if search.status == "failed":
        return "The web search failed; the model answered without it."
    if search.status == "no_results" or (search.count == 0 and not sources):
        return "Searched the web: no results."
    if search.used is False:
        return "The server did not search the web for this reply."
    if sources:
        return f"Searched the web: {sources} source{'s' if sources != 1 else ''}."
    return "Searched the web." if search.used or search.status else "Web search was asked for."
