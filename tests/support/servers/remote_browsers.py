"""Remote browsers for tests, started on loopback: a Playwright browser server, a Chromium with remote
debugging, and chromedriver as a W3C WebDriver server (the protocol Selenium Grid speaks).

Each is a context manager that yields a `RemoteBrowser` and kills its process group on the way out.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator, Sequence
from urllib.parse import urlsplit

from aura_browser.drivers.base import LEAN_ARGS
from aura_browser.drivers.browser_path import find_chromium


@dataclass
class RemoteBrowser:
    option: str  # the AuraClient keyword (and LaunchOptions field): browser_ws, cdp_url, remote_webdriver
    env: str  # the environment variable of the CLI option
    endpoint: str
    driver: str  # the driver that speaks to it
    process: subprocess.Popen[bytes]
    devtools_port: int | None = None  # where its page targets can be listed, when we know

    def alive(self) -> bool:
        return self.process.poll() is None

    def pages(self) -> list[dict[str, str]]:
        """The browser's open pages (DevTools /json/list)."""
        assert self.devtools_port is not None
        with urllib.request.urlopen(f"http://127.0.0.1:{self.devtools_port}/json/list", timeout=10) as reply:
            return [t for t in json.load(reply) if t.get("type") == "page"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(args: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
    # A process group of its own, so that stopping it takes its browser along.
    return subprocess.Popen(args, start_new_session=True, stdin=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _first_line_with(stream: IO[bytes], marker: str) -> str:
    """Read lines until one holds `marker`; keep draining the rest so the process never blocks on a full pipe."""
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").strip()
        if marker in line:
            threading.Thread(target=lambda: [None for _ in iter(stream.readline, b"")], daemon=True).start()
            return line
    raise RuntimeError(f"the server ended before it printed {marker!r}")


@contextlib.contextmanager
def playwright_browser_server(tmp_path: Path) -> Iterator[RemoteBrowser]:
    """`playwright launch-server` with a config file; its endpoint is the ws:// line it prints."""
    devtools_port = _free_port()  # only so that the test can list the server browser's pages
    config = tmp_path / "launch-server.json"
    config.write_text(json.dumps({
        "executablePath": find_chromium(),
        "headless": True,
        "args": [*LEAN_ARGS, "--no-sandbox", f"--remote-debugging-port={devtools_port}"],
    }))
    process = _start([sys.executable, "-m", "playwright", "launch-server", "--browser", "chromium", "--config", str(config)],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        endpoint = _first_line_with(process.stdout, "ws://")
        yield RemoteBrowser("browser_ws", "AURA_BROWSER_WS", endpoint, "playwright", process, devtools_port)
    finally:
        _stop(process)


@contextlib.contextmanager
def chromium_with_remote_debugging(tmp_path: Path) -> Iterator[RemoteBrowser]:
    """Chromium with --remote-debugging-port=0 and a tab of its own; the port is in the line it prints on stderr."""
    with _chromium_over_cdp(tmp_path, ["--headless=new"]) as browser:
        yield browser


@contextlib.contextmanager
def chromedriver_server() -> Iterator[RemoteBrowser]:
    """chromedriver --port=0 as a WebDriver server; the port is in the line it prints once it listens."""
    from aura_browser.drivers.selenium import find_chromedriver

    process = _start([find_chromedriver(), "--port=0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert process.stdout is not None
        line = _first_line_with(process.stdout, "started successfully on port")
        port = int(line.rstrip(".").rsplit(" ", 1)[1])
        yield RemoteBrowser("remote_webdriver", "AURA_REMOTE_WEBDRIVER", f"http://127.0.0.1:{port}", "selenium", process)
    finally:
        _stop(process)


@contextlib.contextmanager
def headed_chromium_with_remote_debugging(tmp_path: Path) -> Iterator[RemoteBrowser]:
    """As chromium_with_remote_debugging, but headed on a private Xvfb, with a real window size."""
    from aura_browser.drivers.browser_mode import WINDOW_ARGS
    from aura_browser.drivers.display import VirtualDisplay

    with VirtualDisplay() as display, _chromium_over_cdp(tmp_path, WINDOW_ARGS, display.environment()) as browser:
        yield browser


@contextlib.contextmanager
def _chromium_over_cdp(tmp_path: Path, args: Sequence[str], env: dict[str, str] | None = None) -> Iterator[RemoteBrowser]:
    process = _start([find_chromium(), "--no-sandbox", *LEAN_ARGS, *args, "--remote-debugging-port=0",
                      f"--user-data-dir={tmp_path / 'cdp-chromium'}", "about:blank"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        assert process.stderr is not None
        line = _first_line_with(process.stderr, "DevTools listening on ws://")
        port = int(urlsplit(line.rsplit(" ", 1)[1]).port or 0)
        yield RemoteBrowser("cdp_url", "AURA_CDP_URL", f"http://127.0.0.1:{port}", "playwright", process, port)
    finally:
        _stop(process)


OTHER_PLAYWRIGHT = Path(__file__).resolve().parents[2] / "grid" / "node_modules" / "playwright-core" / "cli.js"


@contextlib.contextmanager
def playwright_server_of_another_version() -> Iterator[str]:
    """`playwright run-server` of the npm playwright-core in tests/grid (another version than the Python client's);
    its ws:// endpoint."""
    port = _free_port()
    process = _start(["node", str(OTHER_PLAYWRIGHT), "run-server", "--host", "127.0.0.1", "--port", str(port)],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        _first_line_with(process.stdout, "Listening on")
        yield f"ws://127.0.0.1:{port}/"
    finally:
        _stop(process)
