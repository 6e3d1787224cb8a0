"""A child that dies with us, even by kill -9, started without `preexec_fn` (unsafe while threads run)."""

from __future__ import annotations

import ast
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from aura_browser.drivers.parent_death import dies_with_us

from tests.support.killed_parent import outlives_its_killed_parent

# What the child reads back: the parent-death signal the kernel holds for it (PR_GET_PDEATHSIG).
SHOW_SIGNAL = "import ctypes; s = ctypes.c_int(); ctypes.CDLL(None).prctl(2, ctypes.byref(s)); print(s.value)"
LAUNCHERS = ["setpriv", "python"]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=LAUNCHERS)
def launcher(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each launcher in turn: util-linux's setpriv, and the Python one where no setpriv is on the PATH."""
    if request.param == "setpriv" and shutil.which("setpriv") is None:
        pytest.skip("no setpriv (util-linux) on this machine")
    if request.param == "python":
        monkeypatch.setenv("PATH", "/nonexistent")
    return request.param



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
    assert not outlives_its_killed_parent(parent_code)


def test_no_process_is_started_with_a_preexec_fn() -> None:
    """It runs Python between fork and exec, which may deadlock while other threads run (ours and pytest's do)."""
    files = [path for folder in ("aura_browser", "tests", "scripts") for path in sorted((ROOT / folder).rglob("*.py"))
             if "node_modules" not in path.parts]
    found = [f"{path.relative_to(ROOT)}:{node.lineno}" for path in files for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.keyword) and node.arg == "preexec_fn"]
    assert not found, f"preexec_fn in {found}: use dies_with_us, start_new_session, process_group or umask instead"
