"""The test tiers (tests/support/tiers.py): what a test uses marks it, and a browser started unmarked is seen."""

from __future__ import annotations

import subprocess

from aura_browser import drivers
from aura_browser.drivers.browser_path import find_chromium
from aura_browser.drivers.selenium_local import LocalSeleniumSession

from tests.support.cli import run_cli
from tests.support.profiles import save_plain_profile
from tests.support.tiers import BROWSER, PROFILE, SUBPROCESS, BrowserWatch, _helper_tiers, _known


def runs_the_cli():
    run_cli("--help")


def calls_a_helper_that_runs_the_cli():
    runs_the_cli()


def opens_a_session():
    drivers.new_session("playwright", "http://127.0.0.1:9", None)


def makes_a_driver_session_itself():
    LocalSeleniumSession("http://127.0.0.1", None)


def saves_a_profile(profile_dir, url):
    save_plain_profile(profile_dir, url)


def imports_playwright_where_it_uses_it():
    from playwright.sync_api import sync_playwright

    sync_playwright()


def pure():
    return sorted([3, 1, 2])


class RunsTheCliInAMethod:  # as tests/test_docs.py's Page runs each example
    def run(self):
        subprocess.run(["true"], check=True)


def uses_a_class_that_runs_the_cli():
    RunsTheCliInAMethod().run()


def test_the_helpers_a_test_names_give_its_tiers():
    known = _known()
    assert _helper_tiers(runs_the_cli, known) == {SUBPROCESS}
    assert _helper_tiers(calls_a_helper_that_runs_the_cli, known) == {SUBPROCESS}  # read through the suite's helpers
    assert _helper_tiers(opens_a_session, known) == {BROWSER}
    assert _helper_tiers(makes_a_driver_session_itself, known) == {BROWSER}
    assert _helper_tiers(imports_playwright_where_it_uses_it, known) == {BROWSER}
    assert _helper_tiers(saves_a_profile, known) == {PROFILE}
    assert _helper_tiers(uses_a_class_that_runs_the_cli, known) == {SUBPROCESS}  # a test module's own class
    assert _helper_tiers(pure, known) == set()


def test_the_marks_this_test_got_from_its_own_fixtures(request, replica):
    # `replica` (a gated site) makes this test a browser test, with no mark written here; it starts no browser itself.
    assert request.node.get_closest_marker(BROWSER) is not None


def test_a_chromium_started_while_watched_is_seen(tmp_path):
    watch = BrowserWatch()
    browser = subprocess.Popen([find_chromium(), "--headless=new", "--no-sandbox", f"--user-data-dir={tmp_path}",
                                "--remote-debugging-port=0", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert watch.seen.wait(30)
    finally:
        browser.kill()
        browser.wait()
    assert browser.pid in watch.stop()
