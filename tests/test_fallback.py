"""Strict gate (blocks non-browser TLS fingerprints): auto falls back to streaming inside the page."""

import asyncio
import re

import pytest

from aura_browser.errors import Blocked, SiteError
from aura_browser.profile import ProfileStore
from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages

from tests.support.drivers import both_drivers

pytestmark = both_drivers


async def test_auto_falls_back_in_page_and_chunks_arrive_while_the_reply_is_still_streaming(make_replica, make_client):
    replica = make_replica(gate="strict", hold_after=2)
    client = make_client(replica.url)
    messages = as_messages("Stream me, please")
    stream = client.stream(messages)

    first = await anext(stream)
    # The server is paused after two chunks and has not finished: the first chunk reached Python mid-stream.
    # (The replica writes a chunk before it counts itself as holding, so wait for that count.)
    assert await asyncio.to_thread(replica.stats.wait_until, lambda s: s.holding == 1, 10)
    assert replica.stats.chat_completed == 0
    assert client.last_stats.transport == "page"
    replica.release()
    rest = [chunk async for chunk in stream]

    assert first + "".join(rest) == reply_text(messages, "")
    assert replica.stats.chat_completed == 1
    assert replica.stats.tls_blocked >= 2  # direct, then direct again after one refresh
    assert replica.stats.clearances_issued == 2  # the first login and the one refresh


async def test_after_a_fallback_the_profile_remembers_that_direct_is_blocked(make_replica, make_client, profile_dir):
    replica = make_replica(gate="strict")
    await make_client(replica.url).ask("one")
    assert ProfileStore(profile_dir).load("default").direct_is_blocked()
    blocked = replica.stats.tls_blocked

    client = make_client(replica.url)  # a new process, in effect
    assert await client.ask("two") == reply_text(as_messages("two"), "")
    assert client.last_stats.transport == "page"
    assert replica.stats.tls_blocked == blocked  # it did not try direct again


async def test_transport_direct_does_not_fall_back_and_names_impersonate(make_replica, make_client):
    """Behind a TLS-fingerprint gate the cheap way through is impersonate, not a browser: the error says so."""
    replica = make_replica(gate="strict")
    with pytest.raises(Blocked, match=re.escape("; try transport='impersonate' (--transport impersonate) (Chrome's TLS "
                                                "fingerprint, still no browser), or transport='page' (--transport page)")
                       + "$"):
        await make_client(replica.url, transport="direct").ask("Hi")
    assert replica.stats.clearances_issued == 2  # one login and exactly one refresh


async def test_in_page_errors_map_to_the_same_types(make_replica, make_client):
    replica = make_replica(gate="challenge", status=500, reason="upstream is down")
    with pytest.raises(SiteError) as caught:
        await make_client(replica.url, transport="page").ask("Hi")
    assert caught.value.status == 500 and "upstream is down" in str(caught.value)


async def test_leaving_the_iterator_aborts_the_fetch_in_the_page(make_replica, make_client):
    replica = make_replica(gate="challenge", hold_after=1)
    client = make_client(replica.url, transport="page")
    stream = client.stream(as_messages("Hi"))
    await anext(stream)
    await stream.aclose()
    # The page's fetch was aborted: the held request is gone without finishing, and the page is still usable.
    await asyncio.to_thread(replica.stats.wait_until, lambda s: s.holding == 0, 10)
    assert replica.stats.chat_completed == 0
    replica.config.hold_after = None
    assert await client.ask("again") == reply_text(as_messages("again"), "")
