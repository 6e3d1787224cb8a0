"""pytest-playwright's own `page` fixture, given the saved profile by our plugin, lands on the app past the gate.

pytest-playwright's sync fixtures cannot share a process with pytest-asyncio's loop, and this project
switches it off (`-p no:playwright`), so each case is a separate pytest run on a generated test file, in a
folder with a configuration of its own. Its browser is Debian's Chromium (`playwright install` needs the
network): the plugin points pytest-playwright at the Chromium aura-browser uses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from aura_browser.profile import ProfileStore

from tests.support.processes import chromium_pids, wait_for_no_new_chromium

# A page that opened on the challenge would show its title ("Just a moment...") right after goto.
TEST_PAGE = '''
def test_the_page_opens_on_the_app(page, base_url):
    response = page.goto(base_url + "/")
    assert response.status == 200 and page.title() == "Chatbot UI", page.title()
    page.locator("textarea.m-0").wait_for()
    assert "cf_clearance" in [cookie["name"] for cookie in page.context.cookies()]
'''
# Without --aura-browser-context, pytest-playwright is pointed at Debian's Chromium by hand.
LAUNCH_CONFTEST = '''
import pytest
from aura_browser.drivers.browser_path import find_chromium

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": find_chromium()}
'''
# The other way in: the user's own browser_context_args, returning the plugin's aura_context_args.
FIXTURE_CONFTEST = LAUNCH_CONFTEST + '''
@pytest.fixture
def browser_context_args(browser_context_args, aura_context_args):
    return {**browser_context_args, **aura_context_args}
'''


def run_pytest_playwright(folder: Path, replica, profile_dir: Path, *options: str,
                          conftest: str = "") -> subprocess.CompletedProcess[str]:
    folder.mkdir()
    # not this project's configuration (-p no:playwright)
    (folder / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    (folder / "test_ui.py").write_text(TEST_PAGE)
    if conftest:
        (folder / "conftest.py").write_text(conftest)
    env = {**os.environ, "AURA_PROFILE_DIR": str(profile_dir), "AURA_LOGIN_TIMEOUT": "60"}
    return subprocess.run(
        # -W error: no warning from the plugin either (a session fixture written as an instance method was one)
        [sys.executable, "-m", "pytest", "-p", "playwright", "-p", "no:cacheprovider", "-q", "-W", "error",
         "--base-url", replica.url, *options, "test_ui.py"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300,
    )


def test_the_option_logs_in_when_there_is_no_profile_and_the_page_lands_on_the_app(make_replica, tmp_path,
                                                                                   profile_dir):
    replica = make_replica(gate="challenge")
    before = chromium_pids()
    result = run_pytest_playwright(tmp_path / "ui", replica, profile_dir, "--aura-browser-context")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert replica.stats.clearances_issued == 1  # one login, before the page opened
    assert ProfileStore(profile_dir).load("default") is not None  # the login saved the profile
    wait_for_no_new_chromium(before)


def test_the_fixture_reuses_a_fresh_profile_without_a_login(make_replica, tmp_path, profile_dir):
    replica = make_replica(gate="challenge")
    first = run_pytest_playwright(tmp_path / "first", replica, profile_dir, "--aura-browser-context")
    assert first.returncode == 0, first.stdout + first.stderr
    challenges = replica.stats.challenges_served
    result = run_pytest_playwright(tmp_path / "second", replica, profile_dir, conftest=FIXTURE_CONFTEST)
    assert result.returncode == 0, result.stdout + result.stderr
    assert replica.stats.clearances_issued == 1  # the second run logged in no more
    assert replica.stats.challenges_served == challenges  # and its page met no challenge


def test_without_the_profile_the_page_meets_the_challenge(make_replica, tmp_path, profile_dir):
    replica = make_replica(gate="challenge")
    result = run_pytest_playwright(tmp_path / "ui", replica, profile_dir, conftest=LAUNCH_CONFTEST)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Just a moment..." in result.stdout
