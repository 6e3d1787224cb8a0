"""Faults of the site, the network and the browser: each gives its documented outcome, one line, no traceback.

The README's Reliability table lists these cases; keep the two in step.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket

import pytest

from aura_browser.errors import BrowserError, NetworkError, ResponseTimeout, SiteDown, StreamInterrupted
from aura_browser.profile import ProfileStore
from aura_browser.replica import reply_text
from aura_browser.replica.reply import reply_body
from aura_browser.wire.api import as_messages

from tests.support.cli import CHROME_IMPERSONATION, assert_one_line_error, cli_process, err, finish, out, run_cli
from tests.support.drivers import both_drivers
from tests.support.processes import chromium_pids, descendants, still_present, wait_for_no_new_chromium, zombie_children
from tests.support.profiles import save_plain_profile
from tests.support.servers.auth_proxy import auth_proxy

HI = reply_text(as_messages("Hi"), "")


def prefix(text: str, size: int) -> str:
    """The text a client can show after `size` bytes of it: whole characters only."""
    return text.encode()[:size].decode("utf-8", "ignore")


@pytest.fixture
def env(env):
    return {**env, **CHROME_IMPERSONATION}


@pytest.fixture(params=["direct", "impersonate"])
def replay(request) -> str:
    """Each fault of a replayed request, once per replay transport: they must end the same way."""
    return request.param


@pytest.fixture
def plain_site(make_replica, profile_dir):
    """A replica with its gate off and a saved profile for it: direct asks need no browser."""

    def make(**config):
        replica = make_replica(gate="off", **config)
        save_plain_profile(profile_dir, replica.url)
        return replica

    return make


# --- the site's errors ------------------------------------------------------------------------------------


def test_a_500_without_a_reason_phrase_exits_5_and_says_what_it_means(plain_site, env, replay):
    replica = plain_site(status=500)
    result = run_cli("ask", "--base-url", replica.url, "--transport", replay, "Hi", env=env)
    assert_one_line_error(result, 5, "site error 500", "the app could not answer")
    assert out(result) == ""


def test_a_429_before_the_first_byte_is_retried_once_after_its_retry_after(plain_site, env, replay):
    replica = plain_site(status=429, retry_after=0.2, faults_left=1)
    result = run_cli("ask", "--base-url", replica.url, "--transport", replay, "Hi", env=env)
    assert result.returncode == 0, err(result)
    assert out(result) == HI + "\n"
    assert replica.stats.chat_requests == 2


def test_a_second_429_is_not_retried_again(plain_site, env, replay):
    replica = plain_site(status=429, retry_after=0.1)
    result = run_cli("ask", "--base-url", replica.url, "--transport", replay, "Hi", env=env)
    assert_one_line_error(result, 5, "site error 429", "rate limited")
    assert replica.stats.chat_requests == 2


def test_a_429_asking_for_a_long_wait_fails_at_once_saying_how_long(plain_site, env, replay):
    replica = plain_site(status=429, retry_after=3600)
    result = run_cli("ask", "--base-url", replica.url, "--transport", replay, "Hi", env=env)
    assert_one_line_error(result, 5, "site error 429", "asks to wait 3600s")
    assert replica.stats.chat_requests == 1


async def test_a_429_is_retried_once_in_the_page_too(make_replica, make_client):
    replica = make_replica(gate="challenge", status=429, retry_after=0.2)
    client = make_client(replica.url, transport="page")
    await client.login()
    replica.config.update({"faults_left": 1})
    assert await client.ask("Hi") == HI
    assert replica.stats.chat_requests == 2


@pytest.mark.parametrize("transport", ["direct", "impersonate", "page"])
async def test_a_failure_after_the_first_byte_is_never_retried(make_replica, make_client, transport, chrome_impersonation):
    # The first reply breaks off after 20 bytes; a retry would get a whole reply, so a retry would show.
    replica = make_replica(gate="challenge", chunk_size=4, split_multibyte=False)
    client = make_client(replica.url, transport=transport)
    await client.login()
    replica.config.update({"drop_after": 20, "faults_left": 1, "hold_after": 2})
    stream = client.stream(as_messages("Hi"))
    received = [await anext(stream)]  # text has reached the caller: from here on, no retry is allowed
    replica.release()
    with pytest.raises(StreamInterrupted) as caught:
        async for chunk in stream:
            received.append(chunk)
    assert caught.value.partial_text == "".join(received)
    # A replay sees every byte before the drop; Chromium may discard the bytes that arrived with the error.
    assert prefix(HI, 8) <= caught.value.partial_text <= prefix(HI, 20)
    assert HI.startswith(caught.value.partial_text)
    assert replica.stats.chat_requests == 1
    assert replica.stats.clearances_issued == 1  # and no refresh either


# --- the network ------------------------------------------------------------------------------------------


def test_a_dropped_in_page_reply_keeps_what_was_printed_and_exits_6(make_replica, env):
    replica = make_replica(gate="challenge", hold_after=2, drop_after=40, split_multibyte=False)
    with cli_process("ask", "--base-url", replica.url, "--transport", "page", "Hi", env=env) as process:
        assert replica.stats.wait_until(lambda s: s.holding == 1, 60), "the reply never started"
        first = process.stdout.read1(4096)  # the two chunks sent so far, already printed
        replica.release()  # then the connection drops after 40 bytes
        result = finish(process, first)
    assert_one_line_error(result, 6, "the page's fetch of", "failed")
    # Chromium may discard the bytes that arrive together with the error; what it delivered stays printed.
    printed = out(result).rstrip("\n")
    assert prefix(HI, 32) <= printed <= prefix(HI, 40) and HI.startswith(printed)


def test_a_dropped_replayed_reply_keeps_what_was_printed_and_exits_6(plain_site, env, replay):
    replica = plain_site(drop_after=40, split_multibyte=False)
    result = run_cli("ask", "--base-url", replica.url, "--transport", replay, "Hi", env=env)
    assert_one_line_error(result, 6, f"the connection to {replica.url} broke mid-reply")
    assert out(result).rstrip("\n") == prefix(HI, 40)


@pytest.mark.parametrize("how", ["option", "envvar"])
def test_a_slow_first_byte_times_out_as_configured(plain_site, env, how, replay):
    replica = plain_site(first_byte_delay=60, faults_left=1)
    if how == "option":
        result = run_cli("ask", "--base-url", replica.url, "--transport", replay, "--first-byte-timeout", "0.5", "Hi",
                         env=env)
    else:
        result = run_cli("ask", "--base-url", replica.url, "--transport", replay, "Hi",
                         env={**env, "AURA_FIRST_BYTE_TIMEOUT": "0.5"})
    assert_one_line_error(result, 6, f"no reply from {replica.url}/api/chat within 0.5s")
    assert out(result) == ""
    again = run_cli("ask", "--base-url", replica.url, "--transport", replay, "--first-byte-timeout", "0.5", "Hi",
                    env=env)
    assert out(again) == HI + "\n"  # the timeout is per request: the next, prompt one goes through


@pytest.mark.parametrize("how", ["option", "envvar"])
def test_a_stall_between_chunks_times_out_as_configured_and_keeps_the_text(plain_site, env, how, replay):
    replica = plain_site(hold_after=2, split_multibyte=False)
    args = ["ask", "--base-url", replica.url, "--transport", replay, "Hi"]
    if how == "option":
        result = run_cli(*args, "--idle-timeout", "0.5", env=env)
    else:
        result = run_cli(*args, env={**env, "AURA_IDLE_TIMEOUT": "0.5"})
    assert_one_line_error(result, 6, "the reply stalled: nothing for 0.5s")
    assert out(result).rstrip("\n") == prefix(HI, 32)  # two chunks of 16 bytes


async def test_time_the_caller_spends_on_a_chunk_is_not_silence(plain_site, make_client, replay):
    from aura_browser.transports.base import Timeouts

    replica = plain_site(split_multibyte=False)
    client = make_client(replica.url, transport=replay, timeouts=Timeouts(first_byte=0.3, idle=0.3))
    chunks = []
    async for chunk in client.stream(as_messages("Hi")):
        if not chunks:
            await asyncio.sleep(1)  # a slow caller: the reply's timeouts count only the waits for the site
        chunks.append(chunk)
    assert "".join(chunks) == HI


async def test_in_page_timeouts_are_the_same_errors(make_replica, make_client):
    from aura_browser.transports.base import Timeouts

    replica = make_replica(gate="challenge", split_multibyte=False)
    client = make_client(replica.url, transport="page", timeouts=Timeouts(first_byte=0.5, idle=0.5))
    await client.login()
    replica.config.update({"first_byte_delay": 60, "faults_left": 1})
    with pytest.raises(ResponseTimeout, match="within 0.5s"):
        await client.ask("Hi")
    replica.config.update({"hold_after": 2})
    with pytest.raises(StreamInterrupted, match="stalled") as caught:
        await client.ask("Hi")
    assert caught.value.partial_text == prefix(HI, 32)


def test_invalid_utf8_is_replaced_and_the_rest_arrives(plain_site, env, replay):
    replica = plain_site(invalid_utf8=True, chunk_size=5)
    result = run_cli("ask", "--base-url", replica.url, "--transport", replay, "Hi", env=env)
    assert result.returncode == 0, err(result)
    expected = reply_body(HI, invalid_utf8=True).decode("utf-8", "replace")
    assert out(result) == expected + "\n" and "\ufffd\ufffd" in expected


async def test_invalid_utf8_is_replaced_in_the_page_too(make_replica, make_client):
    replica = make_replica(gate="challenge", invalid_utf8=True, chunk_size=5)
    text = await make_client(replica.url, transport="page").ask("Hi")
    assert text == reply_body(HI, invalid_utf8=True).decode("utf-8", "replace")


# With a profile, the replay itself cannot connect; without one, the login's browser cannot.
REACH = pytest.mark.parametrize("transport, with_profile", [("direct", True), ("impersonate", True), ("auto", False)],
                                ids=["direct", "impersonate", "browser-login"])


@REACH
def test_connection_refused_is_site_down_naming_the_url(env, profile_dir, unused_tcp_port, transport, with_profile):
    url = f"http://127.0.0.1:{unused_tcp_port}"
    if with_profile:
        save_plain_profile(profile_dir, url)
    before = chromium_pids()
    result = run_cli("ask", "--base-url", url, "--transport", transport, "Hi", env=env)
    assert_one_line_error(result, 6, f"cannot reach {url}")
    wait_for_no_new_chromium(before)


@REACH
def test_a_name_that_does_not_resolve_is_site_down_naming_the_url(env, profile_dir, transport, with_profile):
    url = "http://no-such-host.invalid"
    if with_profile:
        save_plain_profile(profile_dir, url)
    result = run_cli("ask", "--base-url", url, "--transport", transport, "Hi", env=env)
    assert_one_line_error(result, 6, f"cannot reach {url}")


# --- the gate ---------------------------------------------------------------------------------------------


def test_a_challenge_mid_session_costs_one_refresh_and_the_ask_succeeds(replica, env, replay):
    first = run_cli("ask", "--base-url", replica.url, "--transport", replay, "one", env=env)
    assert first.returncode == 0, err(first)
    replica.revoke_clearances()
    second = run_cli("ask", "--base-url", replica.url, "--transport", replay, "-v", "two", env=env)
    assert second.returncode == 0, err(second)
    assert out(second) == reply_text(as_messages("two"), "") + "\n"
    assert "refreshing the profile once" in err(second)
    assert replica.stats.clearances_issued == 2


def test_a_changed_user_agent_is_detected_and_a_fresh_login_follows(replica, env, profile_dir):
    first = run_cli("ask", "--base-url", replica.url, "one", env=env)
    assert first.returncode == 0, err(first)
    path = profile_dir / "default.json"
    data = json.loads(path.read_text())
    old_agent = data["user_agent"]
    data["user_agent"] = old_agent.replace("X11; Linux x86_64", "Windows NT 10.0; Win64; x64")
    path.write_text(json.dumps(data))

    second = run_cli("ask", "--base-url", replica.url, "two", env=env)
    assert second.returncode == 0, err(second)
    assert out(second) == reply_text(as_messages("two"), "") + "\n"
    assert replica.stats.clearances_issued == 2
    assert ProfileStore(profile_dir).load("default").user_agent == old_agent  # the browser's own UA again


async def test_a_profile_from_another_browser_version_is_not_reused_in_the_page(replica, make_client, profile_dir):
    profile = await make_client(replica.url).login()
    store = ProfileStore(profile_dir)
    major = profile.browser_version.split(".")[0]
    old = str(int(major) - 10)
    # As if Chromium was upgraded since the capture: the saved UA and client hints name the old version.
    profile.browser_version = f"{old}.0.1.2"
    profile.user_agent = profile.user_agent.replace(f"Chrome/{major}.", f"Chrome/{old}.")
    profile.headers["sec-ch-ua"] = profile.headers["sec-ch-ua"].replace(f'v="{major}"', f'v="{old}"')
    store.save("default", profile)

    client = make_client(replica.url, transport="page")
    assert await client.ask("Hi") == HI
    assert replica.stats.clearances_issued == 2
    assert store.load("default").browser_version.split(".")[0] == major
    assert replica.stats.last_chat_headers["user-agent"] == store.load("default").user_agent


# --- the browser ------------------------------------------------------------------------------------------


@both_drivers
async def test_a_browser_killed_during_the_in_page_fallback_is_a_browser_error(make_replica, make_client):
    replica = make_replica(gate="strict", hold_after=2)
    before = chromium_pids()
    client = make_client(replica.url)
    stream = client.stream(as_messages("Hi"))
    first = await anext(stream)
    assert client.last_stats.transport == "page" and first
    assert await asyncio.to_thread(replica.stats.wait_until, lambda s: s.holding == 1, 10)
    for pid in chromium_pids() - before:
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(BrowserError, match="closed or crashed"):
        async for _ in stream:
            pass
    await client.close()
    await asyncio.to_thread(wait_for_no_new_chromium, before)
    assert not zombie_children()


def test_a_browser_killed_mid_reply_exits_7_and_leaves_nothing_behind(make_replica, env):
    replica = make_replica(gate="challenge", hold_after=2, split_multibyte=False)
    before = chromium_pids()
    with cli_process("ask", "--base-url", replica.url, "--transport", "page", "Hi", env=env) as process:
        assert replica.stats.wait_until(lambda s: s.holding == 1, 60), "the reply never started"
        # Kill only once the two chunks are printed: the page hands text over when it is next asked for it,
        # so what the replica has sent may still be in the page a moment later.
        sent = prefix(HI, 32).encode()
        printed = b""
        while len(printed) < len(sent) and (data := process.stdout.read1(4096)):
            printed += data
        tree = descendants(process.pid)
        for pid in chromium_pids() - before:
            os.kill(pid, signal.SIGKILL)
        result = finish(process, printed)
    assert_one_line_error(result, 7, "the browser closed or crashed during the in-page reply")
    assert out(result).rstrip("\n") == prefix(HI, 32)
    wait_for_no_new_chromium(before)
    assert not still_present(tree), "processes of the killed run are still there (running or zombies)"


def test_a_proxy_that_refuses_the_password_is_named_and_the_password_is_not(make_replica, profile_dir, env, replay):
    replica = make_replica(gate="off")
    with auth_proxy("aura", "right-password") as proxy:
        save_plain_profile(profile_dir, replica.url, proxy=proxy.url(password="wrong-password-123"))
        result = run_cli("ask", "--base-url", replica.url, "--transport", replay, "Hi", env=env)
    assert_one_line_error(result, 6, "the proxy refused its user or password (407)")
    assert "wrong-password-123" not in err(result) and proxy.log.refused() == 1


async def test_a_proxy_that_refuses_the_tunnel_to_an_https_site_is_named_the_same(make_replica, make_client, profile_dir,
                                                                                 replay):
    replica = make_replica(gate="off", tls=True)
    with auth_proxy("aura", "right-password") as proxy:
        save_plain_profile(profile_dir, replica.url, proxy=proxy.url(password="wrong-password-123"))
        with pytest.raises(NetworkError, match=r"the proxy refused its user or password \(407\)") as refused:
            await make_client(replica.url, transport=replay, insecure=True).ask("Hi")
    assert "wrong-password-123" not in str(refused.value) and proxy.log.refused() == 1


@REACH
async def test_refused_and_unresolvable_sites_are_site_down_in_python(make_client, profile_dir, unused_tcp_port,
                                                                     transport, with_profile):
    for url in (f"http://127.0.0.1:{unused_tcp_port}", "http://no-such-host.invalid"):
        if with_profile:
            save_plain_profile(profile_dir, url)
        with pytest.raises(SiteDown, match=f"cannot reach {url}"):
            await make_client(url, transport=transport).ask("Hi")


def unused_port_holding(digits: str) -> int:
    """A free loopback port whose number holds `digits`."""
    for port in (int(f"{digits}{tail:02d}") for tail in range(100)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"no free port {digits}00-{digits}99")


async def test_a_refused_port_whose_number_holds_407_is_site_down_not_a_proxy_password(make_client, profile_dir, replay):
    url = f"http://127.0.0.1:{unused_port_holding('407')}"  # curl's message names the port: "127.0.0.1:40712"
    save_plain_profile(profile_dir, url)
    with pytest.raises(SiteDown, match=f"cannot reach {url}"):
        await make_client(url, transport=replay).ask("Hi")
