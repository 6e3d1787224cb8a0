"""Ctrl-C typed in a real terminal, during a Playwright login or in-page reply: one line, nothing after it.

A terminal's Ctrl-C goes to the whole foreground process group, Playwright's Node.js driver and Chromium
included, not to aura-browser alone as `send_signal` does. The run gets a pseudo-terminal as its controlling
terminal (pty.fork), and the test types Ctrl-C into it. Whether the driver dies before aura-browser has
stopped it depends on timing, so each case runs three times.
"""

from __future__ import annotations

import os
import pty
import select
import sys
import time

import pytest

from tests.support.processes import chromium_pids, wait_for_no_new_chromium

ROUNDS = 3


def run_in_terminal(args: list[str], env: dict[str, str], ready) -> tuple[int, str]:
    """Run `aura-browser ARGS` on a new pseudo-terminal; once `ready()` holds, type Ctrl-C. (exit code, screen)."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty
        os.execve(sys.executable, [sys.executable, "-m", "aura_browser", *args], {**os.environ, **env})
    screen = b""
    try:
        assert ready(), "the run never got to the point of the test"
        os.write(terminal, b"\x03")  # Ctrl-C, as typed
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and select.select([terminal], [], [], deadline - time.monotonic())[0]:
            try:
                data = os.read(terminal, 4096)
            except OSError:  # EIO: the child has gone and closed the terminal
                break
            if not data:
                break
            screen += data
        _, status = os.waitpid(pid, 0)
    except BaseException:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(terminal)
    return os.waitstatus_to_exitcode(status), screen.decode("utf-8", "replace")


ERASE_LINE = "\x1b[2K"


def visible_lines(screen: str) -> list[str]:
    """The lines a person sees once the output is drawn: a carriage return goes back to the line's start and an
    erase clears it, as the login's status line does before anything else is printed."""
    lines = []
    for raw in screen.replace("^C", "").replace("\r\n", "\n").split("\n"):
        line: list[str] = []
        column = 0
        for part in raw.split("\r"):
            for i, piece in enumerate(part.split(ERASE_LINE)):
                if i:
                    line = []
                    column = 0
                line[column:column + len(piece)] = list(piece)
                column += len(piece)
            column = 0
        if "".join(line).strip():
            lines.append("".join(line))
    return lines


def assert_one_interrupted_line(code: int, screen: str) -> None:
    lines = visible_lines(screen)
    assert code == 130, screen
    assert lines == ["aura-browser: interrupted"], screen


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_ctrl_c_during_a_playwright_login(make_replica, tmp_path, round_):
    replica = make_replica(gate="challenge", challenge_delay=60)  # the login waits at the challenge
    before = chromium_pids()
    env = {"AURA_PROFILE_DIR": str(tmp_path / "profiles"), "AURA_LOGIN_TIMEOUT": "90"}
    code, screen = run_in_terminal(
        ["login", "--base-url", replica.url], env,
        lambda: replica.stats.wait_until(lambda s: s.challenges_served >= 1, 60),
    )
    assert_one_interrupted_line(code, screen)
    wait_for_no_new_chromium(before)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_ctrl_c_during_a_playwright_in_page_reply(make_replica, tmp_path, round_):
    replica = make_replica(gate="challenge", hold_after=2)
    before = chromium_pids()
    env = {"AURA_PROFILE_DIR": str(tmp_path / "profiles"), "AURA_LOGIN_TIMEOUT": "60"}
    code, screen = run_in_terminal(
        ["ask", "--base-url", replica.url, "--transport", "page", "Hi"], env,
        lambda: replica.stats.wait_until(lambda s: s.holding == 1, 60),
    )
    assert code == 130, screen
    # the reply's first two chunks, then the one line
    assert screen.replace("^C", "").strip().splitlines()[-1] == "aura-browser: interrupted", screen
    assert "never retrieved" not in screen and "Traceback" not in screen and "Exception" not in screen, screen
    wait_for_no_new_chromium(before)
