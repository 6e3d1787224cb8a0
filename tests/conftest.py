"""Fixtures: a real replica on loopback, a throwaway profile folder, clients on them, the environment of a CLI run
and a `serve` subprocess; a leak check; the test tiers (tests/support/tiers.py) marked and checked. The helpers
they and the tests share are in tests/support."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

# The helpers' asserts explain a failure as a test's own do (they must be registered before the first import).
pytest.register_assert_rewrite("tests.support")

from aura_browser import AuraClient
from aura_browser.replica import ReplicaConfig, ReplicaServer
from aura_browser.transports.base import Timeouts

from tests.support.cli import SECRET
from tests.support.processes import chromium_pids, wait_for_no_new_chromium
from tests.support.profiles import save_plain_profile
from tests.support.tiers import BROWSER, LOGIN, SUBPROCESS, BrowserWatch, in_fast_tier, mark_tiers, needs

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
# The suite's tests name their profile "default" (an explicit profile name keeps one file whatever the site);
# tests/test_site_profiles.py and tests/test_docs.py run without it, where each site gets its own profile.
os.environ.setdefault("AURA_PROFILE", "default")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tiers(items)


# A test outside the `browser` and `subprocess` tiers must start no Chromium, from its set-up (a module's fixture
# too) to its teardown: it would slow the fast tier, and the fast tier could not be trusted.
WATCH = pytest.StashKey[BrowserWatch]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    if in_fast_tier(item):
        item.stash[WATCH] = BrowserWatch()
    return (yield)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    result = yield
    watch = item.stash.get(WATCH, None)
    started = watch.stop() if watch is not None else set()
    if started:
        pytest.fail(f"this test started Chromium (pids {sorted(started)}) but is not marked {BROWSER!r} or "
                    f"{SUBPROCESS!r}: use a fixture or helper that declares it (tests/support/tiers.py `needs`), "
                    f"or mark it @pytest.mark.{BROWSER}", pytrace=False)
    return result


@pytest.fixture
def chrome_impersonation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AURA_IMPERSONATE", "")


@pytest.fixture(scope="session", autouse=True)
def no_browser_left_behind() -> Iterator[None]:
    """After the whole suite, no Chromium that the suite started may still run."""
    before = chromium_pids()
    yield
    wait_for_no_new_chromium(before)


@pytest.fixture(scope="session")
@needs(BROWSER)  # its nodes start Chromium for the tests' sessions
def selenium_grid(tmp_path_factory: pytest.TempPathFactory):
    """A real Selenium Grid on loopback (tests/support/grid.py), started at its first use and once per session:
    a hub, node `main` (2 slots), node `short` (1 slot; it ends a session idle for 10 s) and node `one` (1 slot)."""
    from tests.support.grid import Grid, NodeSpec

    grid = Grid(tmp_path_factory.mktemp("grid"), (NodeSpec("main", 2), NodeSpec("short", 1, 10), NodeSpec("one", 1)))
    grid.start()
    try:
        yield grid
    finally:
        grid.stop()


@pytest.fixture
@needs(LOGIN)  # with a gate, or without a saved profile, a client logs in
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
@needs(BROWSER)  # its gate is passed by a login in a browser
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
@needs(LOGIN)
async def make_client(profile_dir: Path, driver: str):
    clients: list[AuraClient] = []

    def make(url: str, **options: object) -> AuraClient:
        options.setdefault("profile_dir", profile_dir)
        options.setdefault("profile", "default")
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
    replica = make_replica(gate="off")
    save_plain_profile(profile_dir, replica.url)
    return replica


@pytest.fixture
def env(profile_dir: Path) -> dict[str, str]:
    """The environment of a CLI run on the throwaway profile folder (with `run_cli(..., env=env)`)."""
    return {"AURA_PROFILE_DIR": str(profile_dir), "AURA_LOGIN_TIMEOUT": "30"}


@pytest.fixture
@needs(SUBPROCESS)
def start_server(env):
    """Start `aura-browser serve --port 0 ARGS`; return its base URL (…/v1).

    Afterwards it is stopped with Ctrl-C, and must exit 0, print no secret and leave no browser running.
    """
    processes: list[subprocess.Popen] = []
    before = chromium_pids()

    def start(*args: str, extra_env: dict | None = None) -> str:
        process = subprocess.Popen(
            [sys.executable, "-m", "aura_browser", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env, **(extra_env or {})},
        )
        processes.append(process)
        line = process.stdout.readline().decode()
        assert " at http://127.0.0.1:" in line, line + process.stderr.read().decode()
        return line.split(" at ")[1].split()[0]

    yield start
    for process in processes:
        process.send_signal(signal.SIGINT)
        try:
            stdout, stderr = process.communicate(timeout=30)
        finally:
            process.kill()
        assert process.returncode == 0, stderr.decode()
        assert SECRET not in (stdout + stderr).decode(), "the API key was printed"
    wait_for_no_new_chromium(before)
