"""The processes a test run started: this run's Chromium, a process's descendants, zombies and leftovers."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

# Every process this test run starts (CLI subprocesses, Playwright's driver, Chromium) inherits this
# marker, so the leak check counts our browsers only, even with other test runs on the machine.
RUN_MARKER = f"AURA_TEST_RUN={uuid.uuid4().hex}"
os.environ["AURA_TEST_RUN"] = RUN_MARKER.split("=", 1)[1]


def chromium_pids() -> set[int]:
    """Chromium processes started by this test run (found by the inherited environment marker)."""
    out = subprocess.run(["pgrep", "-f", "chrom(e|ium)"], capture_output=True, text=True).stdout
    mine = set()
    for pid in map(int, out.split()):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:  # gone already
            continue
        if RUN_MARKER.encode() in environ:
            mine.add(pid)
    return mine


def wait_for_no_new_chromium(before: set[int], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    left = chromium_pids() - before
    while left and time.monotonic() < deadline:  # a closed browser's children exit a moment after it
        time.sleep(0.1)
        left = chromium_pids() - before
    assert not left, f"Chromium processes left running: {sorted(left)}"


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
