"""A login says what it is doing: one status line on stderr, on a terminal only, redrawn in place, gone when done."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading

from aura_browser import progress
from aura_browser.cli.status_line import CLEAR

from tests.support.cli import err, out, run_cli


def run_with_terminal_stderr(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[bytes], str]:
    """Run `aura-browser ARGS` with stderr on a pseudo-terminal (stdout piped); what the terminal showed."""
    controller, terminal = pty.openpty()
    shown = bytearray()

    def read() -> None:
        while True:
            try:
                data = os.read(controller, 4096)
            except OSError:  # the other end closed: the run is over
                return
            if not data:
                return
            shown.extend(data)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        result = subprocess.run([sys.executable, "-m", "aura_browser", *args], stdout=subprocess.PIPE,
                                stderr=terminal, env={**os.environ, **env}, timeout=120)
    finally:
        os.close(terminal)
        reader.join(timeout=10)
        os.close(controller)
    return result, shown.decode("utf-8", "replace")


def test_a_login_on_a_terminal_shows_its_stages_on_one_line_then_clears_it(replica, env):
    result, shown = run_with_terminal_stderr("ask", "--base-url", replica.url, "Hello", env=env)
    assert result.returncode == 0, shown
    assert out(result).startswith("Hello! You said: Hello")
    stages = [part.split("...")[0] for part in shown.split(CLEAR) if part]
    assert stages[0] == "aura-browser: " + progress.STARTING_BROWSER
    assert "aura-browser: " + progress.OPENING_SITE in stages
    assert any(stage.startswith(f"aura-browser: {progress.WAITING_FOR_CHALLENGE} ") and stage.endswith(" s")
               for stage in stages), stages
    assert "aura-browser: " + progress.SAVED in stages
    assert shown.endswith(CLEAR), "the status line must be gone when the login is done"
    assert "\n" not in shown, "one line, redrawn in place"


def test_piped_or_quiet_a_login_says_nothing(replica, env):
    piped = run_cli("ask", "--base-url", replica.url, "Hello", env=env)
    assert piped.returncode == 0 and err(piped) == ""
    quiet, shown = run_with_terminal_stderr("ask", "-q", "--base-url", replica.url, "--profile", "other", "Hello",
                                            env=env)
    assert quiet.returncode == 0 and shown == ""


def test_a_failed_login_clears_its_line_before_the_error(make_replica, env):
    replica = make_replica(gate="challenge", challenge_delay=30)  # the challenge outlasts the login timeout
    result, shown = run_with_terminal_stderr("login", "--base-url", replica.url, "--login-timeout", "2", env=env)
    assert result.returncode == 3
    before, error = shown.rsplit(CLEAR, 1)
    assert progress.WAITING_FOR_CHALLENGE in before
    assert error.startswith("aura-browser: error: the gate was not passed"), error
