"""The terminal closes (SIGHUP) or the process is killed with SIGKILL during a Selenium in-page reply.

Each run is marked with an environment variable of its own, which chromedriver and Chromium inherit, so only
the processes of that run are counted (other test runs on this machine start Chromium too).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages

from tests.support.cli import assert_one_line_error, out

MARKER = "AURA_HANGUP_TEST"


def marked_processes(mark: str) -> set[int]:
    """Every process (chromedriver, Chromium, ours) whose environment carries MARKER=mark."""
    found = set()
    needle = f"{MARKER}={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if needle in environ and state != "Z":
            found.add(int(entry.name))
    return found


def names(pids: set[int]) -> list[str]:
    result = []
    for pid in pids:
        try:
            result.append(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode())
        except OSError:
            pass
    return sorted(result)


def wait_until_gone(mark: str, timeout: float = 20) -> set[int]:
    deadline = time.monotonic() + timeout
    while (left := marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@contextlib.contextmanager
def selenium_reply_in_progress(make_replica, profile_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`ask --transport page` with the Selenium driver, held by the replica after two chunks; killed if left running."""
    replica = make_replica(gate="challenge", hold_after=2, split_multibyte=False)
    mark = uuid.uuid4().hex
    env = {**os.environ, "AURA_PROFILE_DIR": str(profile_dir), "AURA_LOGIN_TIMEOUT": "60",
           "AURA_DRIVER": "selenium", MARKER: mark}
    process = subprocess.Popen(
        [sys.executable, "-m", "aura_browser", "ask", "--base-url", replica.url, "--transport", "page", "Hi"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    try:
        assert replica.stats.wait_until(lambda s: s.holding == 1, 90), "the reply never started"
        started = names(marked_processes(mark))
        # The driver runs a patched copy of chromedriver, named chromedriver-<hash>.
        base_names = [name.rsplit("/", 1)[-1] for name in started]
        assert any(name.startswith("chromedriver") for name in base_names), started
        assert any("chrom" in name and not name.startswith("chromedriver") for name in base_names), started
        yield process, mark
    finally:
        process.kill()
        process.wait()


def test_sighup_during_a_selenium_in_page_reply_closes_the_browser_and_says_so(make_replica, profile_dir):
    with selenium_reply_in_progress(make_replica, profile_dir) as (process, mark):
        sent = reply_text(as_messages("Hi"), "").encode()[:32]  # the two chunks sent before the hold
        first = b""
        while len(first) < len(sent):
            data = process.stdout.read1(4096)
            if not data:
                break
            first += data
        process.send_signal(signal.SIGHUP)
        rest, stderr = process.communicate(timeout=60)
    result = subprocess.CompletedProcess(process.args, process.returncode, first + rest, stderr)
    assert_one_line_error(result, 129, "aura-browser: hung up")
    assert out(result).rstrip("\n") == sent.decode()
    left = wait_until_gone(mark)
    assert not left, f"left running after SIGHUP: {names(left)}"


def test_kill_9_during_a_selenium_in_page_reply_leaves_no_chromedriver_or_chromium(make_replica, profile_dir):
    with selenium_reply_in_progress(make_replica, profile_dir) as (process, mark):
        process.kill()  # SIGKILL: no handler, no finally
        process.wait()
    left = wait_until_gone(mark)
    for pid in left:  # leave nothing behind for the next test, then fail
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"left running after kill -9: {names(left)}"
