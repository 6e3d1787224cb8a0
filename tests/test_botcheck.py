"""The replica's botcheck gate (issue 10, checks 4-12; issue 19, 13-15), and the Playwright driver against it and the
public detectors.

The gate is checked against a plain Playwright launch (what the driver was before: it must be caught) and
against aura-browser's defaults (headed on a private Xvfb, through patchright: it must pass).
"""

from __future__ import annotations

import json
import logging
import re
import time

from aura_browser.drivers.base import LaunchOptions
from aura_browser.drivers.browser_path import find_chromium
from aura_browser.drivers.playwright import PlaywrightSession
from aura_browser.replica.botcheck import CHECKS

from tests.support.botcheck import failing, server_env
from tests.support.cli import assert_one_line_error, run_cli
from tests.support.detectors import automation_hits, detector_site, detector_verdict, needs_detectors
from tests.support.drivers import needs_xvfb

BLOCK_TITLE = "Attention Required! | Cloudflare"


async def test_plain_playwright_is_blocked_and_the_log_says_why(make_replica, caplog):
    """What the Playwright driver used to be: automation flags, Runtime.enable, main-world polling, 1280x720, a page
    activated by evaluations that carry a user gesture, a confirm() dismissed in milliseconds."""
    from playwright.async_api import async_playwright

    replica = make_replica(gate="botcheck")
    caplog.set_level(logging.WARNING, logger="aura_browser.replica")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=find_chromium(), headless=True)
        try:
            page = await browser.new_page()
            await page.goto(replica.url + "/")
            await page.wait_for_function(f"() => document.title === {BLOCK_TITLE!r}", timeout=30_000)
        finally:
            await browser.close()
    seen = failing(replica)
    assert {"4", "5", "8", "10", "11"} <= set(seen), seen
    assert "webdriver true" in seen["4"] and "HeadlessChrome" in seen["5"] and "1280x720" in seen["8"]
    assert {"13", "15"} <= set(seen), seen
    assert "hasBeenActive true" in seen["13"] and "input events: none" in seen["13"]
    assert "Cancel (dismissed)" in seen["15"]
    assert replica.stats.botcheck_blocked == 1 and replica.stats.clearances_issued == 0
    logged = " ".join(r.getMessage() for r in caplog.records if "botcheck blocked a browser" in r.getMessage())
    assert "check 4 navigator.webdriver: webdriver true" in logged and "check 10" in logged


@needs_xvfb
def test_default_login_on_a_server_without_display_passes_the_botcheck_gate(make_replica, tmp_path):
    replica = make_replica(gate="botcheck")
    result = run_cli("login", "--base-url", replica.url, "--profile-dir", str(tmp_path), env=server_env())
    assert result.returncode == 0, result.stderr.decode()
    assert replica.stats.botcheck_passed == 1 and replica.stats.botcheck_blocked == 0
    rows = replica.stats.last_botcheck
    assert {row["id"] for row in rows} == set(CHECKS) and all(row["pass"] for row in rows), failing(replica)


def test_a_forced_headless_login_is_blocked_and_says_how_long_it_really_waited(make_replica, tmp_path):
    """--headless gives itself away (docs/stealth.md); the error names the real wait, not --login-timeout."""
    replica = make_replica(gate="botcheck")
    started = time.monotonic()
    result = run_cli("login", "--headless", "--base-url", replica.url, "--profile-dir", str(tmp_path),
                     "--login-timeout", "60", env=server_env())
    elapsed = time.monotonic() - started
    line = assert_one_line_error(result, 4, "blocked", BLOCK_TITLE)
    waited = float(re.search(r"after ([\d.]+)s", line).group(1))
    assert waited < min(60, elapsed), line
    assert "6" in failing(replica)  # the browser-wide --user-agent empties the high-entropy version list


@needs_xvfb
@needs_detectors
async def test_botd_and_fpscanner_see_a_person_in_the_playwright_driver():
    session = PlaywrightSession("http://127.0.0.1", LaunchOptions())
    try:
        async with detector_site() as url:
            verdict = await detector_verdict(session, url)
    finally:
        await session.close()
    assert verdict["botd"] == {"bot": False}, verdict
    assert automation_hits(verdict) == [], verdict


@needs_detectors
async def test_the_detectors_catch_plain_playwright():
    """The control: the same page flags what the driver was before."""
    from playwright.async_api import async_playwright

    async with detector_site() as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=find_chromium(), headless=True)
        try:
            page = await browser.new_page()
            await page.goto(url)
            handle = await page.wait_for_function("() => document.getElementById('verdict').textContent || null")
            verdict = json.loads(await handle.json_value())
        finally:
            await browser.close()
    assert verdict["botd"]["bot"] is True, verdict
    assert {"hasWebdriver", "hasCDP"} <= set(automation_hits(verdict)), verdict


@needs_xvfb
async def test_the_in_page_stream_leaves_nothing_in_the_pages_world(replica, make_client):
    """The fetch runs in patchright's isolated world: the page's own fetch and globals never see it."""
    client = make_client(replica.url, transport="page")
    await client.login()
    await client.ask("warm up")  # opens the in-page browser
    page = client._browser._page  # type: ignore[union-attr]
    await page.evaluate(
        "() => { window.seen = []; const f = window.fetch; window.fetch = (...a) => { window.seen.push(String(a[0])); return f(...a); }; }",
        isolated_context=False,
    )
    text = await client.ask("Hello there")
    assert text and client.last_stats.transport == "page"
    main_world = await page.evaluate(
        "() => [window.seen, Object.getOwnPropertyNames(window).filter((n) => /^(__aura|__playwright|__pw)/.test(n))]",
        isolated_context=False,
    )
    assert main_world == [[], []]


async def test_a_callers_patchright_page_is_adopted_and_streams_unseen(replica, make_client):
    from patchright.async_api import async_playwright

    async with async_playwright() as patchright:
        browser = await patchright.chromium.launch(executable_path=find_chromium(), headless=True)
        try:
            page = await browser.new_page()
            client = make_client(replica.url, transport="page", webdriver=page)
            assert await client.ask("Hi from a patchright page")
            assert client.last_stats.transport == "page"
            leftovers = "() => Object.getOwnPropertyNames(window).filter((n) => /^(__aura|__playwright|__pw)/.test(n))"
            assert await page.evaluate(leftovers, isolated_context=False) == []
            assert not page.is_closed()
        finally:
            await browser.close()


@needs_xvfb
def test_doctor_stealth_shows_every_check_passing_for_the_default_browser():
    result = run_cli("doctor", "--stealth", "--json", env=server_env())
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    assert report["driver"] == "playwright" and report["mode"] == "headed on a virtual display"
    assert [row["id"] for row in report["checks"]] == list(CHECKS) and report["passed"] is True


def test_doctor_stealth_names_what_a_headless_browser_gives_away():
    result = run_cli("doctor", "--stealth", "--headless", env=server_env())
    assert result.returncode == 4, result.stderr.decode()
    table = result.stdout.decode()
    assert "playwright driver, headless" in table
    row = next(line for line in table.splitlines() if line.strip().startswith("6 user agent"))
    assert "FAIL" in row and "full versions []" in row
    assert "Failing: 6 (exit 4)" in table
    for name in ("13 no user activation without input", "14 the window has the focus", "15 dialogs answered like a person"):
        row = next(line for line in table.splitlines() if line.strip().startswith(name))
        assert "pass" in row, row
    assert re.search(r"15 dialogs answered like a person\s+pass\s+confirm\(\) answered OK after \d{3,4} ms", table), table
