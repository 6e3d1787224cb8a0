"""The selenium driver's browser, as a page sees it: no chromedriver globals, no webdriver flag, nothing of ours
in the page's main world, and no process left behind.
"""

import asyncio
import contextlib
import json
import os
import signal
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from aura_browser.drivers.base import LaunchOptions
from aura_browser.drivers.chromedriver import CDC_BLOCK, blank_cdc_block, patched_chromedriver
from aura_browser.drivers.selenium import AdoptedSeleniumSession, find_chromedriver
from aura_browser.drivers.selenium_local import LocalSeleniumSession
from aura_browser.replica.botcheck import CHECKS

from tests.support.botcheck import failing, server_env
from tests.support.cli import cli_process, err, finish, run_cli
from tests.support.detectors import automation_hits, needs_detectors, verdict_and_close
from tests.support.drivers import needs_xvfb
from tests.support.processes import RUN_MARKER, chromium_pids, wait_for_no_new_chromium
from tests.support.webdrivers import quit_users_webdriver, start_users_webdriver

CDC_SOURCE = (
    b"xx(function () {window.cdc_adoQpoasnfa76pfcZLmcfl_Array = window.Array;"
    b"window.cdc_adoQpoasnfa76pfcZLmcfl_Window = window.Window;}) ();yy"
    b"const Array = window.cdc_adoQpoasnfa76pfcZLmcfl_Array || window.Array;"
)


def test_the_cdc_block_is_blanked_to_the_same_length():
    patched = blank_cdc_block(CDC_SOURCE)
    assert patched is not None and len(patched) == len(CDC_SOURCE)
    assert b"window.cdc_adoQpoasnfa76pfcZLmcfl_Array = window.Array" not in patched
    assert patched.startswith(b"xx(function () {     ") and b"}) ();yy" in patched
    assert patched.endswith(b"const Array = window.cdc_adoQpoasnfa76pfcZLmcfl_Array || window.Array;")  # reads stay
    assert blank_cdc_block(b"no block here") is None


def test_the_system_chromedriver_is_patched_in_a_private_cached_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    system = find_chromedriver()
    copy = patched_chromedriver(system)

    assert os.path.dirname(copy).startswith(str(tmp_path)) and os.access(copy, os.X_OK)
    assert stat.S_IMODE(os.stat(copy).st_mode) == 0o700
    assert CDC_BLOCK.search(open(copy, "rb").read()) is None
    assert CDC_BLOCK.search(open(system, "rb").read()) is not None  # the system's binary is left alone
    assert patched_chromedriver(system) == copy  # made once
    stale = Path(copy).with_name("chromedriver-0123456789abcdef")  # as if made from a chromedriver since upgraded
    stale.write_bytes(b"old")
    Path(copy).unlink()
    assert patched_chromedriver(system) == copy and not stale.exists()


def our_processes(pattern: str) -> list[int]:
    """Processes matching `pattern` (pgrep -f) that this test run started."""
    found = []
    for pid in subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split():
        with contextlib.suppress(OSError):
            if RUN_MARKER.encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                found.append(int(pid))
    return found


def our_xvfb_running() -> bool:
    return bool(our_processes("Xvfb -displayfd"))


# What a page's own script can see of its browser (it runs in the page's main world).
SEEN_BY_PAGE_JS = """() => ({
  webdriver: navigator.webdriver,
  ownWebdriver: Object.getOwnPropertyNames(navigator).includes("webdriver"),
  globals: [...Object.getOwnPropertyNames(window), ...Object.getOwnPropertyNames(document)]
    .filter((name) => /^(cdc_|\\$cdc_|\\$wdc_|__aura)/.test(name)),
  userAgent: navigator.userAgent,
})"""


@pytest.mark.parametrize("headless", [True, None], ids=["headless", "default"])
async def test_the_page_sees_no_automation_and_nothing_of_ours(headless, replica):
    before = chromium_pids()
    session = LocalSeleniumSession(replica.url, LaunchOptions(headless=headless, timeout=30))
    try:
        await session.open()
        answer = [event async for event in session.stream_fetch("/api/models", '{"key": ""}')]
        assert answer[0]["type"] == "head" and answer[-1]["type"] == "end"  # a stream ran in the page
        # The page's main world (CDP evaluates there when given no context):
        reply = await session._call(lambda: session._cdp("Runtime.evaluate", {"expression": f"({SEEN_BY_PAGE_JS})()", "returnByValue": True}))
        seen = reply["result"]["value"]
    finally:
        await session.close()
    wait_for_no_new_chromium(before)
    assert not our_xvfb_running()

    assert seen["webdriver"] is False and not seen["ownWebdriver"]
    assert seen["globals"] == []  # no cdc_ from chromedriver, no __aura* from our stream
    assert "HeadlessChrome" not in seen["userAgent"]


@needs_xvfb
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGKILL, -9)])
def test_a_signal_mid_login_stops_chromium_chromedriver_and_the_virtual_display(make_replica, profile_dir, sig, code):
    """Ctrl-C and SIGTERM close them; kill -9 gives no chance to: the watchdog kills chromedriver's process group
    (Chromium in it), and Linux stops Xvfb with us (its parent-death signal)."""
    replica = make_replica(gate="challenge", challenge_delay=60)  # the gate holds the browser until we signal
    before = chromium_pids()
    login = ("login", "--driver", "selenium", "--base-url", replica.url)
    with cli_process(*login, env={"AURA_PROFILE_DIR": str(profile_dir)}) as process:
        assert replica.stats.wait_until(lambda s: s.challenges_served >= 1, 60), "the browser never reached the gate"
        assert our_xvfb_running(), "the default mode did not run on our own Xvfb"
        assert our_processes("chromedriver")
        process.send_signal(sig)
        result = finish(process)
    assert result.returncode == code, err(result)
    assert "Traceback" not in err(result)
    wait_for_no_new_chromium(before)  # chromedriver included
    assert not our_xvfb_running()


@needs_xvfb
def test_default_selenium_login_on_a_server_without_display_passes_the_botcheck_gate(make_replica, tmp_path):
    replica = make_replica(gate="botcheck")
    result = run_cli("login", "--driver", "selenium", "--base-url", replica.url, "--profile-dir", str(tmp_path),
                     env=server_env())
    assert result.returncode == 0, result.stderr.decode()
    assert replica.stats.botcheck_passed == 1 and replica.stats.botcheck_blocked == 0, failing(replica)
    rows = replica.stats.last_botcheck
    assert {row["id"] for row in rows} == set(CHECKS) and all(row["pass"] for row in rows), failing(replica)


def test_plain_chromedriver_is_caught_by_the_dialog_check(make_replica):
    """The control of check 15: chromedriver starting Chromium itself, waiting as a Selenium script waits, dismisses
    the gate's confirm() at the script's next command. (Its window has the focus: chromedriver activates it; the
    selenium driver's own Chromium, which chromedriver attaches to, did not, see test_human_tells.)"""
    from selenium.common.exceptions import UnexpectedAlertPresentException
    from selenium.webdriver.support.wait import WebDriverWait

    replica = make_replica(gate="botcheck")
    driver = start_users_webdriver(bidi=False)
    try:
        driver.get(replica.url + "/")
        WebDriverWait(driver, 30, ignored_exceptions=[UnexpectedAlertPresentException]).until(
            lambda d: d.title == "Attention Required! | Cloudflare")
    finally:
        quit_users_webdriver(driver)
    seen = failing(replica)
    assert "15" in seen and "Cancel (dismissed)" in seen["15"], seen


@needs_xvfb
@needs_detectors
async def test_botd_and_fpscanner_see_a_person_in_the_selenium_driver():
    verdict = await verdict_and_close(LocalSeleniumSession("http://127.0.0.1", LaunchOptions()))
    assert verdict["botd"] == {"bot": False}, verdict
    assert automation_hits(verdict) == [], verdict


@needs_detectors
async def test_the_detectors_catch_a_plain_chromedriver_session():
    """The control: chromedriver launching Chromium itself (as a user's WebDriver does, which the driver adopts and
    drives as it is) is flagged."""
    driver = await asyncio.to_thread(start_users_webdriver, bidi=True)
    try:
        verdict = await verdict_and_close(AdoptedSeleniumSession(driver, "http://127.0.0.1", LaunchOptions()))
    finally:
        await asyncio.to_thread(quit_users_webdriver, driver)
    assert verdict["botd"] == {"bot": True, "botKind": "selenium"}, verdict
    assert {"hasWebdriver", "hasCDP"} <= set(automation_hits(verdict)), verdict


@needs_xvfb
async def test_the_in_page_stream_is_unseen_by_the_pages_own_fetch_and_globals(make_replica, make_client):
    replica = make_replica(gate="botcheck")
    client = make_client(replica.url, transport="page", driver="selenium")
    await client.login()
    await client.ask("warm up")  # opens the in-page browser (through the botcheck gate again)
    session = client._browser

    def main_world(expression: str) -> Any:
        return session._cdp("Runtime.evaluate", {"expression": expression, "returnByValue": True})["result"].get("value")

    await session._call(lambda: main_world(
        "window.seen = []; const f = window.fetch; window.fetch = (...a) => { window.seen.push(String(a[0])); return f(...a); }; 1"
    ))
    text = await client.ask("Hello there")
    assert text and client.last_stats.transport == "page"
    seen = await session._call(lambda: main_world(
        "[window.seen, Object.getOwnPropertyNames(window).filter((n) => /^(__aura|cdc_|\\$wdc_)/.test(n))]"
    ))
    assert seen == [[], []]
    assert replica.stats.botcheck_blocked == 0


@needs_xvfb
def test_doctor_stealth_passes_every_check_for_the_default_selenium_browser():
    result = run_cli("doctor", "--stealth", "--driver", "selenium", "--json", env=server_env())
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    assert report["driver"] == "selenium" and report["mode"] == "headed on a virtual display"
    assert [row["id"] for row in report["checks"]] == list(CHECKS) and report["passed"] is True


def test_a_headless_selenium_browser_gives_away_only_what_a_headless_playwright_one_does():
    """Forced headless: a real screen size, hover and a fine pointer; only the emptied full version list is left."""
    result = run_cli("doctor", "--stealth", "--driver", "selenium", "--headless", "--json", env=server_env())
    assert result.returncode == 4, result.stderr.decode()
    report = json.loads(result.stdout)
    assert [row["id"] for row in report["checks"] if not row["pass"]] == ["6"], report


# A cross-site iframe (localhost inside 127.0.0.1: its own renderer, as a Turnstile widget is) that runs check 10's
# probe and reports what it saw to the page.
_FRAME_PROBE = """<script>
const leaks = () => { let consulted = false; const saved = Error.prepareStackTrace;
  Error.prepareStackTrace = (e, frames) => { consulted = true; return String(e); };
  try { console.debug(new Error("probe")); } finally { Error.prepareStackTrace = saved; } return consulted; };
setTimeout(() => parent.postMessage({leak: leaks()}, "*"), 1500);
</script>"""
_TOP_PAGE = """<!DOCTYPE html><title>iframe probe</title><pre id="seen"></pre>
<script>addEventListener("message", (m) => { document.getElementById("seen").textContent = JSON.stringify(m.data); });</script>
<iframe src="http://localhost:%d/frame"></iframe>"""


async def test_a_cross_site_iframe_sees_no_runtime_enable_leak():
    from aiohttp import web

    from tests.support.servers.loopback_app import serve_app

    async def frame(request: web.Request) -> web.Response:
        return web.Response(text=_FRAME_PROBE, content_type="text/html")

    async def top(request: web.Request) -> web.Response:
        return web.Response(text=_TOP_PAGE % request.url.port, content_type="text/html")

    app = web.Application()
    app.router.add_get("/frame", frame)
    app.router.add_get("/", top)
    session = LocalSeleniumSession("http://127.0.0.1", LaunchOptions(headless=True))
    try:
        async with serve_app(app) as url:
            await session.visit(url + "/")
            seen = await session._wait_for("() => document.getElementById('seen').textContent || null", 30)
    finally:
        await session.close()
    assert json.loads(seen) == {"leak": False}


def test_an_unwritable_cache_is_a_one_line_error(tmp_path):
    from tests.support.cli import assert_one_line_error

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")  # XDG_CACHE_HOME under a file: nothing can be made there
    result = run_cli("login", "--driver", "selenium", "--base-url", "http://127.0.0.1:9", "--headless",
                     env={"XDG_CACHE_HOME": str(blocker / "cache"), "AURA_PROFILE_DIR": str(tmp_path / "p")})
    assert_one_line_error(result, 7, "cannot write the patched chromedriver", "XDG_CACHE_HOME")
