"""Headed logins on a machine without a display: our own Xvfb, stopped on every path; without Xvfb, a clear error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, run_cli
from tests.support.drivers import needs_xvfb
from tests.support.processes import chromium_pids, descendants, still_present, wait_for_no_new_chromium


def no_display(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "AURA_HEADLESS")}
    return {**env, **extra}


def named(pids: set[int], name: str) -> set[int]:
    found = set()
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                found.add(pid)
        except OSError:
            continue
    return found


def test_headed_without_a_display_or_xvfb_keeps_chromiums_reason_and_says_what_to_do(replica, tmp_path):
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    # A PATH without Xvfb; Chromium is still found, at its full path.
    result = subprocess.run(
        [sys.executable, "-m", "aura_browser", "login", "--headed", "--base-url", replica.url,
         "--profile-dir", str(tmp_path / "profiles")],
        capture_output=True, env=no_display(PATH=str(empty_path)), timeout=120,
    )
    line = assert_one_line_error(result, 7, "Missing X server or $DISPLAY", "--headless", "Xvfb")
    assert "Target page, context or browser has been closed" in line  # Playwright's own words are kept


@needs_xvfb
def test_headed_without_a_display_runs_on_a_virtual_one(replica, tmp_path):
    result = run_cli("login", "--headed", "--base-url", replica.url, "--profile-dir", str(tmp_path), env=no_display())
    assert result.returncode == 0, result.stderr.decode()
    assert replica.stats.clearances_issued == 1


@needs_xvfb
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_login_stops_the_browser_and_its_xvfb(make_replica, tmp_path, sig, code):
    replica = make_replica(gate="challenge", challenge_delay=120)  # the login waits on the challenge
    before = chromium_pids()
    process = subprocess.Popen(
        [sys.executable, "-m", "aura_browser", "login", "--base-url", replica.url, "--profile-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=no_display(),
    )
    try:
        assert replica.stats.wait_until(lambda s: s.challenges_served >= 1, 60), "the browser never asked"
        started = descendants(process.pid)
        xvfb = named(started, "Xvfb")
        assert xvfb, "no Xvfb was started"
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == code, stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert not still_present(xvfb), "Xvfb was left running"
    assert not still_present(started), "a process of the login was left running"
    wait_for_no_new_chromium(before)
