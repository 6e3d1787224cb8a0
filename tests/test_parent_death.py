"""A child that dies with us, even by kill -9, started without `preexec_fn` (unsafe while threads run)."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys

import pytest

from aura_browser.drivers.parent_death import dies_with_us

# What the child reads back: the parent-death signal the kernel holds for it (PR_GET_PDEATHSIG).
SHOW_SIGNAL = "import ctypes; s = ctypes.c_int(); ctypes.CDLL(None).prctl(2, ctypes.byref(s)); print(s.value)"
LAUNCHERS = ["setpriv", "python"]


@pytest.fixture(params=LAUNCHERS)
def launcher(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each launcher in turn: util-linux's setpriv, and the Python one where no setpriv is on the PATH."""
    if request.param == "setpriv" and shutil.which("setpriv") is None:
        pytest.skip("no setpriv (util-linux) on this machine")
    if request.param == "python":
        monkeypatch.setenv("PATH", "/nonexistent")
    return request.param


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_the_child_holds_the_signal_it_is_given(launcher: str) -> None:
    command = dies_with_us([sys.executable, "-c", SHOW_SIGNAL], signal.SIGKILL)
    assert (os.path.basename(command[0]) == "setpriv") == (launcher == "setpriv")
    assert subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip() == str(int(signal.SIGKILL))
    plain = dies_with_us([sys.executable, "-c", SHOW_SIGNAL])
    assert subprocess.run(plain, capture_output=True, text=True, check=True).stdout.strip() == str(int(signal.SIGTERM))


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_the_child_dies_when_its_parent_is_killed(launcher: str) -> None:
    """The parent prints the child's pid once the child runs (so the signal is set), then waits; kill -9 ends it."""
    parent_code = (
        "import subprocess, sys, time\n"
        "from aura_browser.drivers.parent_death import dies_with_us\n"
        "child = subprocess.Popen(dies_with_us([sys.executable, '-c', 'print(flush=True); import time; time.sleep(60)']),"
        " stdout=subprocess.PIPE)\n"
        "child.stdout.readline(); print(child.pid, flush=True); time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())  # type: ignore[union-attr]
        assert alive(child)
        exited = os.pidfd_open(child)  # readable once the child has exited
        try:
            parent.send_signal(signal.SIGKILL)
            parent.wait()
            assert select.select([exited], [], [], 10)[0], f"the child {child} outlived its parent"
        finally:
            os.close(exited)
    finally:
        parent.kill()
        parent.wait()
