"""Fixtures: a real replica on loopback, a throwaway profile folder, clients on them; and a leak check."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

from aura_browser import AuraClient
from aura_browser.replica import ReplicaConfig, ReplicaServer
from aura_browser.transports.base import Timeouts

FAST = dict(challenge_delay=0.2)  # the challenge still runs its script; it just waits less


# A shell that starts the suite in the background (`cmd &` without job control) leaves SIGINT ignored,
# and an ignored signal stays ignored across exec: every CLI subprocess would then shrug off the
# Ctrl-C that the signal tests send. Give this run, and so its children, the usual Ctrl-C.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Every process this test run starts (CLI subprocesses, Playwright's driver, Chromium) inherits this
# marker, so the leak check counts our browsers only, even with other test runs on the machine.
RUN_MARKER = f"AURA_TEST_RUN={uuid.uuid4().hex}"
os.environ["AURA_TEST_RUN"] = RUN_MARKER.split("=", 1)[1]


# The strict gate cannot tell curl_cffi's Chrome from Chromium (that is the point of impersonating it), so in
# this suite the impersonate tier shows a Firefox fingerprint, which the strict gate refuses: the tests of the
# in-page fallback still reach the page. Tests of the impersonate tier itself use the `chrome_impersonation`
# fixture, or pass CHROME_IMPERSONATION in a CLI run's env.
os.environ.setdefault("AURA_IMPERSONATE", "firefox147")
CHROME_IMPERSONATION = {"AURA_IMPERSONATE": ""}  # empty: the Chrome target nearest the profile's Chrome


@pytest.fixture
def chrome_impersonation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AURA_IMPERSONATE", "")


def chromium_pids() -> set[int]:
    """Chromium processes started by this test run (found by the inherited environment marker)."""
    out = subprocess.run(["pgrep", "-f", "chrom(e|ium)"], capture_output=True, text=True).stdout
    mine = set()
    for pid in map(int, out.split()):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:  # gone already
            continue
        if RUN_MARKER.encode() in environ:
            mine.add(pid)
    return mine


def wait_for_no_new_chromium(before: set[int], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    left = chromium_pids() - before
    while left and time.monotonic() < deadline:  # a closed browser's children exit a moment after it
        time.sleep(0.1)
        left = chromium_pids() - before
    assert not left, f"Chromium processes left running: {sorted(left)}"


@pytest.fixture(scope="session", autouse=True)
def no_browser_left_behind() -> Iterator[None]:
    """After the whole suite, no Chromium that the suite started may still run."""
    before = chromium_pids()
    yield
    wait_for_no_new_chromium(before)


@pytest.fixture
def make_replica() -> Iterator[Callable[..., ReplicaServer]]:
    servers: list[ReplicaServer] = []

    def make(**config: object) -> ReplicaServer:
        server = ReplicaServer(ReplicaConfig(**{**FAST, **config}))  # type: ignore[arg-type]
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def replica(make_replica: Callable[..., ReplicaServer]) -> ReplicaServer:
    return make_replica(gate="challenge")


@pytest.fixture
def profile_dir(tmp_path: Path) -> Path:
    return tmp_path / "profiles"


@pytest.fixture
def driver() -> str:
    """The browser driver `make_client` uses. Tests run over both with `tests.drivers.both_drivers`."""
    return "playwright"


@pytest.fixture
async def make_client(profile_dir: Path, driver: str):
    clients: list[AuraClient] = []

    def make(url: str, **options: object) -> AuraClient:
        options.setdefault("profile_dir", profile_dir)
        options.setdefault("driver", driver)
        options.setdefault("insecure", url.startswith("https"))
        options.setdefault("timeouts", Timeouts(connect=5, first_byte=20, idle=20))
        options.setdefault("login_timeout", 30)
        client = AuraClient(url, **options)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


def run_cli(*args: str, input: bytes | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """Run `aura-browser ARGS` as a real subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "aura_browser", *args],
        input=input, capture_output=True, env=full_env, timeout=timeout,
    )


@pytest.fixture
def gateless_site(make_replica: Callable[..., ReplicaServer], profile_dir: Path) -> ReplicaServer:
    """A replica with its gate off, and a saved profile for it: what runs against it starts no browser."""
    from aura_browser.profile import Profile, ProfileStore

    replica = make_replica(gate="off")
    ProfileStore(profile_dir).save("default", Profile(base_url=replica.url, user_agent="Mozilla/5.0 Test"))
    return replica
