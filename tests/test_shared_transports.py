"""One replay transport, shared by concurrent streams, sends each stream's own profile (it is given per call)."""

import asyncio
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from aura_browser.errors import StreamInterrupted
from aura_browser.profile import Profile
from aura_browser.replica import reply_text
from aura_browser.transports.base import Timeouts
from aura_browser.transports.direct import DirectTransport
from aura_browser.transports.impersonate import ImpersonateTransport
from aura_browser.wire.api import as_messages, build_body

from tests.support.servers.loopback_app import held_chat_app, serve_app


def profile_of(url: str, who: str) -> Profile:
    cookie = {"name": "who", "value": who, "domain": urlsplit(url).hostname, "path": "/"}
    return Profile(url, f"Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 {who}", storage_state={"cookies": [cookie]})


@pytest.mark.parametrize("make_transport", [DirectTransport, ImpersonateTransport], ids=["direct", "impersonate"])
async def test_a_stream_started_while_another_is_in_flight_sends_its_own_profile(make_replica, make_transport):
    replica = make_replica(gate="off", chunk_size=3, chunk_delay=0.002)
    transport = make_transport(timeouts=Timeouts(10, 30, 30))
    messages = as_messages("Hi")
    try:
        first = transport.stream(profile_of(replica.url, "first"), build_body(messages))
        first_text = [await anext(first)]  # its request is sent and its reply is streaming
        session = transport._session
        second_text = [text async for text in transport.stream(profile_of(replica.url, "second"), build_body(messages))]
        first_text += [text async for text in first]
        assert session is not None and transport._session is session  # one session served both
    finally:
        await transport.aclose()
    assert "".join(first_text) == "".join(second_text) == reply_text(messages, "")
    assert [cookies.get("who") for cookies in replica.stats.chat_cookies] == ["first", "second"]


@pytest.mark.parametrize("make_transport", [DirectTransport, ImpersonateTransport], ids=["direct", "impersonate"])
async def test_streams_that_stall_time_out_while_another_on_the_same_transport_streams_on(make_transport):
    # One timer keeps the timeouts of every reply of a transport: each stalled reply's must fire, and only theirs.
    released = asyncio.Event()
    first_stalled = asyncio.Event()

    async def chat(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"part")
        if request.cookies.get("who", "").startswith("stalls"):
            await released.wait()  # silent: the client's idle timeout ends the reply
            return response
        while not released.is_set():  # a chunk well within each idle timeout, until the others have timed out
            await response.write(b".")
            await asyncio.sleep(0.02)
        await response.write(b"done")
        return response

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    transport = make_transport(timeouts=Timeouts(10, 30, 0.3))
    messages = as_messages("Hi")

    async def stalled(url: str, who: str) -> StreamInterrupted:
        try:
            async for _ in transport.stream(profile_of(url, who), build_body(messages)):
                first_stalled.set()
        except StreamInterrupted as exc:
            return exc
        raise AssertionError("a stalled reply ended without timing out")

    async def stalled_later(url: str) -> StreamInterrupted:
        await first_stalled.wait()  # its wait runs out after the first one's: the timer must be set again for it
        return await stalled(url, "stalls-later")

    async def streaming(url: str) -> str:
        return "".join([text async for text in transport.stream(profile_of(url, "streams"), build_body(messages))])

    async def stalls_then_release(url: str) -> list[StreamInterrupted]:
        try:
            return list(await asyncio.gather(stalled(url, "stalls"), stalled_later(url)))
        finally:
            released.set()

    try:
        async with serve_app(app) as url:
            timed_out, text = await asyncio.wait_for(asyncio.gather(stalls_then_release(url), streaming(url)), 20)
    finally:
        await transport.aclose()
    assert all("stalled" in str(exc) and exc.partial_text == "part" for exc in timed_out)
    assert text.startswith("part.") and text.endswith("done")


@pytest.mark.parametrize("make_transport", [DirectTransport, ImpersonateTransport], ids=["direct", "impersonate"])
async def test_a_reply_that_stalls_after_another_stalled_reply_times_out_too(make_transport):
    # The timer fires for the first; with nothing else streaming, it must be set again for the second.
    released = asyncio.Event()
    app = held_chat_app(released)
    transport = make_transport(timeouts=Timeouts(10, 30, 0.3))
    started = asyncio.Event()

    async def stalled(url: str, who: str) -> StreamInterrupted:
        try:
            async for _ in transport.stream(profile_of(url, who), build_body(as_messages("Hi"))):
                started.set()
        except StreamInterrupted as exc:
            return exc
        raise AssertionError("a stalled reply ended without timing out")

    async def stalled_later(url: str) -> StreamInterrupted:
        await started.wait()
        return await stalled(url, "later")

    try:
        async with serve_app(app) as url:
            try:
                timed_out = await asyncio.wait_for(asyncio.gather(stalled(url, "first"), stalled_later(url)), 20)
            finally:
                released.set()  # before the server stops: it waits for its handlers
    finally:
        await transport.aclose()
    assert all("stalled" in str(exc) and exc.partial_text == "part" for exc in timed_out)
