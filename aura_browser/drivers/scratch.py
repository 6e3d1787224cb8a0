"""Private temp folders of a browser (its profile, with the session's cookies) and of its display (Xvfb's
authority file), named after the process that made them: `aura-chromium-<pid>-XXXXXXXX`.

A process that is killed (kill -9, a signal it does not handle) cannot remove its own folders, and the
kernel's clean-up ends only processes. So each new folder is made after removing those of our own dead
processes: a folder of ours whose process no longer exists. A folder of another user, or of a process
still running, is never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile

KINDS = ("chromium", "xvfb")


def private_folder(kind: str) -> tempfile.TemporaryDirectory[str]:
    """A new 0700 folder `aura-<kind>-<our pid>-...` in the temp folder, removed by its `cleanup()`."""
    assert kind in KINDS, kind
    sweep_dead_folders()
    return tempfile.TemporaryDirectory(prefix=f"aura-{kind}-{os.getpid()}-")


def sweep_dead_folders(root: str | None = None) -> None:
    """Remove the folders that our own processes, since dead, left in `root` (default: the temp folder)."""
    root = root or tempfile.gettempdir()
    with contextlib.suppress(OSError), os.scandir(root) as entries:
        for entry in entries:
            pid = _maker(entry.name)
            if pid is None or pid == os.getpid() or _alive(pid):
                continue
            try:
                status = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(status.st_mode) and status.st_uid == os.geteuid():
                shutil.rmtree(entry.path, ignore_errors=True)  # never follows a link inside


def _maker(name: str) -> int | None:
    """The pid in `aura-<kind>-<pid>-...`; None for any other name."""
    for kind in KINDS:
        prefix = f"aura-{kind}-"
        if name.startswith(prefix):
            pid, dash, _ = name[len(prefix):].partition("-")
            return int(pid) if dash and pid.isdigit() else None
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
