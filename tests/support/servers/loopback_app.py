"""Small real servers for tests: any aiohttp app on a free loopback port."""

import asyncio
import contextlib
from typing import AsyncIterator

from aiohttp import web


@contextlib.asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def nginx_app() -> web.Application:
    """A web server that is not OpenChat UI: a welcome page at /, and no /api/models."""

    async def welcome(request: web.Request) -> web.Response:
        return web.Response(text="<html><title>Welcome to nginx!</title></html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/", welcome)
    return app


def held_chat_app(released: asyncio.Event) -> web.Application:
    """/api/chat answers "part", then says nothing more until `released` is set."""

    async def chat(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"part")
        await released.wait()
        return response

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    return app
