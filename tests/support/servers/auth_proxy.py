"""A real HTTP proxy with Basic auth, on loopback: plain requests are forwarded, CONNECT is tunnelled.

It answers 407 to any request without the right Proxy-Authorization, and logs every request it saw, so a
test can tell that the browser and the direct transport both went through it, with the password.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import urlsplit

from tests.support.servers.background import background_loop, call

_HOP_BY_HOP = {"proxy-authorization", "proxy-connection", "connection", "keep-alive"}


@dataclass
class ProxyLog:
    requests: list[tuple[str, str, bool]] = field(default_factory=list)  # (method, target, authorised)

    def authorised(self, method: str, contains: str = "") -> int:
        return sum(1 for m, target, ok in self.requests if ok and m == method and contains in target)

    def refused(self) -> int:
        return sum(1 for _, _, ok in self.requests if not ok)


class AuthProxy:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password
        self.log = ProxyLog()
        self.port = 0
        self._expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def url(self, user: str | None = None, password: str | None = None) -> str:
        return f"http://{user or self.user}:{password or self.password}@127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = lines[0].split(" ", 2)
                headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
                authorised = dict((k.lower(), v) for k, v in headers).get("proxy-authorization") == self._expected
                self.log.requests.append((method, target, authorised))
                if not authorised:
                    length = int(dict((k.lower(), v) for k, v in headers).get("content-length", "0") or 0)
                    await reader.readexactly(length)
                    writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                                 b'Proxy-Authenticate: Basic realm="aura-test"\r\nContent-Length: 0\r\n\r\n')
                    await writer.drain()
                    continue  # the client may answer the challenge on this same connection
                if method == "CONNECT":
                    host, _, port = target.rpartition(":")
                else:
                    host, port = urlsplit(target).hostname or "", str(urlsplit(target).port or 80)
                try:
                    up_reader, up_writer = await asyncio.open_connection(host, int(port))
                except OSError:  # e.g. the browser's own calls home, with no network here
                    writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                if method == "CONNECT":
                    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                else:
                    parts = urlsplit(target)
                    path = parts.path + (f"?{parts.query}" if parts.query else "")
                    kept = [f"{k}: {v}" for k, v in headers if k.lower() not in _HOP_BY_HOP]
                    up_writer.write(("\r\n".join([f"{method} {path} {version}", *kept, "Connection: close"])
                                     + "\r\n\r\n").encode("latin-1"))
                await _splice(reader, writer, up_reader, up_writer)
                return
        finally:
            writer.close()

    async def start(self) -> asyncio.AbstractServer:
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return server


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()


async def _splice(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter,
                  up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter) -> None:
    """Copy both ways until either side closes."""
    tasks = [asyncio.create_task(_pipe(client_reader, up_writer)), asyncio.create_task(_pipe(up_reader, client_writer))]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()
    up_writer.close()


@contextlib.contextmanager
def auth_proxy(user: str, password: str) -> Iterator[AuthProxy]:
    proxy = AuthProxy(user, password)
    with background_loop() as loop:
        server = call(loop, proxy.start())
        try:
            yield proxy
        finally:
            call(loop, _stop(server))  # on its own loop's thread: a Server is not thread-safe


async def _stop(server: asyncio.AbstractServer) -> None:
    """Close the proxy and end the connections it still serves, before its loop closes under them."""
    server.close()
    serving = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in serving:
        task.cancel()
    await asyncio.gather(*serving, return_exceptions=True)
    await server.wait_closed()
