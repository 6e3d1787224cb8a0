"""The aura-browser pytest plugin (entry point `pytest11`): fixtures, options, and the live-test switch.

Fixtures:
  aura_replica  a running embedded replica of OpenChat UI. Choose its gate per test with
                `@pytest.mark.aura_replica(gate="strict", ...)` (any ReplicaConfig field), or
                `@pytest.mark.parametrize("aura_replica", ["off", {"gate": "strict"}], indirect=True)`.
  aura_site     the site under test: the replica when the test uses `aura_replica`, else --base-url.
  aura_profile  a logged-in profile for that site (the saved one when usable, else a headless login).
  aura_client   an AuraClient on that profile (async; needs pytest-asyncio). Client options per test
                with `@pytest.mark.aura_client(transport="page")`.
  aura_live     the live smoke suite's shared session (one probe, one login).

Tests marked `aura_live` are deselected unless --aura-live is given. This module is imported by
every pytest run where aura-browser is installed, so it imports nothing heavy until a fixture runs.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterator

import pytest

if TYPE_CHECKING:
    from ..client import AuraClient
    from ..probe import SiteUnderTest
    from ..profile import Profile
    from ..replica import ReplicaServer
    from .live import LiveSmoke

LIVE_HELP = "run the live smoke tests (marked aura_live) against --base-url"
REPLICA_DEFAULTS: dict[str, Any] = {"gate": "challenge", "challenge_delay": 0.2}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on", "t", "y")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aura-browser", "aura-browser (live smoke tests of an OpenChat UI deployment)")
    group.addoption("--aura-live", action="store_true", default=False, help=LIVE_HELP)
    group.addoption("--aura-profile", default=os.environ.get("AURA_PROFILE") or "default", metavar="NAME",
                    help="saved profile to use and refresh [env AURA_PROFILE; default: default]")
    group.addoption("--aura-profile-dir", default=os.environ.get("AURA_PROFILE_DIR") or None, metavar="DIR",
                    help="folder of saved profiles [env AURA_PROFILE_DIR; default: aura-browser's user data folder]")
    group.addoption("--aura-browser", default=os.environ.get("AURA_BROWSER") or None, metavar="PATH",
                    help="Chromium binary [env AURA_BROWSER]")
    group.addoption("--aura-driver", default=os.environ.get("AURA_DRIVER") or "playwright",
                    choices=["playwright", "selenium"], help="what drives the browser [env AURA_DRIVER]")
    group.addoption("--aura-proxy", default=os.environ.get("AURA_PROXY") or None, metavar="URL",
                    help="http://[user:password@]host:port [env AURA_PROXY]")
    group.addoption("--aura-insecure", action="store_true", default=_env_flag("AURA_INSECURE"),
                    help="accept self-signed TLS certificates [env AURA_INSECURE]")
    group.addoption("--aura-login-timeout", type=float, default=float(os.environ.get("AURA_LOGIN_TIMEOUT") or 120),
                    metavar="SECONDS", help="how long a login may wait for the gate [env AURA_LOGIN_TIMEOUT; 120]")
    group.addoption("--aura-timeout", type=float, default=float(os.environ.get("AURA_TIMEOUT") or 60),
                    metavar="SECONDS", help="seconds to a reply's first byte and between chunks [env AURA_TIMEOUT; 60]")


# --- --base-url: pytest-base-url's, pytest-playwright's, or ours --------------------------------


def _base_url_provided(pluginmanager: pytest.PytestPluginManager) -> bool:
    module = sys.modules.get("pytest_base_url.plugin")
    if module is not None and pluginmanager.is_registered(module):
        return True
    return pluginmanager.has_plugin("playwright-base-url")  # pytest-playwright's own fallback


class _BaseUrlFallback:
    @pytest.fixture(scope="session")
    def base_url(self, pytestconfig: pytest.Config) -> str | None:
        return site_base_url(pytestconfig)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser) -> Iterator[None]:
    # tryfirst makes this wrapper the outermost, so the code after `yield` runs after every other
    # plugin's: by then pytest-base-url (or pytest-playwright's fallback) has added --base-url, or not.
    yield
    if _base_url_provided(early_config.pluginmanager):
        return
    parser.addini("base_url", help="base url for the application under test.")
    parser.addoption("--base-url", metavar="url", default=os.environ.get("PYTEST_BASE_URL"),
                     help="base url for the application under test.")
    early_config.pluginmanager.register(_BaseUrlFallback(), "aura-browser-base-url")


def site_base_url(config: pytest.Config) -> str | None:
    value = config.getoption("base_url", None)
    if not value:
        try:
            value = config.getini("base_url")
        except ValueError:  # nobody registered the ini value
            value = None
    return value or None


# --- markers and the live switch -------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "aura_live: a live smoke test of a real deployment; runs only with --aura-live")
    config.addinivalue_line("markers", "aura_replica(gate='challenge', **config): settings of the aura_replica fixture")
    config.addinivalue_line("markers", "aura_client(**options): AuraClient options of the aura_client fixture")
    if config.getoption("aura_live") and not site_base_url(config):
        raise pytest.UsageError("--aura-live needs --base-url URL: the deployment to smoke-test")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("aura_live"):
        return
    live = [item for item in items if item.get_closest_marker("aura_live")]
    if live:
        config.hook.pytest_deselected(items=live)
        items[:] = [item for item in items if not item.get_closest_marker("aura_live")]


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.getoption("aura_live"):
        return f"aura-browser: live smoke tests against {site_base_url(config)}"
    return None


# --- fixtures -----------------------------------------------------------------------------------


def configured_site(config: pytest.Config, base_url: str) -> SiteUnderTest:
    from ..probe import SiteUnderTest
    from ..transports.base import Timeouts

    timeout = config.getoption("aura_timeout")
    return SiteUnderTest(base_url, config.getoption("aura_profile"), {
        "profile_dir": config.getoption("aura_profile_dir"),
        "browser": config.getoption("aura_browser"),
        "driver": config.getoption("aura_driver"),
        "proxy": config.getoption("aura_proxy"),
        "insecure": config.getoption("aura_insecure"),
        "login_timeout": config.getoption("aura_login_timeout"),
        "timeouts": Timeouts(connect=min(15.0, timeout), first_byte=timeout, idle=timeout),
    })


def replica_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """REPLICA_DEFAULTS, then the aura_replica marker (`gate` positional or keywords), then an indirect param."""
    settings = dict(REPLICA_DEFAULTS)
    marker = request.node.get_closest_marker("aura_replica")
    if marker is not None:
        if marker.args:
            settings["gate"] = marker.args[0]
        settings.update(marker.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, str):
        settings["gate"] = param
    elif isinstance(param, dict):
        settings.update(param)
    elif param is not None:
        pytest.fail(f"aura_replica parameter {param!r}: give a gate name or a dict of ReplicaConfig fields",
                    pytrace=False)
    return settings


@pytest.fixture
def aura_replica(request: pytest.FixtureRequest) -> Iterator[ReplicaServer]:
    """A running embedded replica of OpenChat UI on a free loopback port (gate `challenge` by default)."""
    from ..replica import ReplicaConfig, ReplicaServer

    try:
        config = ReplicaConfig(**replica_settings(request))
    except (TypeError, ValueError) as exc:
        raise pytest.fail.Exception(f"aura_replica: {exc}", pytrace=False) from None
    with ReplicaServer(config) as server:
        yield server


@pytest.fixture
def aura_site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SiteUnderTest:
    """The site under test: the test's aura_replica (with a throwaway profile folder), else --base-url."""
    if "aura_replica" in request.fixturenames:
        replica: ReplicaServer = request.getfixturevalue("aura_replica")
        return configured_site(request.config, replica.url).for_replica(tmp_path_factory.mktemp("aura-profiles"))
    base_url = site_base_url(request.config)
    if not base_url:
        pytest.fail("no site under test: pass --base-url URL, or use the aura_replica fixture", pytrace=False)
    return configured_site(request.config, base_url)


@pytest.fixture
def aura_profile(aura_site: SiteUnderTest) -> Profile:
    """A logged-in profile for the site under test: the saved one when usable, else a headless login."""
    from .live import explained, run_in_own_loop

    with explained(f"log in to {aura_site.base_url}"):
        profile = run_in_own_loop(aura_site.logged_in_profile())
    return profile


@pytest.fixture(scope="session")
def aura_live(pytestconfig: pytest.Config) -> LiveSmoke:
    """The live smoke suite's session on --base-url: one site probe and one login for all its checks."""
    from .live import LiveSmoke

    base_url = site_base_url(pytestconfig)
    if not base_url:
        pytest.fail("the live smoke tests need --base-url URL", pytrace=False)
    return LiveSmoke(configured_site(pytestconfig, base_url))


try:
    import pytest_asyncio
except ImportError:  # the plugin must not break pytest runs that have no pytest-asyncio

    @pytest.fixture
    def aura_client() -> None:
        """An AuraClient on aura_profile; needs pytest-asyncio."""
        pytest.fail("the aura_client fixture is async: pip install pytest-asyncio (or 'aura-browser[pytest]')",
                    pytrace=False)

else:

    @pytest_asyncio.fixture
    async def aura_client(request: pytest.FixtureRequest, aura_site: SiteUnderTest,
                          aura_profile: Profile) -> AsyncIterator[AuraClient]:
        """An AuraClient on aura_profile; options per test with @pytest.mark.aura_client(transport="page")."""
        marker = request.node.get_closest_marker("aura_client")
        async with aura_site.client(**(marker.kwargs if marker else {})) as client:
            yield client
