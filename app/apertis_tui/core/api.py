"""The Apertis (OpenAI-compatible) HTTP client: model list, streamed and whole completions.

Everything that can go wrong becomes an :class:`ApiError` carrying a sentence for the user
(``core.errors``). ``stream_chat`` never raises it: a failure is its last event
(:class:`StreamError`), so the caller has one loop to write and keeps whatever text arrived
before the failure. Bytes -> events goes ``core.sse`` (framing) -> ``core.chunks`` (chunk shapes).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from .. import APP_NAME, __version__
from .chunks import ChunkInterpreter
from .errors import error_from_exception, error_from_response, host_of, not_openai, parse_json
from .events import (Completion, ContentDelta, Finish, ModelInfo, ReasoningDelta, StreamError, StreamEvent,
                     WebSearchInfo)
from .fallback import fallback_used
from .logs import keep_secret
from .reply import ReplyAccumulator
from .spend import TokenUsage, read_token_usage
from .sse import SSEDecoder, SSEEvent
from .text import clean
from .types import ApiError, ChatParams, FallbackSettings
from .web import WebOptions, WebSearch, search_report, web_body

log = logging.getLogger(__name__)
USER_AGENT = f"{APP_NAME}/{__version__} (+https://github.com/apertis-tui) httpx/{httpx.__version__}"
_RAW_LIMIT = 1 << 20  # bytes of a body that is not SSE kept to read it as JSON at its end


# ---------------------------------------------------------------------------
# The client


async def _drain(lines: AsyncIterator[str], limit: float = 0.25, max_lines: int = 1000) -> None:
    """Read what follows ``[DONE]`` (usually nothing but the body's end) and ignore it: a body
    left unread makes httpx drop the connection, and every next request would pay a new TCP and
    TLS set-up. A server that keeps talking gets ``limit`` seconds, then the connection goes."""
    try:
        async with asyncio.timeout(limit):
            count = 0
            async for _ in lines:
                count += 1
                if count >= max_lines:
                    return
    except (TimeoutError, httpx.HTTPError):
        pass


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

    async def _get(self, path: str) -> httpx.Response:
        """``GET {base}{path}`` with the key; no key, or no connection, raises :class:`ApiError`."""
        if not self._key or self._bad_key:
            raise self._no_key()
        try:
            return await self._http.get(f"{self.base_url}{path}")
        except httpx.HTTPError as exc:
            raise error_from_exception(exc, self.base_url, self.timeouts, started=False) from None

    def _raise_for(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            raise error_from_response(response.status_code, response.content, response.headers, key=self._key,
                                      host=host_of(self.base_url))

    async def list_models(self) -> list[ModelInfo]:
        response = await self._get("/models")
        if response.status_code == 404:
            raise ApiError("bad_response", f"{host_of(self.base_url)} has no model list at this base URL (404).",
                           "Check the base URL in Settings (f2); it usually ends in /v1.", status=404)
        self._raise_for(response)
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
        return not_openai(self.base_url)

    # -- spend ---------------------------------------------------------------

    async def token_usage(self) -> TokenUsage | None:
        """The key's spend and balance (Apertis's ``GET /token/usage``). None: this server has
        no such endpoint (a 404, or a body of another shape). Raises :class:`ApiError`."""
        response = await self._get("/token/usage")
        if response.status_code in (404, 405, 501):
            return None
        self._raise_for(response)
        return read_token_usage(parse_json(response.text))

    # -- chat ----------------------------------------------------------------

    def _body(self, model: str, messages: list[dict[str, Any]], params: ChatParams | None, stream: bool,
              tools: list[dict[str, Any]] | None, tool_choice: Any, web: WebOptions | None = None,
              fallback: FallbackSettings | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        if params is not None:
            body.update(params.as_request())
        if tools:
            body["tools"] = tools
            if tool_choice is not None:
                body["tool_choice"] = tool_choice
        if web is not None:  # Apertis: the model id with ":web", and how to search
            body.update(web_body(model, web))
        if fallback is not None:
            body.update(fallback.as_request())
        return body

    @staticmethod
    def _web_info(web: WebOptions | None, headers: httpx.Headers) -> list[StreamEvent]:
        """A request that searched the web: what the response's headers say of the search (an
        empty report when they say nothing: the reply still records that it asked)."""
        if web is None:
            return []
        return [WebSearchInfo(search_report(headers) or WebSearch())]

    async def stream_chat(
        self,
        model: str,
        messages: list[dict[str, Any]],
        params: ChatParams | None = None,
        *,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: Any = None,
        web: WebOptions | None = None,
        fallback: FallbackSettings | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Stream one completion. The last event is always :class:`Finish` or :class:`StreamError`."""
        sent = sorted((params or ChatParams()).as_request())
        log.info("stream %s%s: %d messages, params %s", model, " (web search)" if web else "", len(messages),
                 ", ".join(sent) or "none")
        started = time.monotonic()
        chunks = 0
        events = self._stream_chat(model, messages, params, tools=tools, tool_choice=tool_choice, web=web,
                                   fallback=fallback)
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
        web: WebOptions | None = None,
        fallback: FallbackSettings | None = None,
    ) -> AsyncIterator[StreamEvent]:
        if not self._key or self._bad_key:
            yield StreamError(self._no_key())
            return
        body = self._body(model, messages, params, True, tools, tool_choice, web, fallback)
        interpreter = ChunkInterpreter(self._key, model)
        decoder = SSEDecoder()
        done = False
        saw_event = False
        raw: list[str] = []  # the body's lines until it proves to be SSE: it may be plain JSON
        raw_size = 0
        try:
            async with self._http.stream("POST", f"{self.base_url}/chat/completions", json=body,
                                         headers={"Accept": "text/event-stream"}) as response:
                if response.status_code >= 400:
                    content = await response.aread()
                    yield StreamError(error_from_response(response.status_code, content, response.headers,
                                                          model=model, key=self._key, host=host_of(self.base_url)))
                    return
                served = fallback_used(response.headers, model)
                if served is not None:
                    yield served
                for item in self._web_info(web, response.headers):
                    yield item
                lines = response.aiter_lines()
                async for line in lines:
                    event = decoder.feed(line)
                    if event is None:
                        if not saw_event and raw_size < _RAW_LIMIT:
                            raw.append(line)
                            raw_size += len(line)
                        continue
                    saw_event = True
                    if self._is_done(event):
                        done = True
                        await _drain(lines)
                        break
                    for item in self._events(event, interpreter):
                        yield item
                        if isinstance(item, StreamError):
                            return
                if not done:
                    # A last event without its blank line still counts.
                    event = decoder.flush()
                    if event is not None and self._is_done(event):
                        done = True
                    elif event is not None:
                        saw_event = True
                        for item in self._events(event, interpreter):
                            yield item
                            if isinstance(item, StreamError):
                                return
        except httpx.HTTPError as exc:
            yield StreamError(error_from_exception(exc, self.base_url, self.timeouts, started=interpreter.saw_any))
            return
        if done or interpreter.finish_reason is not None:
            yield Finish(interpreter.finish_reason)
        elif not saw_event:  # not SSE: a JSON body (an error, or a whole completion), or the wrong URL
            for item in self._whole(parse_json("\n".join(raw)), interpreter):
                yield item
        else:
            yield StreamError(ApiError("cut", "The answer ended before the server said it was finished.",
                                       "The text so far is kept; retry for a full answer."))

    @staticmethod
    def _is_done(event: SSEEvent) -> bool:
        return not event.is_error and event.data.strip() == "[DONE]"

    def _events(self, event: SSEEvent, interpreter: ChunkInterpreter) -> list[StreamEvent]:
        chunk = parse_json(event.data)
        if event.is_error:
            return [interpreter.error_frame(chunk, event.data)]
        if chunk is None:
            return [StreamError(ApiError(
                "bad_response", "The server sent a piece of the answer that is not valid JSON, so words may be missing.",
                "The text so far is kept; retry for a full answer."))]
        try:
            return list(interpreter.events(chunk))
        except ApiError as exc:
            return [StreamError(exc)]

    def _whole(self, payload: Any, interpreter: ChunkInterpreter) -> list[StreamEvent]:
        """The events of a whole JSON answer: an error in any shape, or a non-streamed completion
        (its ``message`` read as the one delta). Anything else: not an OpenAI-compatible server."""
        try:
            events = list(interpreter.events(payload)) if payload is not None else []
        except ApiError:
            events = []
        if any(isinstance(event, StreamError) for event in events):
            return events
        choices = payload.get("choices") if isinstance(payload, dict) else None
        first = choices[0] if isinstance(choices, list) and choices else None
        if isinstance(first, dict) and isinstance(first.get("message", first.get("delta")), dict):
            return [*events, Finish(interpreter.finish_reason)]
        return [StreamError(self._not_json())]

    async def _complete_events(self, model: str, messages: list[dict[str, Any]], params: ChatParams | None,
                               tools: list[dict[str, Any]] | None, tool_choice: Any,
                               web: WebOptions | None = None,
                               fallback: FallbackSettings | None = None) -> list[StreamEvent]:
        if not self._key or self._bad_key:
            return [StreamError(self._no_key())]
        body = self._body(model, messages, params, False, tools, tool_choice, web, fallback)
        log.info("complete %s: %d messages", model, len(messages))
        try:
            response = await self._http.post(f"{self.base_url}/chat/completions", json=body)
        except httpx.HTTPError as exc:
            return [StreamError(error_from_exception(exc, self.base_url, self.timeouts, started=False))]
        if response.status_code >= 400:
            return [StreamError(error_from_response(response.status_code, response.content, response.headers,
                                                    model=model, key=self._key, host=host_of(self.base_url)))]
        events = self._web_info(web, response.headers) + self._whole(parse_json(response.text),
                                                                     ChunkInterpreter(self._key, model))
        served = fallback_used(response.headers, model)
        return events if served is None else [served, *events]

    async def complete(
        self,
        model: str,
        messages: list[dict[str, Any]],
        params: ChatParams | None = None,
        *,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: Any = None,
        web: WebOptions | None = None,
    ) -> Completion:
        """One whole (non-streamed) completion. Raises :class:`ApiError`."""
        reply = ReplyAccumulator.of(await self._complete_events(model, messages, params, tools, tool_choice, web))
        if reply.error is not None:
            raise reply.error
        return reply.completion()

    def chat(
        self,
        model: str,
        messages: list[dict[str, Any]],
        params: ChatParams | None = None,
        *,
        stream: bool = True,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: Any = None,
        web: WebOptions | None = None,
        fallback: FallbackSettings | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """The answer's events, streamed or (``stream=False``) all at once when it is whole;
        either way the last is :class:`Finish` or :class:`StreamError`. ``web``: search the web
        first (Apertis). ``fallback``: the models the service may answer with instead (a
        :class:`FallbackUsed` event then says so first)."""
        if stream:  # (not wrapped in another generator: a layer per event costs CPU on long answers)
            return self.stream_chat(model, messages, params, tools=tools, tool_choice=tool_choice, web=web,
                                    fallback=fallback)
        return self._whole_chat(model, messages, params, tools, tool_choice, web, fallback)

    async def _whole_chat(self, model: str, messages: list[dict[str, Any]], params: ChatParams | None,
                          tools: list[dict[str, Any]] | None, tool_choice: Any, web: WebOptions | None = None,
                          fallback: FallbackSettings | None = None) -> AsyncIterator[StreamEvent]:
        for event in await self._complete_events(model, messages, params, tools, tool_choice, web, fallback):
            yield event
