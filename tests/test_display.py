"""The private virtual display: a real Xvfb, guarded by a cookie, stopped on every path."""

from __future__ import annotations

import os
import socket
import struct
import time
from pathlib import Path

import pytest

from aura_browser.drivers.browser_mode import BrowserMode, choose_mode, xvfb_available
from aura_browser.drivers.display import VirtualDisplay
from aura_browser.errors import BrowserError

from tests.support.drivers import needs_xvfb
from tests.support.killed_parent import outlives_its_killed_parent


def x11_handshake(display: str, authority: str | None) -> int:
    """The first byte of the X server's answer to a connection setup: 1 accepted, 0 refused."""
    name, cookie = b"", b""
    if authority:
        data = Path(authority).read_bytes()
        fields, at = [], 2
        for _ in range(4):
            (length,) = struct.unpack(">H", data[at:at + 2])
            fields.append(data[at + 2:at + 2 + length])
            at += 2 + length
        name, cookie = fields[2], fields[3]
    pad = lambda b: b + b"\0" * (-len(b) % 4)  # noqa: E731
    setup = struct.pack("<cxHHHHxx", b"l", 11, 0, len(name), len(cookie)) + pad(name) + pad(cookie)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(f"/tmp/.X11-unix/X{display.lstrip(':')}")
        sock.sendall(setup)
        return sock.recv(1)[0]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return status != "Z"


def wait_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


@needs_xvfb
def test_only_the_browser_with_the_cookie_may_use_the_display() -> None:
    with VirtualDisplay() as display:
        env = display.environment({"PATH": "/usr/bin"})
        assert env["DISPLAY"] == display.display and "DISPLAY" not in os.environ
        assert x11_handshake(env["DISPLAY"], env["XAUTHORITY"]) == 1
        assert x11_handshake(env["DISPLAY"], None) == 0
        pid = display._process.pid  # type: ignore[union-attr]
        folder = Path(env["XAUTHORITY"]).parent
        assert folder.stat().st_mode & 0o777 == 0o700
    assert wait_gone(pid) and not folder.exists()


@needs_xvfb
def test_two_displays_get_different_numbers() -> None:
    with VirtualDisplay() as first, VirtualDisplay() as second:
        assert first.display != second.display


@needs_xvfb
def test_xvfb_dies_with_a_killed_parent() -> None:
    """SIGKILL gives no chance to clean up: the kernel's parent-death signal stops Xvfb anyway."""
    script = (
        "import sys, time\n"
        "from aura_browser.drivers.display import VirtualDisplay\n"
        "d = VirtualDisplay(); d.start(); print(d._process.pid, flush=True); time.sleep(60)\n"
    )
    assert not outlives_its_killed_parent(script), "Xvfb outlived its parent"


def test_without_xvfb_the_error_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(BrowserError, match="Xvfb is not installed.*--headless"):
        VirtualDisplay().start()


def test_modes() -> None:
    with_xvfb = {"PATH": os.environ["PATH"]} if xvfb_available() else None
    without = {"PATH": "/nonexistent"}
    assert choose_mode(True, without) == BrowserMode(headless=True)
    assert choose_mode(None, without) == BrowserMode(headless=True)
    assert choose_mode(False, {**without, "DISPLAY": ":5"}) == BrowserMode(headless=False)
    assert choose_mode(False, without) == BrowserMode(headless=False, virtual_display=False)
    if with_xvfb:
        assert choose_mode(None, with_xvfb) == BrowserMode(headless=False, virtual_display=True)
        assert choose_mode(None, {**with_xvfb, "DISPLAY": ":5"}) == BrowserMode(headless=False, virtual_display=True)
        assert choose_mode(False, with_xvfb) == BrowserMode(headless=False, virtual_display=True)
        assert choose_mode(True, with_xvfb) == BrowserMode(headless=True)
