"""Adopting a browser the caller already has open: a Playwright or patchright (async API) Page, or a Selenium WebDriver.

The adopted session logs in and streams in-page in the caller's own page, like a session we launched,
but closing it never closes, quits or disconnects what the caller owns.
Neither Playwright nor Selenium is imported here: an object of theirs means its library is loaded already.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..errors import InvalidRequest
from ..wire.page import PAGE_STATE_JS, PageKind
from ..origin import origin_of
from ..profile import Profile
from .base import BrowserSession, LaunchOptions

USER_AGENT_JS = "() => navigator.userAgent"


class AdoptedBrowser(BrowserSession):
    """What every adopted session does the same way; a driver's adopted class puts it first in its bases.

    The driver's `_launch` attaches to the caller's page (no new browser, no new context) and its
    `close` lets go of it without closing anything.
    """

    async def open(self, profile: Profile | None = None) -> None:
        """Make sure the caller's page shows the site's app, past its gate.

        The page's own cookies and user agent are used as they are (`profile` is not loaded into a
        browser we do not own). A page already on the site's app is not navigated.
        """
        if not self.browser_version:
            await self._launch()
        self.user_agent = await self._evaluate(USER_AGENT_JS)
        url, _title = await self._page_info()
        if origin_of(url) == origin_of(self.base_url) and await self._evaluate(PAGE_STATE_JS) == PageKind.APP:
            return
        await self._pass_gate()

    async def _storage_state(self) -> dict[str, Any]:
        """Only this site's cookies and localStorage: the rest of the caller's browser stays out of the profile."""
        state = await super()._storage_state()
        host = (urlsplit(self.base_url).hostname or "").lower()

        def ours(cookie: dict[str, Any]) -> bool:
            domain = str(cookie.get("domain", "")).lower().lstrip(".")
            return host == domain or host.endswith("." + domain)

        return {
            "cookies": [c for c in state.get("cookies", []) if ours(c)],
            "origins": [o for o in state.get("origins", []) if o.get("origin") == origin_of(self.base_url)],
        }


def adopt_browser(webdriver: Any, base_url: str, options: LaunchOptions) -> BrowserSession:
    """A BrowserSession that drives `webdriver` and never closes it."""
    module = type(webdriver).__module__
    if module.startswith(("playwright.async_api", "patchright.async_api")):
        import importlib

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
            from .selenium import AdoptedSeleniumSession  # type: ignore[import-not-found]

            return AdoptedSeleniumSession(webdriver, base_url, options)
    raise InvalidRequest(
        f"webdriver must be a running Selenium WebDriver or a Playwright (async API) Page, not {type(webdriver).__name__}"
    )
