"""The selenium driver's browser, as a page sees it: no chromedriver globals, no webdriver flag, nothing of ours
in the page's main world, and no process left behind.
"""

import contextlib
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from aura_browser.drivers.base import LaunchOptions
from aura_browser.drivers.chromedriver import CDC_BLOCK, blank_cdc_block, patched_chromedriver
from aura_browser.drivers.selenium import find_chromedriver
from aura_browser.drivers.selenium_local import LocalSeleniumSession
from tests.conftest import RUN_MARKER, chromium_pids, wait_for_no_new_chromium

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


def our_xvfb_running() -> bool:
    for pid in subprocess.run(["pgrep", "-x", "Xvfb"], capture_output=True, text=True).stdout.split():
        with contextlib.suppress(OSError):
            if RUN_MARKER.encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                return True
    return False


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


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_login_stops_chromium_and_the_virtual_display(make_replica, profile_dir, sig, code):
    replica = make_replica(gate="challenge", challenge_delay=60)  # the gate holds the browser until we signal
    before = chromium_pids()
    process = subprocess.Popen(
        [sys.executable, "-m", "aura_browser", "login", "--driver", "selenium", "--base-url", replica.url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "AURA_PROFILE_DIR": str(profile_dir)},
    )
    try:
        assert replica.stats.wait_until(lambda s: s.challenges_served >= 1, 60), "the browser never reached the gate"
        assert our_xvfb_running(), "the default mode did not run on our own Xvfb"
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == code, stderr.decode()
    assert "Traceback" not in stderr.decode()
    wait_for_no_new_chromium(before)
    assert not our_xvfb_running()
