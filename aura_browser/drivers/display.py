"""The X display a headed browser runs on: the user's, checked, or a private virtual one (Xvfb).

A headed Chromium is what passes the gates' checks (see docs/stealth.md); on a server it
needs an X display. `VirtualDisplay` starts Debian's Xvfb on a free display number (`-displayfd`),
guarded by a MIT-MAGIC-COOKIE so that other local users cannot watch or type into it, and the
browser alone is given its DISPLAY (our own process environment is never changed).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from typing import Any, Mapping

from ..errors import BrowserError, named
from .browser_mode import SCREEN, XVFB
from .parent_death import dies_with_us
from .scratch import private_folder

_START_TIMEOUT = 15.0
_FAMILY_WILD = 0xFFFF
X11_SOCKETS = "/tmp/.X11-unix"  # where X servers on this machine make their sockets (X0, X1, ...)
_DISPLAY = re.compile(r"(?P<host>[^:]*):(?P<number>[0-9]+)(\.[0-9]+)?")
_X_CONNECT_TIMEOUT = 3.0


def check_display(environ: Mapping[str, str] | None = None) -> None:
    """Refuse a DISPLAY on which no X server answers, before a headed browser fails for a reason that hides it."""
    environ = os.environ if environ is None else environ
    display = environ.get("DISPLAY", "")
    if not display:
        return  # Wayland, or nothing: the browser's own reason says so
    match = _DISPLAY.fullmatch(display)
    if match is None:
        raise BrowserError(f"DISPLAY={display!r} is not an X display (like :0 or host:10.0); fix or unset it "
                           f"(aura-browser then runs a virtual display of its own), or pass {named('headless', True)}")
    host, number = match.group("host"), int(match.group("number"))
    if host in ("", "unix"):
        where = f"{X11_SOCKETS}/X{number}"
        addresses: list[tuple[int, Any]] = [(socket.AF_UNIX, "\0" + where), (socket.AF_UNIX, where)]  # abstract first
    else:
        where = f"{host}:{6000 + number}"
        addresses = [(socket.AF_INET6 if ":" in host else socket.AF_INET, (host, 6000 + number))]
    for family, address in addresses:
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(_X_CONNECT_TIMEOUT)
            sock.connect(address)
            return
    raise BrowserError(f"no X server answers on DISPLAY={display} (nothing accepts connections at {where}); "
                       "start it, unset DISPLAY (aura-browser then runs a virtual display of its own), "
                       f"or pass {named('headless', True)}")


def _x11_sockets_problem() -> str | None:
    """Why Xvfb cannot make its socket in X11_SOCKETS (read-only, not ours to write), if it cannot."""
    if not os.path.isdir(X11_SOCKETS):
        return None  # Xvfb makes it
    probe = os.path.join(X11_SOCKETS, f".aura-probe-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    except OSError as exc:
        return f"{X11_SOCKETS} is not writable ({exc.strerror or exc}), so Xvfb cannot make its socket there"
    os.unlink(probe)
    return None


def _xauth_entry(number: str, cookie: bytes) -> bytes:
    def counted(data: bytes) -> bytes:
        return struct.pack(">H", len(data)) + data

    return struct.pack(">H", _FAMILY_WILD) + counted(b"") + counted(number.encode()) + counted(b"MIT-MAGIC-COOKIE-1") + counted(cookie)


class VirtualDisplay:
    """One Xvfb server, started by `start()` and stopped by `stop()` (idempotent; also on errors)."""

    def __init__(self, screen: tuple[int, int] = SCREEN) -> None:
        self.screen = screen
        self.display: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._authority = ""
        self._cookie = b""
        self._ready_fd: int | None = None
        self._log = ""

    def start(self) -> str:
        """Start Xvfb and return its display (":N"). Raises BrowserError when it cannot run."""
        self.spawn()
        return self.wait_ready()

    def spawn(self) -> None:
        """Start the Xvfb process, not waiting for it (call from a thread that outlives it: the process dies
        with the thread that started it). `wait_ready()` then waits for its display, and may run in any thread."""
        executable = shutil.which(XVFB)
        if executable is None:
            raise BrowserError(
                "Xvfb is not installed, so there is no display for a headed browser; "
                f"install it ('apt-get install xvfb'), or pass {named('headless', True)}"
            )
        self._folder = private_folder("xvfb")  # 0700
        self._authority = os.path.join(self._folder.name, "Xauthority")
        self._cookie = secrets.token_bytes(16)
        self._write_authority(_xauth_entry("", self._cookie))
        read_end, write_end = os.pipe()
        self._log = os.path.join(self._folder.name, "xvfb.log")
        try:
            width, height = self.screen
            with open(self._log, "wb") as log_file:
                self._process = subprocess.Popen(
                    dies_with_us([executable, "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24",
                                  "-auth", self._authority, "-nolisten", "tcp", "-noreset"]),
                    pass_fds=(write_end,),
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log_file,  # its reasons, if it fails
                    start_new_session=True,  # Ctrl-C reaches us, and we stop Xvfb after the browser, not before
                )
        except OSError as exc:
            os.close(read_end)
            self.stop()
            raise BrowserError(f"cannot start Xvfb: {exc.strerror or exc}") from None
        finally:
            os.close(write_end)
        self._ready_fd = read_end

    @property
    def cookie(self) -> bytes:
        """The MIT-MAGIC-COOKIE that lets a client of ours (the browser, our XTEST input) onto this display."""
        return self._cookie

    def wait_ready(self) -> str:
        """The display (":N") once Xvfb accepts connections; BrowserError (and Xvfb stopped) if it never does."""
        assert self._ready_fd is not None, "spawn() first"
        fd, self._ready_fd = self._ready_fd, None
        try:
            number = self._read_display_number(fd)
        except BaseException:
            self.stop()
            raise
        finally:
            os.close(fd)
        self._write_authority(_xauth_entry("", self._cookie) + _xauth_entry(number, self._cookie))
        self.display = f":{number}"
        return self.display

    def _write_authority(self, data: bytes) -> None:
        fd = os.open(self._authority, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)

    def _read_display_number(self, fd: int) -> str:
        deadline = time.monotonic() + _START_TIMEOUT
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"Xvfb did not start within {_START_TIMEOUT:g}s")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 64)
            if not chunk:  # Xvfb exited before it had a display
                code = self._process.wait() if self._process else None
                raise BrowserError(f"Xvfb exited at start (exit code {code}): {self._why_it_failed()}; fix that, "
                                   f"or pass {named('headless', True)}")
            data += chunk
        return data.decode().strip()

    def _why_it_failed(self) -> str:
        problem = _x11_sockets_problem()
        if problem:
            return problem
        lines = []
        with contextlib.suppress(OSError), open(self._log, errors="replace") as file:
            lines = [line.strip() for line in file if line.strip()]
        fatal = [line for line in lines if "Fatal server error" in line]
        index = lines.index(fatal[-1]) if fatal else -1
        # Xvfb writes "(EE) Fatal server error:" and its reason on the next line.
        reason = lines[index + 1] if fatal and index + 1 < len(lines) else (lines[-1] if lines else "it said nothing")
        return reason.removeprefix("(EE)").strip()[:300]

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The browser's environment: `base` (default: ours) with this display and its cookie."""
        assert self.display is not None, "start() first"
        env = dict(os.environ if base is None else base)
        env.pop("WAYLAND_DISPLAY", None)
        env.update(DISPLAY=self.display, XAUTHORITY=self._authority)
        return env

    def stop(self) -> None:
        process, self._process = self._process, None
        self.display = None
        if self._ready_fd is not None:
            os.close(self._ready_fd)
            self._ready_fd = None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def __enter__(self) -> "VirtualDisplay":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
