"""A Chromium we start ourselves, with a DevTools port, for a driver to attach to (chromedriver's
`debuggerAddress`), as undetected-chromedriver does.

Started by chromedriver, Chromium gets `--enable-automation` (so `navigator.webdriver` is true) and the
automation infobar; started here it gets only the flags we give it. It runs in a session of its own (Ctrl-C
reaches us, and we stop it), in a fresh 0700 profile folder, and Linux kills it if we die without stopping it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from typing import Mapping, Sequence

from ..errors import BrowserError
from .display import parent_death_signal

START_TIMEOUT = 30.0  # seconds for Chromium to open its DevTools port
STOP_TIMEOUT = 5.0


class ChromiumProcess:
    """One Chromium: `start()` returns its DevTools address ("127.0.0.1:port"); `stop()` ends it (idempotent)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self.devtools_address = ""

    def start(self, executable: str, args: Sequence[str], env: Mapping[str, str] | None = None) -> str:
        self._folder = tempfile.TemporaryDirectory(prefix="aura-chromium-")
        folder = self._folder.name
        command = [executable, f"--user-data-dir={folder}", "--remote-debugging-port=0", *args, "about:blank"]
        log_path = os.path.join(folder, "chromium.log")
        try:
            with open(log_path, "wb") as log_file:
                self._process = subprocess.Popen(
                    command, env=dict(env) if env is not None else None, stdin=subprocess.DEVNULL,
                    stdout=log_file, stderr=log_file, start_new_session=True, preexec_fn=parent_death_signal(signal.SIGKILL),
                )
        except OSError as exc:
            self.stop()
            raise BrowserError(f"cannot start Chromium ({executable}): {exc.strerror or exc}") from None
        try:
            port = self._wait_for_port(os.path.join(folder, "DevToolsActivePort"), log_path)
        except BaseException:
            self.stop()
            raise
        self.devtools_address = f"127.0.0.1:{port}"
        return self.devtools_address

    def _wait_for_port(self, port_file: str, log_path: str) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                with open(port_file) as file:
                    port = file.readline().strip()
                if port:
                    return port
            assert self._process is not None
            if self._process.poll() is not None:
                raise BrowserError(f"Chromium exited at start (exit code {self._process.returncode}): {_last_line(log_path)}")
            time.sleep(0.05)
        raise BrowserError(f"Chromium did not open its DevTools port within {START_TIMEOUT:g}s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            # Its helpers (zygote, renderers, GPU) share its process group: end them all.
            for sig in (signal.SIGTERM, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, sig)
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                    break
                except subprocess.TimeoutExpired:
                    continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # helpers that outlived the browser process
        if self._folder is not None:
            with contextlib.suppress(OSError):
                self._folder.cleanup()
            self._folder = None


def _last_line(log_path: str) -> str:
    with contextlib.suppress(OSError):
        with open(log_path, errors="replace") as file:
            lines = [line.strip() for line in file if line.strip()]
        if lines:
            return lines[-1][:300]
    return "no output"
