"""The Playwright driver (async API). Playwright is imported only when a browser is needed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import weakref
from pathlib import Path
from typing import Any

from ..browser_path import find_chromium
from ..chat import MODELS_PATH
from ..errors import BrowserError, NetworkError, SiteDown
from ..origin import join, proxy_credentials, proxy_server, redact_url
from ..transports.replies import error_for_reply
from ..profile import Profile
from .adopt import USER_AGENT_JS, AdoptedBrowser
from .base import LEAN_ARGS, MODELS_PROBE_JS, PUSH_BINDING, BrowserSession, LaunchOptions, PageStreams


def playwright_proxy(proxy: str | None) -> dict[str, str] | None:
    if not proxy:
        return None
    settings = {"server": proxy_server(proxy)}
    credentials = proxy_credentials(proxy)
    if credentials:
        settings["username"], settings["password"] = credentials
    return settings


# What a navigation through a proxy fails with once the proxy has refused the browser's credentials (407).
PROXY_AUTH_FAILURES = ("net::ERR_HTTP_RESPONSE_CODE_FAILURE", "net::ERR_INVALID_AUTH_CREDENTIALS",
                       "net::ERR_PROXY_AUTH_UNSUPPORTED", "net::ERR_PROXY_AUTH_REQUESTED")


def _expect_driver_exit(manager: Any) -> None:
    """Let Playwright's driver process end before we stop it, without asyncio complaining.

    A terminal's Ctrl-C reaches the whole foreground process group, so Playwright's Node.js driver exits at
    once, often before our cancelled task has stopped it. Its transport then sets "Connection closed while
    reading from the driver" on a future that only Playwright's start-up awaits, and when that future is
    collected asyncio prints "Future exception was never retrieved" under our one-line message. We see the
    driver go through the calls in flight, which fail, and the browser's "disconnected" event.
    """
    transport = getattr(getattr(manager, "_client", None), "_transport", None)
    error = getattr(transport, "on_error_future", None)
    if isinstance(error, asyncio.Future):
        error.add_done_callback(lambda done: done.cancelled() or done.exception())


def navigation_error(url: str, message: str, proxy: str | None = None) -> Exception:
    """Chromium's net::ERR_* codes, as our exceptions."""
    code = next((word for word in message.split() if word.startswith("net::ERR_")), "")
    if proxy and code in PROXY_AUTH_FAILURES:
        return error_for_reply(url, 407, "", {}, "")
    if "CERT" in code:
        return NetworkError(f"TLS certificate of {url} is not trusted ({code}); pass --insecure to accept it")
    if code:
        return SiteDown(f"cannot reach {url}: {code.removeprefix('net::')}")
    return BrowserError(f"browser failed to open {url}: {message.splitlines()[0]}")


class PlaywrightSession(BrowserSession):
    driver_name = "playwright"

    def __init__(self, base_url: str, options: LaunchOptions) -> None:
        super().__init__(base_url, options)
        self._playwright: Any = None
        self._browser: Any = None
        self._context: Any = None
        self._page: Any = None

    async def _launch(self) -> None:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import async_playwright

        self.streams = PageStreams()
        manager = async_playwright()
        try:
            self._playwright = await manager.start()
        except PlaywrightError as exc:
            raise BrowserError(f"cannot start Playwright: {str(exc).splitlines()[0]}") from None
        _expect_driver_exit(manager)
        if self.options.browser_ws or self.options.cdp_url:
            await self._connect()
        else:
            await self._launch_here()

    async def _connect(self) -> None:
        """Attach to a remote browser. We create only a context in it, and close only that."""
        from playwright.async_api import Error as PlaywrightError

        endpoint = self.options.browser_ws or self.options.cdp_url or ""
        try:
            if self.options.browser_ws:
                self._browser = await self._playwright.chromium.connect(endpoint, timeout=60_000)
            else:
                self._browser = await self._playwright.chromium.connect_over_cdp(endpoint, timeout=60_000)
        except PlaywrightError as exc:
            await self.close()
            kind = "Playwright browser server" if self.options.browser_ws else "Chromium DevTools endpoint"
            raise BrowserError(f"cannot connect to the {kind} at {redact_url(endpoint)}: {str(exc).splitlines()[0]}") from None
        self.browser_version = self._browser.version
        self._browser.on("disconnected", lambda _: self.streams.fail_all("the remote browser disconnected"))

    async def _launch_here(self) -> None:
        from playwright.async_api import Error as PlaywrightError

        executable = self.options.executable or find_chromium()
        args = [*LEAN_ARGS, *self.options.extra_args]
        if self.options.insecure:
            args.append("--ignore-certificate-errors")
        try:
            self._browser = await self._playwright.chromium.launch(
                executable_path=executable,
                headless=self.options.headless,
                args=args,
                proxy=playwright_proxy(self.options.proxy),
                timeout=60_000,
            )
        except PlaywrightError as exc:
            await self.close()
            raise BrowserError(f"cannot start Chromium at {executable}: {str(exc).splitlines()[0]}") from None
        self.browser_version = self._browser.version
        self._browser.on("disconnected", lambda _: self.streams.fail_all("the browser closed or crashed"))

    async def _new_page(self, profile: Profile | None, user_agent: str) -> None:
        if self._context is not None:
            with contextlib.suppress(Exception):
                await self._context.close()
        remote = self.options.browser_ws or self.options.cdp_url
        self._context = await self._browser.new_context(
            user_agent=user_agent,
            storage_state=profile.storage_state if profile else None,
            ignore_https_errors=self.options.insecure,
            proxy=playwright_proxy(self.options.proxy) if remote else None,  # a launched browser has it already
        )
        await self._context.expose_binding(PUSH_BINDING, lambda _source, payload: self.streams.push(payload))
        self._page = await self._context.new_page()
        self._page.on("crash", lambda _: self.streams.fail_all("the browser page crashed"))

    async def _goto(self, url: str) -> int | None:
        from playwright.async_api import Error as PlaywrightError

        try:
            response = await self._page.goto(url, wait_until="commit", timeout=self.options.timeout * 1000)
        except PlaywrightError as exc:
            raise navigation_error(url, str(exc), self.options.proxy) from None
        return response.status if response else None

    async def _wait_for(self, predicate_js: str, timeout: float) -> Any:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        try:
            handle = await self._page.wait_for_function(predicate_js, timeout=timeout * 1000)
            return await handle.json_value()
        except PlaywrightTimeout:
            raise asyncio.TimeoutError from None
        except PlaywrightError as exc:
            raise BrowserError(f"browser failed while waiting for the page: {str(exc).splitlines()[0]}") from None

    async def _evaluate(self, js: str, arg: Any = None) -> Any:
        from playwright.async_api import Error as PlaywrightError

        try:
            return await self._page.evaluate(js, arg)
        except PlaywrightError as exc:
            raise BrowserError(f"browser failed: {str(exc).splitlines()[0]}") from None

    async def _capture_request_headers(self, key: str) -> dict[str, str]:
        models_url = join(self.base_url, MODELS_PATH)
        async with self._page.expect_request(lambda r: r.url == models_url and r.method == "POST") as info:
            await self._evaluate(MODELS_PROBE_JS, [MODELS_PATH, key])
        request = await info.value
        # headers_array keeps the names' case and the order the browser sent them in; all_headers does not.
        return {header["name"]: header["value"] for header in await request.headers_array()}

    async def _storage_state(self) -> dict[str, Any]:
        return await self._context.storage_state()

    async def _screenshot(self, path: Path) -> None:
        await self._page.screenshot(path=str(path), type="png")  # a private temp file, whose name is no hint
        os.chmod(path, 0o600)

    async def _page_info(self) -> tuple[str, str]:
        return self._page.url, await self._page.title()

    async def close(self) -> None:
        context, browser, playwright = self._context, self._browser, self._playwright
        self._context = self._browser = self._playwright = self._page = None
        self.browser_version = ""
        self.streams.fail_all("the browser was closed")
        if context is not None:
            with contextlib.suppress(Exception):
                await context.close()
        # Over CDP the browser is not ours: stopping Playwright below just disconnects from it.
        # A launched browser is closed; connect()'s close() disconnects from the browser server.
        if browser is not None and not self.options.cdp_url:
            with contextlib.suppress(Exception):
                await browser.close()
        if playwright is not None:
            with contextlib.suppress(Exception):
                await playwright.stop()


# The caller's pages that carry our push binding. Playwright cannot expose one name twice on a page,
# so each page gets one binding and one event router, shared by every session adopting it.
_ADOPTED_PAGES: "weakref.WeakKeyDictionary[Any, PageStreams]" = weakref.WeakKeyDictionary()


class AdoptedPlaywrightSession(AdoptedBrowser, PlaywrightSession):
    """A Playwright (async API) Page the caller already has open: used as it is, never closed."""

    def __init__(self, page: Any, base_url: str, options: LaunchOptions) -> None:
        super().__init__(base_url, options)
        self._adopted = page

    async def _launch(self) -> None:
        from playwright.async_api import Error as PlaywrightError

        page = self._adopted
        if page.is_closed():
            raise BrowserError("the Playwright Page given as webdriver is closed")
        streams = _ADOPTED_PAGES.get(page)
        if streams is None:
            streams = PageStreams()
            try:
                await page.expose_binding(PUSH_BINDING, lambda _source, payload: streams.push(payload))
            except PlaywrightError as exc:
                raise BrowserError(f"cannot attach to the given Playwright Page: {str(exc).splitlines()[0]}") from None
            page.on("close", lambda _: streams.fail_all("the page was closed"))
            page.on("crash", lambda _: streams.fail_all("the browser page crashed"))
            _ADOPTED_PAGES[page] = streams
        self.streams = streams
        self._page, self._context = page, page.context
        browser = page.context.browser  # None for a persistent context
        if browser is not None:
            self.browser_version = browser.version
        else:
            found = re.search(r"Chrom(?:e|ium)/([\d.]+)", await self._evaluate(USER_AGENT_JS))
            self.browser_version = found.group(1) if found else "unknown"

    async def close(self) -> None:
        """Let go of the page: it stays open, and so do its context and browser."""
        self._page = self._context = None
        self.browser_version = ""
