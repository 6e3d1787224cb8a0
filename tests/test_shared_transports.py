"""One replay transport, shared by concurrent streams, sends each stream's own profile (it is given per call)."""

import asyncio

import pytest
from aiohttp import web

from aura_browser.errors import StreamInterrupted
from aura_browser.replica import reply_text
from aura_browser.transports.base import Timeouts
from aura_browser.transports.direct import DirectTransport
from aura_browser.transports.impersonate import ImpersonateTransport
from aura_browser.transports.replay import ReplayTransport
from aura_browser.wire.api import as_messages, build_body

from tests.support.profiles import profile_of
from tests.support.servers.loopback_app import held_chat_app, serve_app


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


async def stalled_reply(transport: ReplayTransport, url: str, who: str,
                        streaming: asyncio.Event | None = None) -> StreamInterrupted:
    """The error of a reply that stalls after its first text (`streaming` is set then)."""
    try:
        async for _ in transport.stream(profile_of(url, who), build_body(as_messages("Hi"))):
            if streaming is not None:
                streaming.set()
    except StreamInterrupted as exc:
        return exc
    raise AssertionError("a stalled reply ended without timing out")


@pytest.mark.parametrize("make_transport", [DirectTransport, ImpersonateTransport], ids=["direct", "impersonate"])
async def test_a_stream_that_stalls_times_out_while_another_on_the_same_transport_streams_on(make_transport):
    # One timer keeps the timeouts of every reply of a transport: the stalled reply's must fire, and only its.
    released = asyncio.Event()

    async def chat(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"part")
        if request.cookies.get("who") == "stalls":
            await released.wait()  # silent: the client's idle timeout ends the reply
            return response
        while not released.is_set():  # a chunk well within each idle timeout, until the other has timed out
            await response.write(b".")
            await asyncio.sleep(0.02)
        await response.write(b"done")
        return response

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    transport = make_transport(timeouts=Timeouts(10, 30, 0.3))

    async def stalls_then_release(url: str) -> StreamInterrupted:
        try:
            return await stalled_reply(transport, url, "stalls")
        finally:
            released.set()

    async def streaming(url: str) -> str:
        return "".join([text async for text in transport.stream(profile_of(url, "streams"), build_body(as_messages("Hi")))])

    try:
        async with serve_app(app) as url:
            timed_out, text = await asyncio.wait_for(asyncio.gather(stalls_then_release(url), streaming(url)), 20)
    finally:
        await transport.aclose()
    assert "stalled" in str(timed_out) and timed_out.partial_text == "part"
    assert text.startswith("part.") and text.endswith("done")


@pytest.mark.parametrize("make_transport", [DirectTransport, ImpersonateTransport], ids=["direct", "impersonate"])
async def test_a_reply_that_stalls_after_another_stalled_reply_times_out_too(make_transport):
    # The timer fires for the first; with nothing else streaming, it must be set again for the second.
    released, started = asyncio.Event(), asyncio.Event()
    transport = make_transport(timeouts=Timeouts(10, 30, 0.3))

    async def stalled_later(url: str) -> StreamInterrupted:
        await started.wait()  # its wait runs out after the first one's
        return await stalled_reply(transport, url, "later")

    try:
        async with serve_app(held_chat_app(released)) as url:
            try:
                timed_out = await asyncio.wait_for(
                    asyncio.gather(stalled_reply(transport, url, "first", started), stalled_later(url)), 20)
            finally:
                released.set()  # before the server stops: it waits for its handlers
    finally:
        await transport.aclose()
    assert all("stalled" in str(exc) and exc.partial_text == "part" for exc in timed_out)
