"""Fixtures: a real replica on loopback, a throwaway profile folder, clients on them; and a leak check."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Callable, Iterator

import pytest

from aura_browser import AuraClient
from aura_browser.replica import ReplicaConfig, ReplicaServer
from aura_browser.transports.base import Timeouts
from tests.support.processes import chromium_pids, wait_for_no_new_chromium

FAST = dict(challenge_delay=0.2)  # the challenge still runs its script; it just waits less


# A shell that starts the suite in the background (`cmd &` without job control) leaves SIGINT ignored,
# and an ignored signal stays ignored across exec: every CLI subprocess would then shrug off the
# Ctrl-C that the signal tests send. Give this run, and so its children, the usual Ctrl-C.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# The strict gate cannot tell curl_cffi's Chrome from Chromium (that is the point of impersonating it), so in
# this suite the impersonate tier shows a Firefox fingerprint, which the strict gate refuses: the tests of the
# in-page fallback still reach the page. Tests of the impersonate tier itself use the `chrome_impersonation`
# fixture, or pass tests.support.cli.CHROME_IMPERSONATION in a CLI run's env.
os.environ.setdefault("AURA_IMPERSONATE", "firefox147")


@pytest.fixture
def chrome_impersonation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AURA_IMPERSONATE", "")


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
    """The browser driver `make_client` uses. Tests run over both with `tests.support.drivers.both_drivers`."""
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


@pytest.fixture
def gateless_site(make_replica: Callable[..., ReplicaServer], profile_dir: Path) -> ReplicaServer:
    """A replica with its gate off, and a saved profile for it: what runs against it starts no browser."""
    from aura_browser.profile import Profile, ProfileStore

    replica = make_replica(gate="off")
    ProfileStore(profile_dir).save("default", Profile(base_url=replica.url, user_agent="Mozilla/5.0 Test"))
    return replica
