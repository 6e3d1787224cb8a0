"""Whether a child outlives its parent killed with -9, which gives the parent no chance to stop it."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys

from tests.support.tiers import SUBPROCESS, needs


@needs(SUBPROCESS)
def outlives_its_killed_parent(parent_code: str, timeout: float = 10) -> bool:
    """Run `parent_code` in a Python that prints its child's pid once the child runs, kill -9 it, and say whether
    the child still runs `timeout` seconds later (its exit is waited for on a pidfd, not polled)."""
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True)
    try:
        exited = os.pidfd_open(int(parent.stdout.readline()))  # type: ignore[union-attr]
        try:
            parent.send_signal(signal.SIGKILL)
            parent.wait()
            return not select.select([exited], [], [], timeout)[0]
        finally:
            os.close(exited)
    finally:
        parent.kill()
        parent.wait()
