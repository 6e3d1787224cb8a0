"""The impersonate transport keeps its curl handles configured between requests: what one request set must not
reach the next (its headers, a cookie its reply set, its proxy), and a handle whose transfer failed still serves."""

import asyncio

import pytest
from aiohttp import web

from aura_browser.errors import SiteDown, StreamInterrupted
from aura_browser.profile import Profile
from aura_browser.transports.base import Timeouts
from aura_browser.transports.impersonate import ImpersonateTransport
from aura_browser.wire.api import as_messages, build_body

from tests.support.profiles import profile_of
from tests.support.servers.auth_proxy import auth_proxy
from tests.support.servers.loopback_app import held_chat_app, serve_app

BODY = build_body(as_messages("Hi"))


def chat_app(seen: list[list[tuple[str, str]]]) -> web.Application:
    """/api/chat records each request's raw headers and answers with a cookie of its own, as a gate might."""

    async def chat(request: web.Request) -> web.Response:
        seen.append([(name.decode(), value.decode()) for name, value in request.raw_headers])
        response = web.Response(text="Hello")
        response.set_cookie("planted", "by-the-reply", path="/")
        return response

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    return app


def sent(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name]


async def ask(transport: ImpersonateTransport, profile: Profile) -> str:
    return "".join([text async for text in transport.stream(profile, BODY)])


async def test_a_kept_handle_sends_only_each_requests_own_headers_and_no_cookie_an_earlier_reply_set():
    seen: list[list[tuple[str, str]]] = []
    transport = ImpersonateTransport(timeouts=Timeouts(10, 30, 30))
    try:
        async with serve_app(chat_app(seen)) as url:
            answers = [await ask(transport, profile_of(url, who)) for who in ("first", "second", "third")]
            kept = [handle for idle in transport._session._idle.values() for handle in idle]
    finally:
        await transport.aclose()
    assert answers == ["Hello"] * 3
    assert len(kept) == 1  # the three requests went out on one handle, one after another
    assert [sent(headers, "cookie") for headers in seen] == [["who=first"], ["who=second"], ["who=third"]]
    assert [sent(headers, "user-agent")[0].rsplit(" ", 1)[1] for headers in seen] == ["first", "second", "third"]
    assert all(not sent(headers, "expect") for headers in seen)


async def test_requests_through_a_proxy_and_without_one_each_take_their_own_way_on_one_transport():
    seen: list[list[tuple[str, str]]] = []
    transport = ImpersonateTransport(timeouts=Timeouts(10, 30, 30))
    try:
        async with serve_app(chat_app(seen)) as url:
            with auth_proxy("aura", "secret") as proxy:
                through = proxy.url()
                await ask(transport, profile_of(url, "proxied", through))
                await ask(transport, profile_of(url, "direct"))
                await ask(transport, profile_of(url, "proxied-again", through))
                forwarded = proxy.log.authorised("POST", "/api/chat")
                refused = proxy.log.refused()
    finally:
        await transport.aclose()
    assert [sent(headers, "cookie") for headers in seen] == [["who=proxied"], ["who=direct"], ["who=proxied-again"]]
    assert forwarded == 2 and refused == 0


async def test_a_handle_whose_request_failed_serves_the_next_one(unused_tcp_port):
    seen: list[list[tuple[str, str]]] = []
    transport = ImpersonateTransport(timeouts=Timeouts(10, 30, 30))
    try:
        with pytest.raises(SiteDown, match="Connection refused"):
            await ask(transport, profile_of(f"http://127.0.0.1:{unused_tcp_port}", "refused"))
        async with serve_app(chat_app(seen)) as url:
            assert await ask(transport, profile_of(url, "after")) == "Hello"
            kept = [handle for idle in transport._session._idle.values() for handle in idle]
    finally:
        await transport.aclose()
    assert len(kept) == 1 and [sent(headers, "cookie") for headers in seen] == [["who=after"]]


async def test_closing_the_transport_mid_reply_breaks_the_stream_and_frees_every_handle():
    release = asyncio.Event()
    transport = ImpersonateTransport(timeouts=Timeouts(10, 30, 30))
    async with serve_app(held_chat_app(release)) as url:
        stream = transport.stream(profile_of(url, "held"), BODY)
        assert await anext(stream) == "part"
        transfers = transport._session
        await transport.aclose()
        release.set()
        with pytest.raises(StreamInterrupted, match="broke mid-reply") as broken:
            await anext(stream)
    assert broken.value.partial_text == "part"
    assert transfers is not None and not transfers._busy and not transfers._idle
