"""A loopback HTTP server that answers every request with one recorded body.

For replaying ``../shared/sse-corpus``: the body goes out whole (with Content-Length), or in
random pieces of 1-24 bytes with chunked transfer encoding, each piece written and drained on
its own so lines, CRLF pairs and UTF-8 sequences are split across the client's reads.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
            404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable"}


@dataclass
class Recording:
    body: bytes
    status: int = 200
    content_type: str = "text/event-stream"
    headers: dict[str, str] = field(default_factory=dict)


class ReplayServer:
    def __init__(self, recording: Recording, *, pieces: bool, seed: str = "") -> None:
        self.recording = recording
        self.pieces = pieces
        self._random = random.Random(seed)
        self._server: asyncio.Server | None = None
        self.requests: list[bytes] = []  # each request's head and body

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}/v1"

    async def __aenter__(self) -> "ReplayServer":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            self.requests.append(head + await reader.readexactly(length))
            await self._answer(writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter) -> None:
        rec = self.recording
        lines = [f"HTTP/1.1 {rec.status} {_REASONS.get(rec.status, 'Status')}",
                 f"Content-Type: {rec.content_type}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in rec.headers.items()]
        lines.append("Transfer-Encoding: chunked" if self.pieces else f"Content-Length: {len(rec.body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if not self.pieces:
            writer.write(rec.body)
            await writer.drain()
            return
        at = 0
        while at < len(rec.body):
            size = self._random.randint(1, 24)
            piece = rec.body[at: at + size]
            at += size
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
            await asyncio.sleep(0)  # let the client read this piece on its own
        writer.write(b"0\r\n\r\n")
        await writer.drain()
