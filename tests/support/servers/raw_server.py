"""A loopback HTTP/1.1 server that keeps each request's raw bytes and answers /api/chat with one compressed reply.

No HTTP library parses the request, so a test sees exactly what went on the wire: header order, case, and
every header a client library adds on its own.
"""

from __future__ import annotations

import asyncio
import gzip
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import brotli

try:
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:
    from backports import zstd  # type: ignore[no-redef]

from tests.support.servers.background import background_loop, call

ENCODERS = {"identity": lambda data: data, "gzip": gzip.compress, "br": brotli.compress, "zstd": zstd.compress}


@dataclass
class RawLog:
    requests: list[bytes] = field(default_factory=list)  # each request's head, up to the blank line

    def header_lines(self, index: int = -1) -> list[tuple[str, str]]:
        lines = self.requests[index].decode("latin-1").split("\r\n")[1:]
        return [tuple(line.split(": ", 1)) for line in lines if line]  # type: ignore[misc]


@contextmanager
def raw_server(reply: str, encoding: str = "identity") -> Iterator[tuple[str, RawLog]]:
    """Yields (base URL, log). Every request is answered 200 with `reply`, compressed as `encoding`."""
    log = RawLog()
    body = ENCODERS[encoding](reply.encode("utf-8"))
    head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
    if encoding != "identity":
        head += f"Content-Encoding: {encoding}\r\n"
    response = (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    handlers: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            while True:
                request_head = await reader.readuntil(b"\r\n\r\n")
                log.requests.append(request_head[:-4])
                length = next(
                    (int(value) for name, value in RawLog([request_head[:-4]]).header_lines() if name.lower() == "content-length"),
                    0,
                )
                await reader.readexactly(length)
                writer.write(response)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            handlers.discard(task)

    async def start() -> asyncio.base_events.Server:
        return await asyncio.start_server(handle, "127.0.0.1", 0)

    async def stop(server: asyncio.base_events.Server) -> None:
        server.close()
        for task in list(handlers):
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    with background_loop() as loop:
        server = call(loop, start())
        try:
            yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", log
        finally:
            call(loop, stop(server))
