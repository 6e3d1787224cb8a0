"""Standard streams that are closed, full or gone: a typed error at the first use, never a traceback.

`guard_standard_streams` runs before any command. A closed descriptor 0, 1 or 2 gets /dev/null, so no
file, socket or browser pipe opened later lands on it, and reading a closed stdin raises InvalidRequest.
Every write to stdout goes through `_Output`, which turns the OSError of a closed or full stdout, or of a
reader that went away, into OutputError: the CLI can then tell it from any other OSError. Every write to
stderr goes through `_Diagnostics`, which drops what cannot be written: a full stderr changes no exit code.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Buffer


class _ClosedInput(io.RawIOBase):
    """What stdin reads when the command was started with it closed (`<&-`)."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: object) -> int:
        from ..errors import InvalidRequest  # (every run installs these streams, --help too: errors wait for one)

        raise InvalidRequest("stdin is closed; give the input as an argument or a file, or pipe it in")

    def isatty(self) -> bool:
        return False


class _Written(io.RawIOBase):
    """A descriptor we write to; what a write that fails means is the subclass's."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.fd

    def isatty(self) -> bool:
        return os.isatty(self.fd)


class _Output(_Written):
    """Descriptor 1, with its failures as OutputError; `closed_at_start` when it was started closed (`>&-`)."""

    def __init__(self, fd: int, *, closed_at_start: bool) -> None:
        super().__init__(fd)
        self.closed_at_start = closed_at_start
        self.discard = False

    def isatty(self) -> bool:
        return not self.closed_at_start and super().isatty()

    def write(self, data: Buffer, /) -> int:
        if self.discard:
            return memoryview(data).nbytes
        try:
            if self.closed_at_start:
                raise OSError(errno.EBADF, "it is closed")
            return os.write(self.fd, data)
        except OSError as exc:
            from ..errors import OutputError

            broken_pipe = isinstance(exc, BrokenPipeError)
            raise OutputError(f"cannot write to stdout: {exc.strerror or exc}", broken_pipe=broken_pipe) from None


class _Diagnostics(_Written):
    """Descriptor 2, which never fails a command: when stderr cannot be written (closed, full), what was to be
    said is dropped, and the command still ends with its own exit code."""

    def write(self, data: Buffer, /) -> int:
        try:
            return os.write(self.fd, data)
        except OSError:  # there is no one left to tell
            return memoryview(data).nbytes


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError as exc:
        return exc.errno != errno.EBADF
    return True


def _occupy_with_devnull(fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    if devnull != fd:
        os.dup2(devnull, fd)
        os.close(devnull)


def discard_unwritten_output() -> None:
    """After stdout failed, drop what is left in its buffer: the exit's own flush must not fail again
    (Python would print "Exception ignored ..." under the one-line error)."""
    buffer = getattr(sys.stdout, "buffer", None)
    raw = getattr(buffer, "raw", None)
    if isinstance(raw, _Output):
        raw.discard = True


def guard_standard_streams() -> None:
    closed = {fd for fd in (0, 1, 2) if not _is_open(fd)}
    for fd in sorted(closed):
        _occupy_with_devnull(fd)
    if 0 in closed:
        sys.stdin = io.TextIOWrapper(io.BufferedReader(_ClosedInput()), encoding="utf-8")
    # sys.stderr may be replaced too (pytest's capture): only the real one, or a closed one, is wrapped.
    if 2 in closed or (sys.stderr is not None and sys.stderr is sys.__stderr__):
        errors = sys.stderr.errors if sys.stderr is not None and 2 not in closed else "backslashreplace"
        sys.stderr = io.TextIOWrapper(_Diagnostics(2), encoding="utf-8", errors=errors, write_through=True)
    # sys.stdout may already be replaced (pytest, click's test runner): only the real one is wrapped.
    previous = sys.stdout
    if 1 in closed or (previous is not None and previous is sys.__stdout__):
        line_buffering = previous is not None and bool(previous.line_buffering)
        encoding = previous.encoding if previous is not None else "utf-8"
        errors = previous.errors if previous is not None else "strict"
        output = io.BufferedWriter(_Output(1, closed_at_start=1 in closed))
        sys.stdout = io.TextIOWrapper(output, encoding=encoding, errors=errors, line_buffering=line_buffering)

