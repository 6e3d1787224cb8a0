"""A process group that dies with us, even when we are killed with SIGKILL and no `finally` runs.

chromedriver and the Chromium it starts outlive a killed parent: nothing tells them it is gone. So the
driver starts chromedriver as the leader of a process group of its own (Chromium and its helpers join
it), and a small watchdog process holds the read end of a pipe from us. The kernel closes our end when
we exit, however we exit; the watchdog then reads end-of-file and kills the whole group.
(PR_SET_PDEATHSIG would not do: it fires when the *thread* that started the child ends, and ours start
in worker threads; nor does it reach the grandchildren.)
"""

from __future__ import annotations

import contextlib
import subprocess
import sys

# Runs with -I -S: no site-packages, no environment, so it starts in a few milliseconds.
# It ignores the terminal's SIGINT and SIGHUP, which reach our whole foreground group: it must outlive us.
WATCHDOG_CODE = """
import os, signal, sys
for name in ("SIGINT", "SIGHUP", "SIGTERM"):
    signal.signal(getattr(signal, name), signal.SIG_IGN)
while sys.stdin.buffer.read(1):
    pass
try:
    os.killpg(int(sys.argv[1]), signal.SIGKILL)
except (ProcessLookupError, PermissionError):
    pass
"""

# What the driver gives chromedriver's Popen: a process group of its own, led by chromedriver.
# This also keeps a terminal's Ctrl-C away from it: we shut it down ourselves, in order.
OWN_GROUP = {"process_group": 0}


class GroupWatchdog:
    """Kills process group `group` once this process ends, or when `release()` is called."""

    def __init__(self, group: int) -> None:
        self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", WATCHDOG_CODE, str(group)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def release(self) -> None:
        """Kill what is left of the group now (after a clean shutdown: nothing, or helpers still exiting)."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.stdin.close()  # type: ignore[union-attr]
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
