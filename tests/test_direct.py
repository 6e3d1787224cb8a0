"""The direct transport against the replica: exact text, the profile's cookies and headers, errors."""

import asyncio
import time

import pytest

from aura_browser.errors import LoginRequired, NotThisApp, SiteDown, SiteError, StreamInterrupted
from aura_browser.profile import EXPIRY_MARGIN, ProfileStore
from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages

from tests.support.drivers import both_drivers
from tests.support.profiles import save_plain_profile


@both_drivers
async def test_login_then_a_direct_ask_returns_the_exact_reply(make_replica, make_client):
    replica = make_replica(gate="challenge", chunk_size=3, chunk_delay=0.002, split_multibyte=True)
    client = make_client(replica.url)
    messages = as_messages("Grüße aus Köln 👋")
    chunks = [chunk async for chunk in client.stream(messages)]

    expected = reply_text(messages, "")
    assert "".join(chunks) == expected
    assert any(ord(ch) > 0xFFFF for ch in expected) and len(chunks) > 1
    assert client.last_stats.transport == "direct"
    assert replica.stats.clearances_issued == 1  # logged in once, first
    sent = replica.stats.chat_cookies[-1]
    assert set(sent) == {"cf_clearance", "__cf_bm"}
    headers = replica.stats.last_chat_headers
    assert headers["user-agent"] == client.profile.user_agent
    assert headers["accept-language"] == client.profile.headers["accept-language"]
    assert headers["sec-ch-ua"] == client.profile.headers["sec-ch-ua"]


async def test_the_body_carries_system_prompt_temperature_and_token_limit(make_replica, make_client, profile_dir):
    replica = make_replica(gate="off")
    save_plain_profile(profile_dir, replica.url)
    client = make_client(replica.url)
    text = await client.ask("Hi", system="Answer in French", temperature=0.2, max_tokens=1000)
    body = replica.stats.last_chat_body
    assert body["prompt"] == "Answer in French"
    assert body["temperature"] == 0.2
    assert body["model"] == {"id": "openchat_3.6", "name": "OpenChat 3.6 (latest)", "maxLength": 24576, "tokenLimit": 1000}
    assert text == reply_text(body["messages"], "Answer in French")


async def test_500_error_is_a_site_error_with_the_reason_phrase(make_replica, make_client, profile_dir):
    replica = make_replica(gate="off", status=500, reason="This model's maximum context length is 8192 tokens.")
    save_plain_profile(profile_dir, replica.url)
    with pytest.raises(SiteError) as caught:
        await make_client(replica.url).ask("Hi")
    assert caught.value.status == 500
    assert "maximum context length" in str(caught.value)


async def test_an_unknown_model_gets_the_apps_500(make_replica, make_client, profile_dir):
    replica = make_replica(gate="off")
    save_plain_profile(profile_dir, replica.url)
    with pytest.raises(SiteError, match="500"):
        await make_client(replica.url).ask("Hi", model="openchat_v3.2_mistral")


async def test_a_dropped_connection_keeps_the_partial_text(make_replica, make_client, profile_dir):
    replica = make_replica(gate="off", drop_after=20, chunk_size=4, split_multibyte=False)
    save_plain_profile(profile_dir, replica.url)
    client = make_client(replica.url)
    received = []
    with pytest.raises(StreamInterrupted) as caught:
        async for chunk in client.stream(as_messages("Hi")):
            received.append(chunk)
    assert caught.value.partial_text == "".join(received)
    assert reply_text(as_messages("Hi"), "").encode()[:20].decode() == caught.value.partial_text


async def test_nothing_listening_is_site_down_naming_the_url(make_client, profile_dir, unused_tcp_port):
    url = f"http://127.0.0.1:{unused_tcp_port}"
    save_plain_profile(profile_dir, url)
    with pytest.raises(SiteDown, match=f"cannot reach {url}/api/chat"):
        await make_client(url).ask("Hi")


async def test_a_server_that_is_not_the_app_is_named(make_client, profile_dir):
    from aiohttp import web

    from tests.support.servers.loopback_app import serve_app

    async with serve_app(web.Application()) as url:  # 404 for everything
        save_plain_profile(profile_dir, url)
        with pytest.raises(NotThisApp, match="not an OpenChat UI chat endpoint"):
            await make_client(url).ask("Hi")


async def test_a_profile_for_another_site_is_refused(make_replica, make_client, profile_dir):
    first, second = make_replica(gate="off"), make_replica(gate="off")
    save_plain_profile(profile_dir, first.url)
    with pytest.raises(LoginRequired, match=f"captured for {first.url}"):
        await make_client(second.url).ask("Hi")
    assert second.stats.chat_requests == 0


async def test_a_revoked_cookie_causes_exactly_one_refresh(replica, make_client):
    client = make_client(replica.url)
    await client.ask("first")
    assert replica.stats.clearances_issued == 1
    replica.revoke_clearances()  # as if Cloudflare expired or revoked cf_clearance mid-session

    assert await client.ask("second") == reply_text(as_messages("second"), "")
    assert replica.stats.clearances_issued == 2
    assert client.last_stats.transport == "direct"


async def test_a_profile_that_expires_while_the_client_lives_is_refreshed_before_the_next_ask(
    replica, make_client, profile_dir
):
    # The client does not ask a usable profile again before every request: it must still see the time run out.
    await make_client(replica.url).login()
    store = ProfileStore(profile_dir)
    profile = store.load("default")
    profile.gate_expires_at = time.time() + EXPIRY_MARGIN + 1.0
    store.save("default", profile)

    client = make_client(replica.url)
    await client.ask("before")
    assert replica.stats.clearances_issued == 1
    while time.time() < client.profile.expires_at():  # the event waited for is the clock passing that moment
        await asyncio.sleep(0.05)
    await client.ask("after")
    assert replica.stats.clearances_issued == 2
    assert client.last_stats.transport == "direct"


async def test_an_expired_profile_is_refreshed_before_asking(replica, make_client, profile_dir):
    await make_client(replica.url).login()
    store = ProfileStore(profile_dir)
    profile = store.load("default")
    profile.gate_expires_at = time.time() - 1
    store.save("default", profile)
    challenges_per_login = replica.stats.challenges_served

    client = make_client(replica.url)
    await client.ask("Hi")
    assert replica.stats.clearances_issued == 2
    assert client.last_stats.transport == "direct"
    # It logged in before asking, so the ask itself was never challenged.
    assert replica.stats.challenges_served == 2 * challenges_per_login
