"""Odd input handled sensibly: a profile name with a final newline, a Retry-After that is no time, a huge
response header, and terminal escape sequences from a site (never copied raw to stderr)."""

import asyncio
import contextlib

import pytest
from aiohttp import web

from aura_browser.errors import Blocked
from aura_browser.profile import Profile
from aura_browser.transports.direct import DirectTransport
from aura_browser.wire.api import as_messages, build_body

from tests.support.cli import assert_one_line_error, run_cli
from tests.support.profiles import save_plain_profile

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[31m\u202e"


@contextlib.asynccontextmanager
async def site_handling(chat):
    """A site on loopback whose POST api/chat is handled by `chat(request)`."""
    app = web.Application()
    app.router.add_post("/api/chat", chat)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def odd_site(answer):
    """A site on loopback whose POST api/chat is answered by `answer()`."""

    async def chat(request: web.Request) -> web.Response:
        return answer()

    return site_handling(chat)


async def ask_direct(url, profile_dir):
    save_plain_profile(profile_dir, url)
    return await asyncio.to_thread(run_cli, "ask", "--base-url", url, "--transport", "direct", "Hi",
                                   env={"AURA_PROFILE_DIR": str(profile_dir)})


def test_a_profile_name_with_a_final_newline_is_refused(profile_dir):
    for args in (["profiles", "show", "default\n"], ["ask", "--profile", "default\n", "Hi"]):
        assert_one_line_error(run_cli(*args, env={"AURA_PROFILE_DIR": str(profile_dir)}), 2, "profile name")
    assert not profile_dir.exists() or not list(profile_dir.iterdir())


@pytest.mark.parametrize("value", ["inf", "nan", "soon", "-5", "1e999", "9" * 400])
async def test_a_retry_after_that_is_no_time_is_not_quoted_as_one(profile_dir, value):
    asked = []

    def answer():
        asked.append(1)
        return web.Response(status=429, text="Error", headers={"Retry-After": value})

    async with odd_site(answer) as url:
        result = await ask_direct(url, profile_dir)
    line = assert_one_line_error(result, 5, "site error 429: rate limited")
    assert "wait" not in line and "inf" not in line, line
    assert len(asked) == 2  # retried once, after a short default pause


async def test_a_huge_response_header_is_reported_as_such(profile_dir):
    async with odd_site(lambda: web.Response(text="hi", headers={"X-Huge": "a" * 200_000})) as url:
        result = await ask_direct(url, profile_dir)
    line = assert_one_line_error(result, 6, "response header longer than 8190 bytes")
    assert "closed the connection" not in line


@contextlib.asynccontextmanager
async def raw_site(reply: bytes):
    """A site on loopback that answers any request with exactly these bytes, then closes."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def test_escape_sequences_from_a_sites_body_never_reach_stderr_raw(profile_dir):
    async with odd_site(lambda: web.Response(status=502, text=f"upstream {ESCAPES} failed")) as url:
        result = await ask_direct(url, profile_dir)
    assert_escaped(result)


async def test_escape_sequences_from_a_sites_reason_phrase_never_reach_stderr_raw(profile_dir):
    reply = f"HTTP/1.1 502 Bad {ESCAPES} Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    async with raw_site(reply.encode("utf-8")) as url:
        result = await ask_direct(url, profile_dir)
    assert_escaped(result)


def assert_escaped(result):
    line = assert_one_line_error(result, 5, "site error 502", "\\x1b]0;pwned\\x07\\x1b[2J")
    assert "\\u202e" in line
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in result.stderr.decode()


async def test_a_block_page_whose_title_comes_late_is_judged_whole_by_direct():
    async def late_title(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=403, headers={"Content-Type": "text/html"})
        await response.prepare(request)
        await response.write(b"<!DOCTYPE html>\n<html><head>")
        await asyncio.sleep(0.3)  # the site's own slowness: the title is in a later packet
        await response.write(b"<title>Attention Required! | Cloudflare</title></head><body>blocked</body></html>")
        await response.write_eof()
        return response

    transport = DirectTransport()
    async with site_handling(late_title) as url:
        profile = Profile(base_url=url, user_agent="Mozilla/5.0 Test")
        try:
            with pytest.raises(Blocked, match="answered 403 with a block page"):  # so auto climbs to impersonate
                async for _ in transport.stream(profile, build_body(as_messages("Hi"))):
                    pass
        finally:
            await transport.aclose()
