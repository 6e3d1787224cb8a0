"""Remote browsers: a Playwright browser server (connect), Chromium's DevTools endpoint (connect_over_cdp),
and a W3C WebDriver server (webdriver.Remote), each started on loopback by the test.

Through each one: the login, and the in-page fallback with chunks arriving while the reply still streams.
Afterwards nothing we created is left in the remote browser, and what we did not create is still there.
"""

import asyncio
import re
import shutil

import pytest

from aura_browser.drivers.browser_mode import xvfb_available
from aura_browser.errors import BrowserError, InvalidRequest
from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages

from tests.support.botcheck import failing
from tests.support.cli import assert_one_line_error, run_cli
from tests.support.processes import chromium_pids, wait_for_no_new_chromium
from tests.support.servers.remote_browsers import (
    OTHER_PLAYWRIGHT,
    chromedriver_server,
    chromium_with_remote_debugging,
    headed_chromium_with_remote_debugging,
    playwright_browser_server,
    playwright_server_of_another_version,
)


@pytest.fixture(params=["browser_ws", "cdp_url", "remote_webdriver"])
def remote(request, tmp_path):
    servers = {
        "browser_ws": lambda: playwright_browser_server(tmp_path),
        "cdp_url": lambda: chromium_with_remote_debugging(tmp_path),
        "remote_webdriver": chromedriver_server,
    }
    with servers[request.param]() as server:
        yield server


def nothing_of_ours_is_left(remote, site_url, before):
    """Our pages and sessions are gone; the remote browser (or server) itself still runs."""
    assert remote.alive()
    if remote.devtools_port is None:  # chromedriver: the browser of our session is gone with the session
        wait_for_no_new_chromium(before)
        return
    pages = remote.pages()
    assert not [p for p in pages if p["url"].startswith(site_url)]
    if remote.option == "cdp_url":
        assert [p for p in pages if p["url"] == "about:blank"], "the browser's own tab was closed"


async def test_login_and_the_in_page_fallback_run_in_the_remote_browser(remote, make_replica, make_client):
    before = chromium_pids()
    replica = make_replica(gate="strict", hold_after=2)
    client = make_client(replica.url, **{remote.option: remote.endpoint})
    messages = as_messages("Stream me from afar")
    stream = client.stream(messages)

    first = await anext(stream)
    assert replica.stats.holding == 1 and replica.stats.chat_completed == 0  # it arrived mid-stream
    assert client.last_stats.transport == "page"
    replica.release()
    rest = [chunk async for chunk in stream]

    assert first + "".join(rest) == reply_text(messages, "")
    assert replica.stats.clearances_issued == 2  # the login and one refresh, both in the remote browser
    assert client.profile.driver == remote.driver
    await client.close()
    await asyncio.to_thread(nothing_of_ours_is_left, remote, replica.url, before)


def test_cli_login_through_the_remote_browser(remote, replica, profile_dir, tmp_path):
    before = chromium_pids()
    env = {"AURA_BASE_URL": replica.url, "AURA_PROFILE_DIR": str(profile_dir), remote.env: remote.endpoint}
    done = run_cli("login", env=env)
    assert done.returncode == 0, done.stderr.decode()
    assert replica.stats.clearances_issued == 1
    assert (profile_dir / "default.json").exists()
    nothing_of_ours_is_left(remote, replica.url, before)


@pytest.mark.parametrize("options, complaint", [
    ({"browser_ws": "ws://127.0.0.1:1/x", "cdp_url": "http://127.0.0.1:2"},
     "browser_ws (--browser-ws) and cdp_url (--cdp-url) exclude each other"),
    ({"remote_webdriver": "ws://127.0.0.1:4444"},
     "remote_webdriver (--remote-webdriver) 'ws://127.0.0.1:4444' must look like http://"),
    ({"cdp_url": "http://127.0.0.1:9222", "driver": "selenium"}, "cdp_url (--cdp-url) is a Playwright endpoint"),
])
async def test_bad_remote_options_are_refused_before_anything_starts(options, complaint, make_client):
    with pytest.raises(InvalidRequest, match=re.escape(complaint)):
        make_client("https://example.org", **options)


@pytest.mark.parametrize("option, url, complaint", [
    ("browser_ws", "ws://127.0.0.1:{port}/x", "cannot connect to the Playwright browser server at ws://127.0.0.1:{port}/x"),
    ("cdp_url", "http://127.0.0.1:{port}", "cannot connect to the Chromium DevTools endpoint at http://127.0.0.1:{port}"),
    ("remote_webdriver", "http://127.0.0.1:{port}", "cannot start Chromium through the remote WebDriver at http://127.0.0.1:{port}"),
])
async def test_a_remote_browser_that_is_not_there_is_a_browser_error(option, url, complaint, make_client, unused_tcp_port):
    before = chromium_pids()
    client = make_client("https://example.org", **{option: url.format(port=unused_tcp_port)})
    with pytest.raises(BrowserError, match=re.escape(complaint.format(port=unused_tcp_port))):
        await client.login()
    assert chromium_pids() == before  # nothing was launched here instead


@pytest.mark.skipif(not xvfb_available(), reason="Xvfb is not installed")
def test_a_cdp_url_context_keeps_the_windows_real_size(make_replica, tmp_path):
    """Playwright's fixed 1280x720 viewport in a 1920x1080 window is a bot check's tell, on a headed browser too."""
    replica = make_replica(gate="botcheck")
    with headed_chromium_with_remote_debugging(tmp_path) as browser:
        run_cli("login", "--cdp-url", browser.endpoint, "--base-url", replica.url, "--profile-dir", str(tmp_path),
                "--login-timeout", "30")
    assert replica.stats.last_botcheck, "the botcheck page never reported"
    assert "8" not in failing(replica), failing(replica)


@pytest.mark.skipif(not (OTHER_PLAYWRIGHT.exists() and shutil.which("node")),
                    reason="no playwright-core in tests/grid (scripts/setup.sh installs it)")
def test_a_browser_server_of_another_playwright_version_is_named_in_one_line(env):
    with playwright_server_of_another_version() as endpoint:
        result = run_cli("login", "--browser-ws", endpoint, "--base-url", "http://127.0.0.1:9", env=env)
    line = assert_one_line_error(result, 7, "runs Playwright v1.50", "client is v1.6")
    assert "428" not in line
