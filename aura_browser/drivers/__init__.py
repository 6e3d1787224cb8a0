"""The driver factory: which driver speaks to the browser, a new session, or a session in the caller's own browser.

Playwright, patchright and Selenium are imported only when a session needs them, and this package imports none
of its drivers until then, so `import aura_browser` and `--help` stay cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequest, named

if TYPE_CHECKING:
    from .base import BrowserSession, LaunchOptions
    from .remote import Endpoints


def choose_driver(name: str, options: Endpoints) -> str:
    """The driver to use: the one the remote endpoint in `options` needs, else `name`.

    Raises InvalidRequest for two endpoints at once, a malformed one, or `name` naming the other driver
    (the default, playwright, gives way to --remote-webdriver).
    """
    if not (options.browser_ws or options.cdp_url or options.remote_webdriver):
        return name  # (the common case, without importing the checks of an endpoint)
    from .remote import remote_endpoint

    kind = remote_endpoint(options)
    if kind is None:
        return name
    if name == "selenium" and kind.driver == "playwright":
        raise InvalidRequest(f"{named(kind.field)} is a Playwright endpoint; use {named('remote_webdriver')} with "
                             f"{named('driver', 'selenium')}")
    return kind.driver


def new_session(driver: str, base_url: str, options: LaunchOptions) -> BrowserSession:
    """A session of `driver` on `base_url`, not started yet: its browser starts when it is first needed."""
    if driver == "playwright":
        from .playwright import PlaywrightSession

        return PlaywrightSession(base_url, options)
    if driver == "selenium":
        if options.remote_webdriver:
            from .selenium_remote import RemoteSeleniumSession

            return RemoteSeleniumSession(base_url, options)
        from .selenium_local import LocalSeleniumSession

        return LocalSeleniumSession(base_url, options)
    raise InvalidRequest(f"unknown driver {driver!r}; use playwright or selenium")


def adopt(webdriver: Any, base_url: str, options: LaunchOptions) -> BrowserSession:
    """A session that drives the caller's `webdriver` (a Playwright or patchright async-API Page, or a Selenium
    WebDriver) and never closes it.

    Neither library is imported here: an object of theirs means its library is loaded already.
    """
    module = type(webdriver).__module__
    if module.startswith(("playwright.async_api", "patchright.async_api")):
        if isinstance(webdriver, importlib.import_module(module.split("._")[0]).Page):
            from .playwright import AdoptedPlaywrightSession

            return AdoptedPlaywrightSession(webdriver, base_url, options)
    elif module.startswith(("playwright.sync_api", "patchright.sync_api")):
        raise InvalidRequest(
            "webdriver is a Playwright sync-API object, which async code cannot drive; "
            "pass a Page of playwright.async_api, or a Selenium WebDriver"
        )
    elif module.startswith("selenium."):
        from selenium.webdriver.remote.webdriver import WebDriver

        if isinstance(webdriver, WebDriver):
            from .selenium import AdoptedSeleniumSession

            return AdoptedSeleniumSession(webdriver, base_url, options)
    raise InvalidRequest(
        f"webdriver must be a running Selenium WebDriver or a Playwright (async API) Page, not {type(webdriver).__name__}"
    )
