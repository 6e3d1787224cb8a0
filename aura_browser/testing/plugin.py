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
  aura_context_args  pytest-playwright context options from aura_profile (cookies, localStorage, user agent,
                headers, proxy): return them from `browser_context_args`, or pass --aura-browser-context.

Tests marked `aura_live` are deselected unless --aura-live is given. This module is imported by
every pytest run where aura-browser is installed, so it imports nothing heavy until a fixture runs.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterator

import pytest

from ..environment import FLAGS as ENV_FLAGS
from ..environment import SITE_ENV, default_of, env_name

if TYPE_CHECKING:
    from ..client import AuraClient
    from ..doctor.probe import SiteUnderTest
    from ..profile import Profile
    from ..replica import ReplicaServer
    from .live import LiveSmoke

LIVE_HELP = "run the live smoke tests (marked aura_live) against --base-url"
CONTEXT_HELP = ("give pytest-playwright's context and page the saved profile (logging in first when it is stale), "
                "so pages open past the site's gate; its browser becomes aura-browser's Chromium")
HEAVY_HELP = ("with --aura-live, also send the contract checks' heavy requests (marked aura_heavy: a 5 MiB body), "
              "which can stall the deployment for a minute or more: never against one that others use")
REPLICA_DEFAULTS: dict[str, Any] = {"gate": "challenge", "challenge_delay": 0.2}


# AuraClient options the plugin takes as --aura-NAME; each falls back to its AURA_* variable (SITE_ENV).
SITE_OPTION_HELP = {
    "profile": "saved profile to use and refresh [default: the site's own, as aura-browser's]",
    "profile_dir": "folder of saved profiles [default: aura-browser's user data folder]",
    "browser": "Chromium binary",
    "driver": "what drives the browser: playwright or selenium [default: playwright]",
    "proxy": "http://[user:password@]host:port for the browser and the direct requests",
    "insecure": "accept self-signed TLS certificates",
    "browser_ws": "a remote Playwright browser server (ws://host:port/...) instead of a local browser",
    "cdp_url": "a remote Chromium's DevTools endpoint (http://host:9222) instead of a local browser",
    "remote_webdriver": "a remote WebDriver server (http://host:4444) instead of a local browser",
    "headless": "a headless browser [default: headed on a private Xvfb when installed]",
}
# Settings timeouts the plugin takes as --aura-NAME, with their AURA_* variable and default from the table.
TIMEOUTS = {"login_timeout": "how long a login may wait for the gate",
            "timeout": "seconds to a reply's first byte and between chunks"}


def pytest_addoption(parser: pytest.Parser) -> None:
    # Defaults stay None here: the AURA_* variables are read when a fixture needs them, so a malformed one
    # can only fail the tests that use aura-browser, never an unrelated pytest run.
    group = parser.getgroup("aura-browser", "aura-browser (live smoke tests of an OpenChat UI deployment)")
    group.addoption("--aura-live", action="store_true", default=False, help=LIVE_HELP)
    group.addoption("--aura-browser-context", action="store_true", default=False, help=CONTEXT_HELP)
    group.addoption("--aura-heavy", action="store_true", default=False, help=HEAVY_HELP)
    for name, variable in SITE_ENV.items():
        if name == "base_url":  # that is --base-url, pytest-base-url's
            continue
        flag = "--aura-" + name.replace("_", "-")
        help_text = f"{SITE_OPTION_HELP.get(name, name)} [env {variable}]"
        if name in ENV_FLAGS:
            group.addoption(flag, action="store_true", default=None, help=help_text)
        else:
            group.addoption(flag, default=None, metavar=name.split("_")[-1].upper(), help=help_text)
    for name, help_text in TIMEOUTS.items():
        group.addoption("--aura-" + name.replace("_", "-"), type=float, default=None, metavar="SECONDS",
                        help=f"{help_text} [env {env_name(name)}; default: {default_of(name):g}]")


# --- --base-url: pytest-base-url's, pytest-playwright's, or ours --------------------------------


def _base_url_provided(pluginmanager: pytest.PytestPluginManager) -> bool:
    module = sys.modules.get("pytest_base_url.plugin")
    if module is not None and pluginmanager.is_registered(module):
        return True
    return pluginmanager.has_plugin("playwright-base-url")  # pytest-playwright's own fallback


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
    from . import base_url

    early_config.pluginmanager.register(base_url, "aura-browser-base-url")


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
    config.addinivalue_line("markers", "aura_heavy: a live check that can stall the deployment; runs only with "
                                       "--aura-heavy")
    config.addinivalue_line("markers", "aura_replica(gate='challenge', **config): settings of the aura_replica fixture")
    config.addinivalue_line("markers", "aura_client(**options): AuraClient options of the aura_client fixture")
    if config.getoption("aura_live") and not site_base_url(config):
        raise pytest.UsageError("--aura-live needs --base-url URL: the deployment to smoke-test")
    if config.getoption("aura_browser_context"):
        if not config.pluginmanager.has_plugin("playwright"):
            raise pytest.UsageError("--aura-browser-context needs pytest-playwright (pip install pytest-playwright; "
                                    "-p playwright where it is switched off)")
        from . import playwright_context

        config.pluginmanager.register(playwright_context, "aura-browser-context")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("aura_live"):
        if not config.getoption("aura_heavy"):
            heavy = pytest.mark.skip(reason="heavy: it can stall the deployment for a minute or more (a 5 MiB body); "
                                            "--aura-heavy sends it")
            for item in items:
                if item.get_closest_marker("aura_heavy"):
                    item.add_marker(heavy)
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


def _seconds(config: pytest.Config, name: str) -> float:
    """--aura-NAME, else its AURA_* variable, else the table's default."""
    from ..environment import settings_from_env

    value = config.getoption("aura_" + name)
    if value is not None:
        return float(value)
    return float(settings_from_env(options=(name,)).get(name, default_of(name)))


def configured_site(config: pytest.Config, base_url: str) -> SiteUnderTest:
    """The site at `base_url` with the --aura-* options, each falling back to its AURA_* variable (Settings.from_env)."""
    from ..doctor.probe import SiteUnderTest
    from ..errors import InvalidRequest
    from ..option_values import DEFAULT_CONNECT_TIMEOUT
    from ..settings import Settings, timeouts_for

    given = {name: config.getoption("aura_" + name, None) for name in SITE_ENV if name != "base_url"}
    try:
        settings = Settings.from_env(base_url=base_url, **given)  # the variables in table order, the first bad one told
        timeout = _seconds(config, "timeout")
        settings = settings.replace(login_timeout=_seconds(config, "login_timeout"),
                                    timeouts=timeouts_for(timeout, connect=min(DEFAULT_CONNECT_TIMEOUT, timeout)))
    except InvalidRequest as exc:
        raise pytest.fail.Exception(str(exc), pytrace=False) from None
    return SiteUnderTest(settings)


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
    from ..sync import run_in_worker_thread
    from .live import explained

    with explained(f"log in to {aura_site.base_url}"):
        profile = run_in_worker_thread(aura_site.logged_in_profile())
    return profile


@pytest.fixture(scope="session")
def aura_live(pytestconfig: pytest.Config) -> LiveSmoke:
    """The live smoke suite's session on --base-url: one site probe and one login for all its checks."""
    from .live import LiveSmoke

    base_url = site_base_url(pytestconfig)
    if not base_url:
        pytest.fail("the live smoke tests need --base-url URL", pytrace=False)
    return LiveSmoke(configured_site(pytestconfig, base_url))


@pytest.fixture
def aura_context_args(aura_site: SiteUnderTest, aura_profile: Profile) -> dict[str, Any]:
    """pytest-playwright `browser_context_args` that put its page past the gate, from aura_profile."""
    from .context import context_args

    return context_args(aura_profile, insecure=aura_site.settings.insecure)


try:
    import pytest_asyncio
except ImportError:  # the plugin must not break pytest runs that have no pytest-asyncio

    @pytest.fixture(name="aura_client")
    def aura_client_needs_pytest_asyncio() -> None:
        """An AuraClient on aura_profile; needs pytest-asyncio."""
        pytest.fail("the aura_client fixture is async: pip install pytest-asyncio (or 'aura-browser[pytest]')",
                    pytrace=False)

else:

    @pytest_asyncio.fixture(name="aura_client")
    async def aura_client_on_profile(request: pytest.FixtureRequest, aura_site: SiteUnderTest,
                          aura_profile: Profile) -> AsyncIterator[AuraClient]:
        """An AuraClient on aura_profile; options per test with @pytest.mark.aura_client(transport="page")."""
        marker = request.node.get_closest_marker("aura_client")
        async with aura_site.client(**(marker.kwargs if marker else {})) as client:
            yield client
