"""One replay transport, shared by concurrent streams, sends each stream's own profile (it is given per call)."""

from urllib.parse import urlsplit

import pytest

from aura_browser.profile import Profile
from aura_browser.replica import reply_text
from aura_browser.transports.base import Timeouts
from aura_browser.transports.direct import DirectTransport
from aura_browser.transports.impersonate import ImpersonateTransport
from aura_browser.wire.api import as_messages, build_body


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
