"""The Apertis (OpenAI-compatible) HTTP client: model list, streamed and whole completions.

Everything that can go wrong becomes an :class:`ApiError` carrying a sentence for the user.
``stream_chat`` never raises it: a failure is its last event (:class:`StreamError`), so the
caller has one loop to write and keeps whatever text arrived before the failure.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx

from .. import APP_NAME, __version__
from .events import (
    Completion,
    ContentDelta,
    Finish,
    ModelInfo,
    ReasoningDelta,
    StreamError,
    StreamEvent,
    ToolCallDelta,
    Usage,
    UsageEvent,
)
from .logs import keep_secret
from .text import clean, redact
from .types import ApiError, ChatParams

log = logging.getLogger(__name__)
USER_AGENT = f"{APP_NAME}/{__version__} (+https://github.com/apertis-tui) httpx/{httpx.__version__}"
_QUOTA_CODES = {"insufficient_user_quota", "insufficient_quota", "quota_exceeded", "billing_hard_limit_reached"}
_DETAIL_LIMIT = 300


# ---------------------------------------------------------------------------
# SSE


class SSEDecoder:
    """Turns the lines of an SSE body into the ``data`` payloads of its events.

    Comment lines (``: keep-alive``) and other fields are skipped; several ``data:`` lines in one
    event are joined with newlines, as the SSE spec says.
    """

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        """One line (without its line end). Returns a complete payload when an event ends."""
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def flush(self) -> str | None:
        if not self._data:
            return None
        payload = "\n".join(self._data)
        self._data = []
        return payload


class ChunkInterpreter:
    """Turns parsed chunk objects into stream events, tolerant of every shape servers send."""

    def __init__(self, key: str | None = None) -> None:
        self.finish_reason: str | None = None
        self.saw_any = False
        self._key = key  # only to redact it from error text

    def events(self, chunk: Any) -> Iterable[StreamEvent]:
        if not isinstance(chunk, dict):
            raise ApiError("bad_response", "The server sent a piece of the answer in a shape this app does not know.",
                           "Retry; if it keeps happening, the server is not OpenAI-compatible.")
        if chunk.get("error") is not None:
            yield StreamError(_stream_error(chunk["error"], self._key))
            return
        choices = chunk.get("choices")
        if isinstance(choices, list):
            for choice in choices[:1]:  # we never ask for n > 1
                yield from self._choice(choice)
        usage = chunk.get("usage")
        if isinstance(usage, dict) and any(isinstance(usage.get(k), int) for k in ("prompt_tokens", "completion_tokens", "total_tokens")):
            yield UsageEvent(_usage(usage))

    def _choice(self, choice: Any) -> Iterable[StreamEvent]:
        if not isinstance(choice, dict):
            return
        delta = choice.get("delta") or choice.get("message") or {}
        if isinstance(delta, dict):
            for field in ("reasoning_content", "reasoning"):
                text = delta.get(field)
                if isinstance(text, str) and text:
                    self.saw_any = True
                    if text := clean(text):
                        yield ReasoningDelta(text)
                    break
            text = delta.get("content")
            if isinstance(text, str) and text:
                self.saw_any = True
                if text := clean(text):
                    yield ContentDelta(text)
            tool_calls = delta.get("tool_calls")
            if isinstance(tool_calls, list):
                for position, call in enumerate(tool_calls):
                    event = _tool_call_delta(call, position)
                    if event is not None:
                        self.saw_any = True
                        yield event
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            self.finish_reason = reason


def _tool_call_delta(call: Any, position: int) -> ToolCallDelta | None:
    if not isinstance(call, dict):
        return None
    index = call.get("index")
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    arguments = function.get("arguments")
    return ToolCallDelta(
        index=index if isinstance(index, int) else position,
        id=call.get("id") if isinstance(call.get("id"), str) else None,
        name=function.get("name") if isinstance(function.get("name"), str) else None,
        arguments=arguments if isinstance(arguments, str) else "",
    )


def _usage(data: dict[str, Any]) -> Usage:
    def num(key: str) -> int | None:
        value = data.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return Usage(num("prompt_tokens"), num("completion_tokens"), num("total_tokens"))


# ---------------------------------------------------------------------------
# Errors


def _error_fields(body: Any) -> tuple[str, str, str]:
    """(message, code, type) from whatever error shape a server used."""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, str):
            return err, "", ""
        if isinstance(err, dict):
            message = err.get("message") or err.get("detail") or err.get("msg") or ""
            return str(message), str(err.get("code") or ""), str(err.get("type") or "")
        detail = body.get("detail") or body.get("message")
        if detail:
            return str(detail), "", ""
    return "", "", ""


def _trim(text: str, key: str | None) -> str:
    text = " ".join(redact(clean(text), key).split())
    return text if len(text) <= _DETAIL_LIMIT else text[: _DETAIL_LIMIT - 1] + "…"


def _full_stop(text: str) -> str:
    """``text`` ending in a full stop, so the hint that follows it starts a new sentence."""
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _stream_error(err: Any, key: str | None = None) -> ApiError:
    message, code, kind = _error_fields({"error": err})
    detail = _trim(message or code or kind or "no details", key)
    return ApiError("stream_error", f"The answer broke off with an error from the server: {_full_stop(detail)}",
                    "The text so far is kept. Retry, or pick another model with ctrl+o.", detail=detail)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        wait = float(value)
        return max(0.0, wait) if math.isfinite(wait) else None
    except ValueError:
        return None  # an HTTP date: rare enough to ignore


def error_from_response(status: int, body: bytes, headers: httpx.Headers, *, model: str | None = None,
                        key: str | None = None) -> ApiError:
    """Map an HTTP error response to an ApiError with a sentence and what to do."""
    text = body.decode("utf-8", "replace")
    try:
        parsed: Any = json.loads(text) if text.strip() else None
    except ValueError:
        parsed = None
    message, code, etype = _error_fields(parsed)
    if parsed is None and text.strip():
        looks_html = text.lstrip()[:1] == "<"
        message = "it answered with an HTML page, not JSON" if looks_html else text
    detail = _trim(message, key)
    said = f": {_full_stop(detail)}" if detail else "."
    lowered = f"{message} {code} {etype}".lower()
    name = model or "this model"

    if status == 401:
        return ApiError("auth", f"Your API key was rejected ({status}).",
                        "Set it in Settings (f2) or in APERTIS_API_KEY / STIMA_API_KEY.", status=status, detail=detail)
    quota_code = code in _QUOTA_CODES or etype in _QUOTA_CODES
    if status == 402 or (status == 403 and (quota_code or "quota" in lowered)) or (status == 429 and quota_code):
        return ApiError("quota", f"Your account has run out of credit ({status}).",
                        "Top up your balance, or pick a cheaper model with ctrl+o.", status=status, detail=detail)
    if "model_not_found" in lowered or (status == 404 and "model" in lowered):
        return ApiError("model_not_found", f"Model {name} is not available with your key ({status}).",
                        "Pick another with ctrl+o.", status=status, detail=detail)
    if status == 403:
        return ApiError("forbidden", f"The server refused the request ({status}){said}",
                        "Check that your key may use this model.", status=status, detail=detail)
    if status == 429:
        wait = _retry_after(headers)
        hint = f"Wait {wait:g} s, then retry." if wait is not None else "Wait a moment, then retry."
        return ApiError("rate_limited", f"Too many requests: the server is rate-limiting you ({status}).", hint,
                        status=status, retry_after=wait, detail=detail)
    if status >= 500:
        return ApiError("server", f"The server had a problem ({status}){said}", "Retry in a moment.",
                        status=status, detail=detail)
    return ApiError("bad_request", f"The server rejected the request ({status}){said}",
                    "Check the model and the parameters in Settings (f2).", status=status, detail=detail)


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def error_from_exception(exc: Exception, base_url: str, timeouts: httpx.Timeout, *, started: bool) -> ApiError:
    """Map a transport failure. ``started``: whether the answer had begun to arrive."""
    host = _host(base_url)
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


# ---------------------------------------------------------------------------
# The client


class ApertisClient:
    """One ``httpx.AsyncClient`` for all requests of one base URL and key."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        user_agent: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key or None
        keep_secret(self._key)
        # httpx cannot encode a non-ASCII header value (it raises here, at construction), and a
        # control character makes the request fail: refuse such a key with a sentence instead.
        self._bad_key = self._key is not None and not (self._key.isascii() and self._key.isprintable())
        self.timeouts = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout)
        self.user_agent = user_agent or USER_AGENT  # some servers (Cloudflare's bot rules) filter on it
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        if self._key and not self._bad_key:
            headers["Authorization"] = f"Bearer {self._key}"
        self._http = httpx.AsyncClient(headers=headers, timeout=self.timeouts, transport=transport)

    @property
    def has_key(self) -> bool:
        return self._key is not None

    async def aclose(self) -> None:
        await self._http.aclose()

    def _no_key(self) -> ApiError:
        if self._bad_key:
            return ApiError("auth", "Your API key contains characters that cannot be sent (only plain ASCII is allowed).",
                            "Paste it again in Settings (f2), or fix APERTIS_API_KEY / STIMA_API_KEY.")
        return ApiError("auth", "No API key is set.", "Add one in Settings (f2) or set APERTIS_API_KEY / STIMA_API_KEY.")

    # -- models --------------------------------------------------------------

    async def list_models(self) -> list[ModelInfo]:
        if not self._key or self._bad_key:
            raise self._no_key()
        try:
            response = await self._http.get(f"{self.base_url}/models")
        except httpx.HTTPError as exc:
            raise error_from_exception(exc, self.base_url, self.timeouts, started=False) from None
        if response.status_code == 404:
            raise ApiError("bad_response", f"{_host(self.base_url)} has no model list at this base URL (404).",
                           "Check the base URL in Settings (f2); it usually ends in /v1.", status=404)
        if response.status_code >= 400:
            raise error_from_response(response.status_code, response.content, response.headers, key=self._key)
        try:
            payload = response.json()
        except ValueError:
            raise self._not_json() from None
        items = payload.get("data") if isinstance(payload, dict) else payload
        if not isinstance(items, list):
            raise self._not_json()
        models: dict[str, ModelInfo] = {}
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"].strip():
                model_id = clean(item["id"]).strip()
                owner = item.get("owned_by")
                created = item.get("created")
                models.setdefault(model_id, ModelInfo(
                    id=model_id,
                    owned_by=clean(owner) if isinstance(owner, str) else "",
                    created=created if isinstance(created, int) and not isinstance(created, bool) else None,
                ))
        return list(models.values())

    def _not_json(self) -> ApiError:
        return ApiError("bad_response", f"{_host(self.base_url)} did not answer like an OpenAI-compatible API.",
                        "Check the base URL in Settings (f2); it usually ends in /v1.")

    # -- chat ----------------------------------------------------------------

    def _body(self, model: str, messages: list[dict[str, Any]], params: ChatParams | None, stream: bool,
              tools: list[dict[str, Any]] | None, tool_choice: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        if params is not None:
            body.update(params.as_request())
        if tools:
            body["tools"] = tools
            if tool_choice is not None:
                body["tool_choice"] = tool_choice
        return body

    async def stream_chat(
        self,
        model: str,
        messages: list[dict[str, Any]],
        params: ChatParams | None = None,
        *,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: Any = None,
    ) -> AsyncIterator[StreamEvent]:
        """Stream one completion. The last event is always :class:`Finish` or :class:`StreamError`."""
        sent = sorted((params or ChatParams()).as_request())
        log.info("stream %s: %d messages, params %s", model, len(messages), ", ".join(sent) or "none")
        started = time.monotonic()
        chunks = 0
        events = self._stream_chat(model, messages, params, tools=tools, tool_choice=tool_choice)
        try:
            async for event in events:
                if isinstance(event, (ContentDelta, ReasoningDelta)):
                    chunks += 1
                elif isinstance(event, Finish):
                    log.info("stream %s: finished (%s), %d chunks in %.2f s", model, event.reason, chunks,
                             time.monotonic() - started)
                elif isinstance(event, StreamError):
                    log.warning("stream %s: %s (status %s) after %d chunks: %s", model, event.error.kind,
                                event.error.status, chunks, event.error.sentence)
                yield event
        finally:
            await events.aclose()

    async def _stream_chat(
        self,
        model: str,
        messages: list[dict[str, Any]],
        params: ChatParams | None,
        *,
        tools: list[dict[str, Any]] | None,
        tool_choice: Any,
    ) -> AsyncIterator[StreamEvent]:
        if not self._key or self._bad_key:
            yield StreamError(self._no_key())
            return
        body = self._body(model, messages, params, True, tools, tool_choice)
        interpreter = ChunkInterpreter(self._key)
        decoder = SSEDecoder()
        done = False
        saw_payload = False
        try:
            async with self._http.stream("POST", f"{self.base_url}/chat/completions", json=body,
                                         headers={"Accept": "text/event-stream"}) as response:
                if response.status_code >= 400:
                    content = await response.aread()
                    yield StreamError(error_from_response(response.status_code, content, response.headers,
                                                          model=model, key=self._key))
                    return
                async for line in response.aiter_lines():
                    payload = decoder.feed(line)
                    if payload is None:
                        continue
                    saw_payload = True
                    if payload.strip() == "[DONE]":
                        done = True
                        break
                    for event in self._events(payload, interpreter):
                        yield event
                        if isinstance(event, StreamError):
                            return
                if not done:
                    # A last event without its blank line still counts.
                    payload = decoder.flush()
                    saw_payload = saw_payload or payload is not None
                    if payload is not None and payload.strip() != "[DONE]":
                        for event in self._events(payload, interpreter):
                            yield event
                            if isinstance(event, StreamError):
                                return
                    elif payload is not None:
                        done = True
        except httpx.HTTPError as exc:
            yield StreamError(error_from_exception(exc, self.base_url, self.timeouts, started=interpreter.saw_any))
            return
        if done or interpreter.finish_reason is not None:
            yield Finish(interpreter.finish_reason)
        elif not saw_payload:  # an HTML page or some other JSON: the base URL is wrong
            yield StreamError(self._not_json())
        else:
            yield StreamError(ApiError("cut", "The answer ended before the server said it was finished.",
                                       "The text so far is kept; retry for a full answer."))

    def _events(self, payload: str, interpreter: ChunkInterpreter) -> Iterable[StreamEvent]:
        try:
            chunk = json.loads(payload)
        except ValueError:
            return [StreamError(ApiError(
                "bad_response", "The server sent a piece of the answer that is not valid JSON, so words may be missing.",
                "The text so far is kept; retry for a full answer."))]
        try:
            return list(interpreter.events(chunk))
        except ApiError as exc:
            return [StreamError(exc)]

    async def complete(
        self,
        model: str,
        messages: list[dict[str, Any]],
        params: ChatParams | None = None,
        *,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: Any = None,
    ) -> Completion:
        """One whole (non-streamed) completion. Raises :class:`ApiError`."""
        if not self._key or self._bad_key:
            raise self._no_key()
        body = self._body(model, messages, params, False, tools, tool_choice)
        try:
            response = await self._http.post(f"{self.base_url}/chat/completions", json=body)
        except httpx.HTTPError as exc:
            raise error_from_exception(exc, self.base_url, self.timeouts, started=False) from None
        if response.status_code >= 400:
            raise error_from_response(response.status_code, response.content, response.headers, model=model, key=self._key)
        try:
            payload = response.json()
        except ValueError:
            raise self._not_json() from None
        if isinstance(payload, dict) and payload.get("error") is not None:
            raise _stream_error(payload["error"], self._key)
        choices = payload.get("choices") if isinstance(payload, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise self._not_json()
        message = choices[0].get("message") or {}
        if not isinstance(message, dict):
            raise self._not_json()
        reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
        tool_calls = message.get("tool_calls")
        usage = payload.get("usage")
        return Completion(
            content=clean(message.get("content") or "") if isinstance(message.get("content"), str) else "",
            reasoning=clean(reasoning) if isinstance(reasoning, str) else "",
            tool_calls=tool_calls if isinstance(tool_calls, list) else None,
            usage=_usage(usage) if isinstance(usage, dict) else None,
            finish_reason=choices[0].get("finish_reason"),
        )
