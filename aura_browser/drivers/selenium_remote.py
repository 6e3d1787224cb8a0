"""The Selenium driver on a remote WebDriver server (Selenium Grid), as unseen as a Grid lets a browser be.

What a stock Grid session gives away, and what this session does instead (the local driver's measures,
as far as they go through a Grid):
- `--enable-automation` (`navigator.webdriver`): asked away in the capabilities (`excludeSwitches`), with
  `--disable-blink-features=AutomationControlled`; headed unless `--headless` is given.
- the `cdc_` globals of the node's chromedriver (which we cannot patch): deleted by a script that runs
  before the page's own in every new document (`Page.addScriptToEvaluateOnNewDocument`).
- the `Runtime.enable` leak, main-world calls, the push queue as a global: as the local driver, through
  chromedriver's CDP endpoint (`/session/{id}/goog/cdp/execute`, which the Grid proxies): Runtime disabled,
  auto-attach off, everything of ours in an isolated world. No BiDi socket.
- request headers are read over the Grid's `se:cdp` websocket, attached to our page with only Network on.

The session heals itself: a session the Grid ended or lost ("invalid session id", a node gone) is replaced
once, transparently, when a login or an in-page request needs it. A reaper process deletes the session if
we are killed (`reaper.py`), and the wait for a slot in the Grid's queue is bounded by the login timeout.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import threading
import time
from typing import Any, AsyncGenerator, Callable
from urllib.parse import unquote, urlsplit, urlunsplit

from ..environment import DEFAULT_MAX_REPLY_BYTES
from ..errors import AuraError, BrowserError
from ..origin import join
from ..profile import Profile
from ..redaction import redact_url
from ..wire.api import MODELS_PATH
from .base import MODELS_PROBE_JS, LaunchOptions, PageStreams
from .browser_mode import BrowserMode
from .browser_path import find_chromium
from .failures import first_line
from .reaper import SessionReaper
from .selenium import (
    DIALOGS_ARE_OURS,
    HEADERS_WAIT,
    StealthySeleniumSession,
    quit_driver,
    selenium_chromium_args,
)

log = logging.getLogger("aura_browser.browser")

# Deletes chromedriver's cdc_ globals before the page's scripts run; nothing of ours stays behind.
CDC_CLEANUP_JS = (
    "(() => { for (const name of Object.getOwnPropertyNames(window)) "
    "if (/^\\$?cdc_|^\\$wdc_/.test(name)) delete window[name]; })();"
)
# What a WebDriver server says of a session that is gone (ended by its timeout, its node restarted...).
LOST_SESSION = ("invalid session id", "cannot find session", "unable to find session", "no such session",
                "session deleted", "session not found", "unable to execute request for an existing session",
                "session timed out", "not connected to devtools", "chrome not reachable")
# A headed browser on a node with no display: Chromium exits at once.
NO_DISPLAY = ("missing x server", "$display", "devtoolsactiveport file doesn't exist", "cannot open display",
              "chrome instance exited")
QUIT_TIMEOUT = 10  # seconds an end-of-session request may take (a dead Grid must not hold up a close)


class SessionLost(BrowserError):
    """The remote server no longer knows our session (or its browser is gone)."""


def is_lost_session(error: BaseException) -> bool:
    return any(marker in first_line(error).lower() for marker in LOST_SESSION)


def merge_capabilities(options: Any, capabilities: dict[str, Any]) -> None:
    """Add the user's capabilities to Selenium ChromeOptions: theirs win, but `goog:chromeOptions`' args and
    excludeSwitches are added to ours, not put in their place."""
    for name, value in capabilities.items():
        if name == "goog:chromeOptions" and isinstance(value, dict):
            for key, item in value.items():
                if key == "args":
                    for arg in item:
                        options.add_argument(arg)
                elif key == "binary":
                    options.binary_location = item
                elif key == "excludeSwitches":
                    existing = options.experimental_options.get("excludeSwitches", [])
                    options.add_experimental_option("excludeSwitches", [*existing, *item])
                else:
                    options.add_experimental_option(key, item)
        else:
            options.set_capability(name, value)


def through_server(cdp_url: str, server: str) -> str:
    """The Grid's `se:cdp` websocket, reached at the address we reach the Grid at: a node without `grid-url`
    set names an address of its own machine (and port 4444), which may not be reachable from here."""
    parts, reached = urlsplit(cdp_url), urlsplit(server)
    scheme = "wss" if reached.scheme == "https" else "ws"
    netloc = reached.netloc.rpartition("@")[2]  # credentials go in a header, never in a URL
    return urlunsplit((scheme, netloc, parts.path, parts.query, ""))


class NetworkListener:
    """A DevTools connection of our own to the browser (the Grid's `se:cdp` websocket), attached to our page (its
    target id) with only the Network domain on, that waits for one POST to `url` and collects the headers
    Chromium really sent with it. `header`: the HTTP headers of the websocket's handshake (the Grid's login)."""

    def __init__(self, socket_url: str, page: str, url: str, header: dict[str, str]) -> None:
        self.socket_url = socket_url
        self.page = page
        self.url = url
        self.header = header
        self._socket: Any = None

    def connect(self) -> None:
        import websocket  # websocket-client, which Selenium depends on

        # No Origin header: Chromium refuses DevTools connections from origins it was not told to allow.
        self._socket = websocket.create_connection(self.socket_url, suppress_origin=True, timeout=HEADERS_WAIT,
                                                   header=self.header)
        reply = self._command(1, "Target.attachToTarget", {"targetId": self.page, "flatten": True})
        self._command(2, "Network.enable", {}, {"sessionId": reply["result"]["sessionId"]})

    def _command(self, number: int, method: str, params: dict[str, Any], session: dict[str, str] | None = None
                 ) -> dict[str, Any]:
        self._socket.send(json.dumps({"id": number, "method": method, "params": params, **(session or {})}))
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") == number:
                if "error" in message:
                    raise BrowserError(f"DevTools {method}: {message['error'].get('message', '?')}")
                reply: dict[str, Any] = message
                return reply

    def headers(self, timeout: float) -> dict[str, str]:
        """Lower-cased request headers of the first POST to `url`; {} when none is seen in `timeout` seconds."""
        deadline = time.monotonic() + timeout
        request_id = ""
        seen: dict[str, dict[str, str]] = {}  # per request id: the headers of its ExtraInfo event (the full set)
        basic: dict[str, str] = {}
        while time.monotonic() < deadline:
            self._socket.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                message = json.loads(self._socket.recv())
            except Exception:
                break
            params = message.get("params") or {}
            if message.get("method") == "Network.requestWillBeSent" and not request_id:
                request = params.get("request") or {}
                if request.get("url") == self.url and request.get("method") == "POST":
                    request_id, basic = params["requestId"], request.get("headers") or {}
            elif message.get("method") == "Network.requestWillBeSentExtraInfo":
                seen[params.get("requestId", "")] = params.get("headers") or {}
            if request_id and request_id in seen:
                break
        found = {**basic, **seen.get(request_id, {})} if request_id else {}
        return {name.lower(): str(value) for name, value in found.items()}

    def close(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            with contextlib.suppress(Exception):
                socket.close()


class RemoteSeleniumSession(StealthySeleniumSession):
    """A Chromium on `options.remote_webdriver` (a Selenium Grid or a chromedriver), ended on close."""

    def __init__(self, base_url: str, options: LaunchOptions) -> None:
        super().__init__(base_url, options)
        self.mode = ""  # what the server really gave us: "headless" or "headed"
        self._reaper: SessionReaper | None = None
        self._opened_with: Profile | None = None  # the profile a replacement session is opened with
        self._healing = asyncio.Lock()

    @property
    def server(self) -> str:
        assert self.options.remote_webdriver
        return self.options.remote_webdriver

    # --- starting -------------------------------------------------------------------------

    async def _launch(self) -> None:
        """Start the remote session in a daemon thread of its own: while the Grid keeps us queued, a Ctrl-C ends
        the process at once (its socket closes, and the Grid drops the queued request), and an interrupted start
        quits the session it gets later."""
        self.streams = PageStreams()
        loop = asyncio.get_running_loop()
        started: asyncio.Future[Any] = loop.create_future()

        def settle(driver: Any, error: BaseException | None) -> None:
            if started.cancelled():
                if driver is not None:
                    threading.Thread(target=self._quit, args=(driver,), name="aura-selenium-quit").start()
            elif error is not None:
                started.set_exception(error)
            else:
                started.set_result(driver)

        def start() -> None:
            try:
                driver, error = self._start_driver(), None
            except BaseException as exc:  # handed to the event loop
                driver, error = None, exc
            try:
                loop.call_soon_threadsafe(settle, driver, error)
            except RuntimeError:  # the loop is gone: nobody will use this session
                if driver is not None:
                    self._quit(driver)

        threading.Thread(target=start, daemon=True, name="aura-selenium-start").start()
        self._driver = await started
        try:
            await self._attach()
        except BaseException:
            await self.close()
            raise

    def _remote_options(self, headless: bool) -> Any:
        from selenium.webdriver import ChromeOptions

        options = ChromeOptions()
        if self.options.executable:  # else the node knows where its own browser is
            options.binary_location = find_chromium(self.options.executable)
        runs_here = urlsplit(self.server).hostname in ("127.0.0.1", "localhost", "::1")
        mode = BrowserMode(headless=headless)
        for arg in selenium_chromium_args(self.options, runs_here, mode):
            options.add_argument(arg)
        if headless:
            options.add_argument("--headless=new")
        options.add_experimental_option("excludeSwitches", ["enable-automation"])
        options.add_experimental_option("useAutomationExtension", False)
        if self.options.insecure:
            options.accept_insecure_certs = True
        options.enable_bidi = False
        options.unhandled_prompt_behavior = DIALOGS_ARE_OURS  # answered as a person would (SeleniumSession)
        merge_capabilities(options, dict(self.options.remote_capabilities))
        return options

    def _start_driver(self) -> Any:
        asked_headless = self.options.headless is True
        try:
            return self._new_remote(asked_headless)
        except BrowserError as exc:
            # Headed is only our default: a node with no display gets a headless browser, said out loud.
            if self.options.headless is None and any(marker in str(exc).lower() for marker in NO_DISPLAY):
                log.warning("the remote server cannot start a headed browser (no display); starting a headless one, "
                            "which bot checks can see")
                return self._new_remote(True)
            raise

    def _new_remote(self, headless: bool) -> Any:
        from selenium import webdriver
        from selenium.webdriver.remote.client_config import ClientConfig
        from selenium.webdriver.remote.remote_connection import RemoteConnection

        parts = urlsplit(self.server)
        # The wait for a slot in the Grid's queue counts against the login timeout: the request gives up then.
        config = ClientConfig(remote_server_addr=self.server, timeout=max(1, round(self.options.timeout)),
                              username=unquote(parts.username) if parts.username else None,
                              password=unquote(parts.password or "") if parts.username else None)
        try:
            driver: Any = webdriver.Remote(command_executor=RemoteConnection(client_config=config),
                                      options=self._remote_options(headless))
        except AuraError:
            raise
        except Exception as exc:  # urllib3's errors for an unreachable server or a timeout, WebDriverException else
            text = first_line(exc)
            if "timed out" in text.lower():
                raise BrowserError(f"no browser from the remote WebDriver at {redact_url(self.server)} within "
                                   f"{self.options.timeout:g}s (--login-timeout): all its slots stayed busy") from None
            raise BrowserError(f"cannot start Chromium through the remote WebDriver at {redact_url(self.server)}: {text}"
                               ) from None
        try:
            driver.aura_reaper = SessionReaper(self.server, str(driver.session_id))
        except Exception:
            self._quit(driver)
            raise
        return driver

    def _quit(self, driver: Any) -> None:
        """End the remote session; never waits long on a server that is gone."""
        try:
            driver.command_executor.client_config.timeout = QUIT_TIMEOUT
        except Exception:
            pass
        quit_driver(driver)
        reaper = getattr(driver, "aura_reaper", None)
        if reaper is not None:
            reaper.release()

    def _prepare_page(self) -> None:
        self._cdp("Page.addScriptToEvaluateOnNewDocument", {"source": CDC_CLEANUP_JS})
        self.mode = "headless" if "HeadlessChrome" in self._native_user_agent else "headed"
        capabilities = self._driver.capabilities
        log.info("the remote browser (Chromium %s) runs %s", self.browser_version or "?", self.mode)
        if self.mode == "headless" and self.options.headless is not True:
            log.warning("the remote server gave a headless browser although a headed one was asked for; "
                        "bot checks can see it")
        if not isinstance(capabilities.get("se:cdp"), str):
            log.info("the remote server offers no se:cdp endpoint: the request headers cannot be watched")

    # --- the primitives -------------------------------------------------------------------

    def _cdp(self, command: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return super()._cdp(command, params)
        except Exception as exc:
            if is_lost_session(exc):
                raise SessionLost(f"the remote browser session is gone: {first_line(exc)}") from None
            raise

    async def _capture_request_headers(self, key: str) -> dict[str, str]:
        listener = self._network_listener()
        if listener is None:
            log.info("no DevTools connection to watch the browser's requests; no request headers saved")
            await self._evaluate(MODELS_PROBE_JS, [MODELS_PATH, key])
            return {}
        await self._call(listener.connect, "cannot watch the browser's requests")
        try:
            await self._evaluate(MODELS_PROBE_JS, [MODELS_PATH, key])
            headers = await asyncio.to_thread(listener.headers, HEADERS_WAIT)
        finally:
            listener.close()
        if not headers:
            log.info("the api/models probe never showed up on the DevTools network log; no headers saved")
        return headers

    def _network_listener(self) -> NetworkListener | None:
        """A DevTools connection to the page through the Grid's `se:cdp` endpoint; None when it offers none."""
        cdp_url = self._driver.capabilities.get("se:cdp")
        if not isinstance(cdp_url, str):
            return None
        parts = urlsplit(self.server)
        header = {}
        if parts.username:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            header["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return NetworkListener(through_server(cdp_url, self.server), self._window, join(self.base_url, MODELS_PATH), header)

    # --- healing --------------------------------------------------------------------------

    async def open(self, profile: Profile | None = None) -> None:
        await self._healed(lambda: StealthySeleniumSession.open(self, profile))
        self._opened_with = profile

    async def visit(self, url: str) -> None:
        await self._healed(lambda: StealthySeleniumSession.visit(self, url))

    async def _healed(self, step: Callable[[], Any]) -> None:
        """Run `step`; when the remote session turns out to be gone, close it, and run `step` once more (which
        starts a new one)."""
        try:
            await step()
        except SessionLost as exc:
            log.warning("%s; starting a new one", exc)
            await self.close()
            await step()

    async def _alive(self) -> bool:
        driver = self._driver
        if driver is None:
            return False
        try:
            await asyncio.to_thread(lambda: driver.current_window_handle)
        except Exception as exc:
            if is_lost_session(exc):
                log.warning("the remote browser session is gone (%s); starting a new one", first_line(exc))
                return False
            raise BrowserError(f"browser failed: {first_line(exc)}") from None
        return True

    async def stream_fetch(self, path: str, body: str, limit: int = DEFAULT_MAX_REPLY_BYTES
                           ) -> AsyncGenerator[dict[str, Any], None]:
        async with self._healing:  # concurrent streams replace a lost session once
            if not await self._alive():
                await self.close()
                await self.open(self._opened_with)
        async for event in super().stream_fetch(path, body, limit):
            yield event

    # --- closing --------------------------------------------------------------------------

    async def close(self) -> None:
        driver = await self._let_go()
        self.mode = ""
        if driver is not None:
            await asyncio.to_thread(self._quit, driver)
