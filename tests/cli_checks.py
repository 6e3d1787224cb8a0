"""Checks shared by the reliability tests: how a CLI run ended, and which processes are still around."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator


def out(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stdout.decode("utf-8")


def err(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stderr.decode("utf-8")


def assert_one_line_error(result: subprocess.CompletedProcess[bytes], code: int, *phrases: str) -> str:
    """The run exited `code` with exactly one line on stderr, holding every phrase, and no traceback."""
    stderr = err(result)
    assert result.returncode == code, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("aura-browser: "), stderr
    for phrase in phrases:
        assert phrase in lines[0], stderr
    assert "Traceback" not in stderr
    return lines[0]


@contextlib.contextmanager
def cli_process(*args: str, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`aura-browser ARGS` running in the background, for a test to act on mid-run; killed if left running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aura_browser", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env},
    )
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def finish(process: subprocess.Popen[bytes], printed_before: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Wait for the run to end; its result, with what the test already read from stdout put back in front."""
    try:
        rest, stderr = process.communicate(timeout=30)
    finally:
        process.kill()  # a no-op once it has exited; a run that hangs must not outlive the test
    return subprocess.CompletedProcess(process.args, process.returncode, printed_before + rest, stderr)


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state letter) for every process visible in /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
        table[int(entry.name)] = (int(fields[1]), fields[0])
    return table


def descendants(pid: int) -> set[int]:
    table = process_table()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, (parent, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def zombie_children(pid: int | None = None) -> set[int]:
    """Children of `pid` (default: this process) that exited and were never reaped."""
    pid = os.getpid() if pid is None else pid
    return {child for child, (parent, state) in process_table().items() if parent == pid and state == "Z"}


def still_present(pids: set[int], timeout: float = 10) -> set[int]:
    """Which of `pids` still exist, running or as zombies, after up to `timeout` seconds for them to go.

    An orphan is reaped by init a moment after it exits, so a zombie is only a leak if it stays.
    """
    deadline = time.monotonic() + timeout
    while True:
        table = process_table()
        left = {pid for pid in pids if pid in table}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)
