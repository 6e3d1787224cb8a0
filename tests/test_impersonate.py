"""The impersonate transport behind the strict gate: Chrome's TLS fingerprint with no browser, and what refuses it."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from aura_browser.errors import Blocked, ResponseTimeout
from aura_browser.profile import ProfileStore
from aura_browser.replica import reply_text
from aura_browser.transports.base import Timeouts
from aura_browser.transports.impersonate import chrome_targets, target_for
from aura_browser.wire.api import as_messages

from tests.support.cli import CHROME_IMPERSONATION, cli_process, err, finish, run_cli
from tests.support.processes import chromium_pids, wait_for_no_new_chromium
from tests.support.profiles import save_plain_profile

HI = reply_text(as_messages("Hi"), "")


def last_ja4(replica) -> str:
    return replica.stats.tls_fingerprints[-1][1]


async def logged_in(make_replica, make_client, **config):
    """A strict replica and a profile for it (the login is the only browser); the browser's own JA4."""
    replica = make_replica(gate="strict", **config)
    login = make_client(replica.url)
    await login.login()
    await login.close()
    return replica, last_ja4(replica)


async def test_the_strict_gate_refuses_aiohttp_and_admits_impersonate_with_the_browsers_own_ja4(
    make_replica, make_client, chrome_impersonation
):
    replica, browser_ja4 = await logged_in(make_replica, make_client)
    with pytest.raises(Blocked):
        await make_client(replica.url, transport="direct").ask("Hi")
    assert replica.stats.tls_blocked >= 1

    blocked = replica.stats.tls_blocked
    client = make_client(replica.url, transport="impersonate")
    assert await client.ask("Hi") == HI
    assert client.last_stats.transport == "impersonate"
    assert replica.stats.tls_blocked == blocked
    assert last_ja4(replica) == browser_ja4  # JA4 sorts what Chromium shuffles: the hellos are the same
    assert browser_ja4[8:10] == "h2"  # ALPN offers h2 first (the replica answers in HTTP/1.1)
    assert replica.stats.last_chat_headers["user-agent"] == client.profile.user_agent
    assert set(replica.stats.chat_cookies[-1]) == {"cf_clearance", "__cf_bm"}


@pytest.mark.parametrize("target", ["firefox147", "safari260"])
async def test_a_curl_cffi_target_of_another_browser_is_refused_by_the_chromium_rule(
    make_replica, make_client, monkeypatch, target
):
    replica, _ = await logged_in(make_replica, make_client)
    monkeypatch.setenv("AURA_IMPERSONATE", target)
    blocked = replica.stats.tls_blocked
    with pytest.raises(Blocked, match=re.escape("try transport='page' (--transport page)")):
        await make_client(replica.url, transport="impersonate").ask("Hi")
    assert replica.stats.tls_blocked == blocked + 2  # with the profile, and again after one refresh


async def test_tls_allow_admits_a_named_fingerprint_and_refuses_another(make_replica, make_client, monkeypatch):
    replica, browser_ja4 = await logged_in(make_replica, make_client)
    monkeypatch.setenv("AURA_IMPERSONATE", "safari260")  # GREASE, but not Chromium's cipher suites
    safari = make_client(replica.url, transport="impersonate")
    seen = len(replica.stats.tls_fingerprints)
    with pytest.raises(Blocked):
        await safari.ask("Hi")
    safari_ja4 = replica.stats.tls_fingerprints[seen][1]  # its first hello; the refresh's browser came after it
    assert safari_ja4 != browser_ja4

    replica.config.update({"tls_allow": ["chromium", safari_ja4]})
    assert await make_client(replica.url, transport="impersonate").ask("Hi") == HI

    replica.config.update({"tls_allow": ["chromium", "!" + safari_ja4]})
    with pytest.raises(Blocked):
        await make_client(replica.url, transport="impersonate").ask("Hi")


async def test_the_page_takes_over_when_impersonate_is_refused_too(make_replica, make_client, monkeypatch, profile_dir):
    replica, browser_ja4 = await logged_in(make_replica, make_client)
    # A gate that admits only this Chromium's own fingerprint; an older Chrome target's hello differs from it.
    replica.config.update({"tls_allow": [browser_ja4]})
    monkeypatch.setenv("AURA_IMPERSONATE", "chrome131")
    client = make_client(replica.url)
    assert await client.ask("Hi") == HI
    assert client.last_stats.transport == "page"
    assert replica.stats.tls_blocked >= 4  # direct, impersonate; one refresh; direct, impersonate
    assert ProfileStore(profile_dir).load("default").start_tier() == "page"


def test_auto_gets_through_the_strict_gate_with_no_browser_for_the_ask(make_replica, profile_dir, chrome_impersonation):
    replica = make_replica(gate="strict")
    env = {"AURA_PROFILE_DIR": str(profile_dir), "AURA_LOGIN_TIMEOUT": "30", **CHROME_IMPERSONATION}
    login = run_cli("login", "--base-url", replica.url, "--insecure", env=env)
    assert login.returncode == 0, err(login)
    before = chromium_pids()
    seen: set[int] = set()
    with cli_process("ask", "--base-url", replica.url, "--insecure", "--json", "-v", "Hi", env=env) as process:
        while process.poll() is None:  # every Chromium this run starts, while it runs
            seen |= chromium_pids() - before
            time.sleep(0.02)
        result = finish(process)
    assert result.returncode == 0, err(result)
    assert not seen, "the ask started a browser"
    answer = json.loads(result.stdout)
    assert answer["text"] == HI and answer["transport"] == "impersonate"
    assert f"impersonating {target_for(ProfileStore(profile_dir).load('default'))}" in err(result)
    assert ProfileStore(profile_dir).load("default").start_tier() == "impersonate"

    blocked = replica.stats.tls_blocked
    again = run_cli("ask", "--base-url", replica.url, "--insecure", "--json", "Hi", env=env)
    assert json.loads(again.stdout)["transport"] == "impersonate"
    assert replica.stats.tls_blocked == blocked  # the profile remembered: direct was not tried again
    wait_for_no_new_chromium(before)


def test_the_target_is_the_chrome_nearest_the_profiles_major(monkeypatch, profile_dir):
    monkeypatch.setenv("AURA_IMPERSONATE", "")
    majors = [major for major, _ in chrome_targets()]
    profile = save_plain_profile(profile_dir, "http://127.0.0.1:9")
    for wanted in (majors[0] - 5, majors[0], majors[-1] + 30):
        profile.browser_version = f"{wanted}.0.1.2"
        nearest = min(majors, key=lambda major: (abs(major - wanted), -major))
        assert target_for(profile) == f"chrome{nearest}"


async def test_concurrent_streams_share_one_session_and_leaving_one_closes_its_transfer(
    make_replica, make_client, profile_dir, chrome_impersonation
):
    replica = make_replica(gate="off", hold_after=1)
    save_plain_profile(profile_dir, replica.url)
    client = make_client(replica.url, transport="impersonate")
    held = client.stream(as_messages("Hi"))
    await anext(held)
    session = client._transports["impersonate"]._session
    await held.aclose()  # the caller leaves mid-reply: the transfer is closed, not read to its end
    assert await asyncio.to_thread(replica.stats.wait_until, lambda s: s.holding == 0, 10)
    assert replica.stats.chat_completed == 0

    replica.config.update({"hold_after": None})
    prompts = [f"question {n}" for n in range(6)]
    answers = await asyncio.gather(*(client.ask(prompt) for prompt in prompts))
    assert answers == [reply_text(as_messages(prompt), "") for prompt in prompts]
    assert client._transports["impersonate"]._session is session


def test_serve_names_impersonate_in_x_aura_transport(make_replica, profile_dir):
    replica = make_replica(gate="off")
    save_plain_profile(profile_dir, replica.url)
    env = {"AURA_PROFILE_DIR": str(profile_dir), **CHROME_IMPERSONATION}
    with cli_process("serve", "--port", "0", "--base-url", replica.url, "--transport", "impersonate", env=env) as process:
        line = process.stdout.readline().decode()
        base = line.split(" at ")[1].split()[0]
        body = json.dumps({"model": "openchat_3.6", "messages": [{"role": "user", "content": "Hi"}]}).encode()
        request = urllib.request.Request(base + "/chat/completions", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            transport = response.headers["X-Aura-Transport"]
            text = json.loads(response.read())["choices"][0]["message"]["content"]
        process.send_signal(signal.SIGINT)
        result = finish(process)
    assert result.returncode == 0, err(result)
    assert transport == "impersonate" and text == HI


def connections_to(port: int) -> int:
    """Established TCP connections on this machine whose far end is `port` (the client ends)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].split(":")[1], 16) == port and fields[3] == "01":
            count += 1
    return count


async def test_a_first_byte_timeout_closes_the_transfer_too(make_replica, make_client, profile_dir,
                                                           chrome_impersonation):
    replica = make_replica(gate="off", first_byte_delay=60, faults_left=1)
    save_plain_profile(profile_dir, replica.url)
    client = make_client(replica.url, transport="impersonate", timeouts=Timeouts(connect=5, first_byte=0.5, idle=5))
    with pytest.raises(ResponseTimeout):
        await client.ask("Hi")
    port = int(replica.url.rsplit(":", 1)[1])
    deadline = time.monotonic() + 10
    while connections_to(port) and time.monotonic() < deadline:  # the close reaches the kernel a moment later
        await asyncio.sleep(0.05)
    assert connections_to(port) == 0  # not left waiting for the reply in the background
    assert await client.ask("Hi") == HI


def test_a_tls_allow_rule_that_names_no_fingerprint_is_bad_usage():
    result = run_cli("replica", "--port", "0", "--gate", "strict", "--tls-allow", "chromium,firefox")
    assert result.returncode == 2, err(result)
    assert "'firefox' is not 'chromium', a JA4, or a JA3 hash" in err(result) and "Traceback" not in err(result)


def test_an_unknown_aura_impersonate_target_is_bad_usage_naming_the_variable_and_the_targets(gateless_site, profile_dir):
    from tests.support.cli import assert_one_line_error

    env = {"AURA_PROFILE_DIR": str(profile_dir), "AURA_IMPERSONATE": "bogus"}
    result = run_cli("ask", "--base-url", gateless_site.url, "--transport", "impersonate", "Hi", env=env)
    line = assert_one_line_error(result, 2, "AURA_IMPERSONATE='bogus' is not a target curl_cffi can impersonate",
                                 "chrome152", "firefox147")
    assert "closed the connection" not in line
    assert run_cli("ask", "--base-url", gateless_site.url, "Hi", env=env).returncode == 2  # auto: refused at once
    assert gateless_site.stats.chat_requests == 0
