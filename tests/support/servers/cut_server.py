"""A tiny /api/chat on a background thread that answers exactly the bytes and chunk borders a request asks for.

The request's first message is JSON: {"hex": the reply's bytes, "cuts": the chunk borders}. Each chunk is
written on its own, with the socket's Nagle delay off, so the client's reads see the borders.
"""

from __future__ import annotations

import asyncio
import json
import socket
from contextlib import contextmanager
from itertools import pairwise
from typing import Iterator

from aiohttp import web

from tests.support.servers.background import background_loop, call


def spec(data: bytes, cuts: list[int]) -> str:
    return json.dumps({"hex": data.hex(), "cuts": sorted(set(cuts))})


async def _chat(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    wanted = json.loads(body["messages"][0]["content"])
    data = bytes.fromhex(wanted["hex"])
    borders = [0, *[c for c in wanted["cuts"] if 0 < c < len(data)], len(data)]
    response = web.StreamResponse(status=200)
    response.enable_chunked_encoding()
    await response.prepare(request)
    sock = request.transport.get_extra_info("socket") if request.transport else None
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for start, end in pairwise(borders):
        if end > start:
            await response.write(data[start:end])
            await asyncio.sleep(0.001)  # let the chunk leave before the next one
    await response.write_eof()
    return response


@contextmanager
def cut_server() -> Iterator[str]:
    """Run the server on a free loopback port; yields its base URL."""
    app = web.Application()
    app.router.add_post("/api/chat", _chat)
    runner = web.AppRunner(app)

    async def start() -> str:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    with background_loop() as loop:
        url = call(loop, start())
        try:
            yield url
        finally:
            call(loop, runner.cleanup())
