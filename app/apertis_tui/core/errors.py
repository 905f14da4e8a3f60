"""Every failure the API client meets, as a sentence for the user: the one place that knows the
error shapes servers use and what each means.

Servers disagree on the shape (``{"error": {...}}``, ``[{"error": ...}]``, vLLM's flat
``{"object": "error", "message": ...}``, MiniMax's ``base_resp``, an HTML page, nothing at all)
and on the status (one-api reports a used-up quota as 401, llama.cpp a too-long prompt as 500).
So the words count as much as the status: :func:`read_error` finds the server's own words in any
shape, :func:`classify` decides what happened from status, code and words together, and the
sentence always carries the server's words where they say more than the status does.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .text import clean, redact
from .types import ApiError

if TYPE_CHECKING:
    import httpx

DETAIL_LIMIT = 300
_QUOTA_CODES = {"insufficient_user_quota", "insufficient_quota", "quota_exceeded", "billing_hard_limit_reached",
                "insufficient_balance", "subscription_expired"}
# Words that say "out of credit" even when the status says something else (one-api: 401 "额度已用尽").
_QUOTA_WORDS = re.compile(r"quota|balance|credit|billing|额度|余额", re.I)
_CONTEXT_WORDS = re.compile(
    r"context_length_exceeded|context[ _]length|maximum context|context size|context window"
    r"|exceeds the available context|prompt is too long|too many tokens in the prompt", re.I)
_NO_CHANNEL_WORDS = re.compile(r"model_not_found|no available channel|无可用渠道", re.I)
_BAD_KEY_WORDS = re.compile(r"api[ _-]?key (is )?(not valid|invalid)|invalid[ _]api[ _]key|incorrect api key", re.I)
_CLOUDFLARE_CODE = re.compile(r"error code:?\s*(1\d{3})\b", re.I)


@dataclass(frozen=True)
class ErrorBody:
    """What a server said about a failure: its words, code and type (each may be empty)."""

    message: str = ""
    code: str = ""
    type: str = ""

    @property
    def words(self) -> str:
        return f"{self.message} {self.code} {self.type}"


def _text(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    return str(value) if isinstance(value, (str, int, float)) else ""


def _from_object(err: dict[str, Any]) -> ErrorBody | None:
    message = _text(err.get("message")) or _text(err.get("detail")) or _text(err.get("msg"))
    metadata = err.get("metadata")
    if isinstance(metadata, dict) and _text(metadata.get("raw")):  # OpenRouter: the provider's own words
        raw = _text(metadata["raw"])
        message = f"{message}: {raw}" if message and raw not in message else raw
    body = ErrorBody(message, _text(err.get("code")), _text(err.get("type")))
    # Apertis's documented web-search answer carries an error object with nothing in it.
    return body if body.message or body.code or body.type else None


def read_error(body: Any, *, loose: bool = False) -> ErrorBody | None:
    """The error a parsed JSON body reports, or None when it reports none.

    ``loose``: the body came with an error status, so a bare ``message`` or ``detail`` is the
    server's explanation too (a 200 body with such a field is not taken for an error).
    """
    if isinstance(body, list):  # Gemini: [{"error": {...}}]
        for item in body:
            found = read_error(item, loose=loose)
            if found is not None:
                return found
        return None
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    if isinstance(err, str) and err.strip():
        return ErrorBody(err)
    if isinstance(err, dict):
        found = _from_object(err)
        if found is not None:
            return found
    if body.get("object") == "error":  # vLLM: the fields at the top level
        return _from_object(body)
    base = body.get("base_resp")  # MiniMax, through some gateways
    if isinstance(base, dict) and base.get("status_code") not in (None, 0, "0"):
        return ErrorBody(_text(base.get("status_msg")), _text(base.get("status_code")))
    if loose:
        return _from_object(body)
    return None


def trim(text: str, key: str | None) -> str:
    """One line of the server's words, without the key or control characters, at most DETAIL_LIMIT long."""
    text = " ".join(redact(clean(text), key).split())
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"


def full_stop(text: str) -> str:
    """``text`` ending in a full stop, so the hint that follows it starts a new sentence."""
    return text if text.endswith((".", "!", "?", "…", "。")) else text + "."


def retry_after(headers: "httpx.Headers") -> float | None:
    """Seconds to wait, from ``Retry-After`` as a number or an HTTP date."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        wait = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        from datetime import datetime, timezone

        if when.tzinfo is None:
            return None
        wait = (when - datetime.now(timezone.utc)).total_seconds()
        return round(wait) if wait >= 1 else None  # a date already past: no wait worth saying
    return max(0.0, wait) if math.isfinite(wait) else None


def host_of(url: str) -> str:
    return urlsplit(url).netloc or url


def not_openai(base_url: str) -> ApiError:
    return ApiError("bad_response", f"{host_of(base_url)} did not answer like an OpenAI-compatible API.",
                    "Check the base URL in Settings (f2); it usually ends in /v1.")


# ---------------------------------------------------------------------------
# Deciding what happened


def _quota(status: int | None, body: ErrorBody, said: str) -> ApiError:
    where = f" ({status})" if status else ""
    codes = {body.code.lower(), body.type.lower()}
    if "subscription_expired" in codes:
        return ApiError("quota", f"Your subscription has expired{where}{said}",
                        "Renew it in your account, then retry; :free models still answer (ctrl+o).",
                        status=status)
    if "insufficient_balance" in codes:
        return ApiError("quota", f"Your balance is too low for this request{where}{said}",
                        "Top up your balance, or pick a cheaper or :free model with ctrl+o.", status=status)
    if "quota_exceeded" in codes:
        return ApiError("quota", f"This key's quota is used up{where}{said}",
                        "Raise the key's quota or top up in your account, or pick a :free model with ctrl+o.",
                        status=status)
    return ApiError("quota", f"Your account has run out of credit{where}{said}",
                    "Top up your balance, or pick a cheaper model with ctrl+o.", status=status)


def _cloudflare(status: int, text: str, headers: "httpx.Headers | None", host: str) -> ApiError | None:
    """Cloudflare's own refusal ("error code: 1010", or its HTML block page), not the service's."""
    head = text[:4000]
    by_cloudflare = "cloudflare" in head.lower() or headers is not None and (
        "cloudflare" in headers.get("server", "").lower() or "cf-ray" in headers)
    code = _CLOUDFLARE_CODE.search(head)
    if code and not (by_cloudflare or len(text.strip()) < 100):
        return None
    if not code and not (by_cloudflare and head.lstrip()[:1] == "<"):
        return None
    what = f"error code {code.group(1)}" if code else "a block page"
    where = f", in front of {host}," if host else ""
    return ApiError("forbidden", f"Cloudflare{where} refused this client ({status}, {what}); your key was not checked.",
                    "It filters some programs by their User-Agent: set user_agent in the settings file "
                    "(or APERTIS_USER_AGENT) to another value, then retry.", status=status)


def cannot_connect(error: ApiError) -> bool:
    """The server was not reached (network, DNS, TLS, no answer in time), or Cloudflare refused
    this client before it: another address of the same service may do better. A refused key
    (401) or any answer of the service itself is not that."""
    return error.kind == "connect" or (error.kind == "forbidden" and error.message.startswith("Cloudflare"))


def classify(status: int | None, body: ErrorBody | None, *, text: str = "", headers: "httpx.Headers | None" = None,
             model: str | None = None, host: str = "", key: str | None = None) -> ApiError:
    """The sentence for a failure. ``status`` None: an error inside a 200 stream or body.

    ``text``: the raw body, for the shapes that are not JSON (Cloudflare, HTML pages, plain text).
    """
    body = body or ErrorBody()
    message = body.message
    if not message and text.strip():
        message = "it answered with an HTML page, not JSON" if text.lstrip()[:1] == "<" else text
    detail = trim(message or (body.code or body.type if status is None else ""), key)
    said = f": {full_stop(detail)}" if detail else "."
    words = f"{message} {body.code} {body.type}"
    codes = {body.code.lower(), body.type.lower()}
    name = model or "this model"
    st = f" ({status})" if status else ""

    def done(error: ApiError) -> ApiError:
        error.detail = detail
        return error

    if status == 403 and (blocked := _cloudflare(status, text, headers, host)) is not None:
        return done(blocked)
    if _CONTEXT_WORDS.search(words):
        return done(ApiError("context_length", f"The conversation is too long for {name}{st}{said}",
                             "Start a new chat (ctrl+n), fork a shorter one from an earlier message (ctrl+up, "
                             "then f), or pick a model with a longer context (ctrl+o).",
                             status=status))
    quota_code = bool(codes & _QUOTA_CODES)
    if status == 402 or quota_code or (status in (None, 401, 403) and _QUOTA_WORDS.search(words)):
        return done(_quota(status, body, said))
    if status == 401 or _BAD_KEY_WORDS.search(words):
        # A 401 says it all; a 400 from a server that rejects keys that way (Gemini) needs its words.
        return done(ApiError("auth", f"Your API key was rejected{st}{'.' if status == 401 else said}",
                             "Set it in Settings (f2) or in APERTIS_API_KEY / STIMA_API_KEY.", status=status))
    if _NO_CHANNEL_WORDS.search(words) or (status == 404 and "model" in words.lower()):
        return done(ApiError("model_not_found", f"Model {name} is not available with your key{st}{said}",
                             "Pick another with ctrl+o.", status=status))
    if status is None:
        shown = detail or "no details"
        return done(ApiError("stream_error", f"The answer broke off with an error from the server: {full_stop(shown)}",
                             "The text so far is kept. Retry, or pick another model with ctrl+o."))
    if status == 403:
        return done(ApiError("forbidden", f"The server refused the request{st}{said}",
                             "Check that your key may use this model.", status=status))
    if status == 429:
        wait = retry_after(headers) if headers is not None else None
        hint = f"Wait {wait:g} s, then retry." if wait is not None else "Wait a moment, then retry."
        return done(ApiError("rate_limited", f"Too many requests: the server is rate-limiting you{st}{said}", hint,
                             status=status, retry_after=wait))
    if status == 413:  # nginx's client_max_body_size, a proxy's limit: attachments, nearly always
        where = host or "the server"
        own = "." if not body.message else said  # nginx says it in an HTML page: nothing to add
        return done(ApiError("too_large", f"The request is larger than {where} accepts (413){own}",
                             "Attachments on this branch are sent again with every turn: send fewer or smaller "
                             "ones (ctrl+l; smaller images in Settings, f2), or go on in a new chat (ctrl+n) or "
                             "a fork from before them (ctrl+up, then f).", status=status))
    if status >= 500:
        return done(ApiError("server", f"The server had a problem{st}{said}", "Retry in a moment.", status=status))
    return done(ApiError("bad_request", f"The server rejected the request{st}{said}",
                         "Check the model and the parameters in Settings (f2).", status=status))


def parse_json(text: str) -> Any:
    """``text`` as JSON, or None (an empty text too). Called for every chunk of a stream."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def error_from_response(status: int, body: bytes, headers: "httpx.Headers", *, model: str | None = None,
                        key: str | None = None, host: str = "") -> ApiError:
    """An HTTP error response (status >= 400) as a sentence and what to do."""
    text = body.decode("utf-8", "replace")
    return classify(status, read_error(parse_json(text), loose=True), text=text, headers=headers, model=model,
                    host=host, key=key)


def error_in_answer(err: ErrorBody, *, model: str | None = None, key: str | None = None) -> ApiError:
    """An error the server reported inside a 200 answer (a stream's error chunk, or a JSON body)."""
    return classify(None, err, model=model, key=key)


def error_from_exception(exc: Exception, base_url: str, timeouts: "httpx.Timeout", *, started: bool) -> ApiError:
    """A transport failure. ``started``: whether the answer had begun to arrive."""
    import httpx

    host = host_of(base_url)
    if isinstance(exc, httpx.ConnectTimeout):
        return ApiError("connect", f"Could not reach {host}: no answer within {timeouts.connect:g} s.",
                        "Check your network and the base URL in Settings (f2).")
    if isinstance(exc, (httpx.ConnectError, httpx.UnsupportedProtocol)):
        return ApiError("connect", f"Could not reach {host}.", "Check your network and the base URL in Settings (f2).")
    if isinstance(exc, httpx.TimeoutException):
        what = "in the middle of the answer" if started else "before the answer began"
        return ApiError("timeout", f"{host} went silent for {timeouts.read:g} s {what}.",
                        "Retry; for slow models raise the read timeout in Settings (f2).")
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.NetworkError)):
        if started:
            return ApiError("cut", "The connection closed in the middle of the answer.",
                            "The text so far is kept; retry for a full answer.")
        return ApiError("connect", f"The connection to {host} failed before an answer arrived.",
                        "Check your network, then retry.")
    return ApiError("bad_response", f"The request to {host} failed ({type(exc).__name__}).", "Retry in a moment.")
