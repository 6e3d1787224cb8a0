"""Headed or headless, and the private virtual display (Xvfb) a headed browser runs on when there is no screen.

A headed Chromium is what passes the gates' checks (see docs/stealth.md); on a server it
needs an X display. `VirtualDisplay` starts Debian's Xvfb on a free display number (`-displayfd`),
guarded by a MIT-MAGIC-COOKIE so that other local users cannot watch or type into it, and the
browser alone is given its DISPLAY (our own process environment is never changed).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..errors import BrowserError, named
from .scratch import private_folder

XVFB = "Xvfb"
SCREEN = (1920, 1080)
# The browser window on that screen: as big as a maximised one; its inner size is smaller (tabs, toolbar).
WINDOW_ARGS = ("--window-position=0,0", f"--window-size={SCREEN[0]},{SCREEN[1]}")
_START_TIMEOUT = 15.0
_FAMILY_WILD = 0xFFFF
_PR_SET_PDEATHSIG = 1
X11_SOCKETS = "/tmp/.X11-unix"  # where X servers on this machine make their sockets (X0, X1, ...)
_DISPLAY = re.compile(r"(?P<host>[^:]*):(?P<number>[0-9]+)(\.[0-9]+)?")
_X_CONNECT_TIMEOUT = 3.0


@dataclass(frozen=True)
class BrowserMode:
    """How the browser is shown: headless, headed on the user's display, or headed on our own Xvfb."""

    headless: bool
    virtual_display: bool = False

    def describe(self) -> str:
        if self.headless:
            return "headless"
        return "headed on a virtual display" if self.virtual_display else "headed"


def browser_args(mode: BrowserMode, user_agent: str | None = None) -> list[str]:
    """Chromium flags for `mode`: a real window size; headless also gets `user_agent` browser-wide (workers too)."""
    args = list(WINDOW_ARGS)
    if mode.headless:
        args.append(f"--screen-info={{{SCREEN[0]}x{SCREEN[1]}}}")  # else headless says 800x600
        if user_agent:
            args.append(f"--user-agent={user_agent}")
    return args


def xvfb_available(environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return shutil.which(XVFB, path=environ.get("PATH")) is not None


def choose_mode(headless: bool | None, environ: Mapping[str, str] | None = None) -> BrowserMode:
    """The mode for `headless` (None: the stealthy default), given the environment.

    - True: headless.
    - False (`--headed`): the user's DISPLAY when there is one, else our own Xvfb when it is installed,
      else headed anyway (the launch then fails with the browser's "Missing X server" reason).
    - None: headed on our own Xvfb, even when a DISPLAY exists (no window pops up on the user's screen);
      headless when Xvfb is not installed.
    """
    environ = os.environ if environ is None else environ
    if headless:
        return BrowserMode(headless=True)
    if headless is False:
        if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
            return BrowserMode(headless=False)
        return BrowserMode(headless=False, virtual_display=xvfb_available(environ))
    if xvfb_available(environ):
        return BrowserMode(headless=False, virtual_display=True)
    return BrowserMode(headless=True)


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


def parent_death_signal(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """What runs in the child before exec: Linux then sends it `sig` if we die without stopping it (SIGKILL, a crash).

    prctl is looked up here, in the parent: between fork and exec the child may only call what needs no lock.
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the normal paths still stop Xvfb
        return None
    return lambda: prctl(_PR_SET_PDEATHSIG, sig)


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
                    [executable, "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24",
                     "-auth", self._authority, "-nolisten", "tcp", "-noreset"],
                    pass_fds=(write_end,),
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log_file,  # its reasons, if it fails
                    start_new_session=True,  # Ctrl-C reaches us, and we stop Xvfb after the browser, not before
                    preexec_fn=parent_death_signal(),
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
