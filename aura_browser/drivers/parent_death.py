"""A child process that Linux stops when we die, even by SIGKILL, started without `preexec_fn`.

The kernel's parent-death signal (PR_SET_PDEATHSIG) is set in the child, between fork and exec. Python's
`preexec_fn` would do it, but it is unsafe while other threads run (ours do), so the child is started through a
launcher that sets the signal and then execs the command: util-linux's `setpriv --pdeathsig` (Essential on
Debian), else a two-line Python. The signal comes when the *thread* that started the child ends, not only the
process: start it from a thread that outlives it. It does not reach the child's own children.
"""

from __future__ import annotations

import shutil
import signal
import sys
from typing import Sequence

_PR_SET_PDEATHSIG = 1
# Where setpriv is missing: -I -S, no environment and no site-packages, so it starts in milliseconds.
_LAUNCHER = (
    "import ctypes, os, sys\n"
    f"ctypes.CDLL(None, use_errno=True).prctl({_PR_SET_PDEATHSIG}, int(sys.argv[1]))\n"
    "try:\n"
    "    os.execvp(sys.argv[2], sys.argv[2:])\n"
    "except OSError as exc:\n"
    "    sys.exit(f'cannot run {sys.argv[2]}: {exc.strerror}')\n"
)


def dies_with_us(command: Sequence[str], sig: signal.Signals = signal.SIGTERM) -> list[str]:
    """`command`, launched so that it gets `sig` when the thread that starts it ends (our process dies, however)."""
    if sys.platform != "linux":  # no parent-death signal: the normal paths still stop the child
        return list(command)
    setpriv = shutil.which("setpriv")
    if setpriv is not None:
        return [setpriv, "--pdeathsig", sig.name, "--", *command]
    return [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(int(sig)), *command]
