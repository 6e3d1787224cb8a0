"""What the replays put on the wire: the browser's headers, in its order and case, nothing added; its encodings."""

from __future__ import annotations

import json

import pytest

from aura_browser.profile import ProfileStore
from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages

from tests.support.profiles import save_plain_profile
from tests.support.servers.raw_server import raw_server

REPLY = "Grüße, 中文, 🌍 — the whole reply"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"


def save_old_profile(profile_dir, url: str) -> None:
    """A profile as saved before header_order existed: the member is absent from the file."""
    save_plain_profile(profile_dir, url, user_agent=UA, headers={"accept-language": "de-DE,de;q=0.9"})
    path = ProfileStore(profile_dir).path("default")
    data = json.loads(path.read_text())
    del data["header_order"]
    path.write_text(json.dumps(data))


async def test_direct_replays_the_browsers_own_request_header_for_header(make_replica, make_client):
    replica = make_replica(gate="challenge")
    page = make_client(replica.url, transport="page")
    assert await page.ask("Hi") == reply_text(as_messages("Hi"), "")
    browser_names = replica.stats.last_chat_header_names
    browser_headers = replica.stats.last_chat_headers
    await page.close()

    profile = ProfileStore(page.store.directory).load("default")
    assert profile.headers["accept-encoding"] == browser_headers["accept-encoding"] and "zstd" in profile.headers["accept-encoding"]
    assert profile.header_order[0] == "Host" and "User-Agent" in profile.header_order

    direct = make_client(replica.url, transport="direct")
    assert await direct.ask("Hi") == reply_text(as_messages("Hi"), "")
    assert replica.stats.last_chat_header_names == browser_names  # same headers, same order, same case
    sent = replica.stats.last_chat_headers
    assert {k: v for k, v in sent.items() if k != "host"} == {k: v for k, v in browser_headers.items() if k != "host"}
    assert sent["connection"] == "keep-alive"


CHROMIUM_NAMES = ["Host", "Connection", "Content-Length", "User-Agent", "Content-Type", "Accept-Encoding", "Accept-Language"]
# Over HTTP/1.1, libcurl writes these itself, after the others (over HTTP/2, Host is :authority, and no Connection).
CURL_WRITES = {"Host", "Connection", "Content-Length", "Content-Type"}


@pytest.mark.parametrize("transport", ["direct", "impersonate"])
async def test_a_profile_from_before_header_order_loads_and_sends_chromiums_order_with_nothing_added(
    make_client, profile_dir, transport, chrome_impersonation
):
    with raw_server(REPLY) as (url, log):
        save_old_profile(profile_dir, url)
        assert await make_client(url, transport=transport).ask("Hi") == REPLY
    lines = log.header_lines()
    names = [name for name, _ in lines]
    if transport == "direct":
        assert names == CHROMIUM_NAMES
    else:
        assert sorted(names) == sorted(CHROMIUM_NAMES)  # nothing added, nothing lost, the same case
        assert [n for n in names if n not in CURL_WRITES] == [n for n in CHROMIUM_NAMES if n not in CURL_WRITES]
    values = dict(lines)
    assert values["User-Agent"] == UA and values["Connection"] == "keep-alive"
    assert values["Accept-Encoding"] == "gzip, deflate, br, zstd"
    assert values["Content-Type"] == "application/json"


@pytest.mark.parametrize("transport", ["direct", "impersonate"])
@pytest.mark.parametrize("encoding", ["zstd", "br", "gzip"])
async def test_a_reply_in_any_encoding_the_browser_accepts_is_decoded(make_client, profile_dir, transport, encoding,
                                                                      chrome_impersonation):
    with raw_server(REPLY, encoding) as (url, log):
        save_old_profile(profile_dir, url)
        assert await make_client(url, transport=transport).ask("Hi") == REPLY
    assert encoding in dict(log.header_lines())["Accept-Encoding"]
