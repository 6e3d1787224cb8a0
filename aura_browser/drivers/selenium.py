"""What every Selenium session shares, and the two shapes built on it.

`SeleniumSession` is the common base. Selenium's calls block, so each one runs in a worker thread and the event
loop stays free; a dialog the page opens is answered as a person would; cookies, storage and the page's other
state go through chromedriver's CDP endpoint (`goog/cdp/execute`); what the page pushes is polled from it.
Its two shapes are siblings:
- `AdoptedSeleniumSession`: a WebDriver the caller hands us, driven as it is, in the page's main world
  (`execute_script`). With BiDi (`webSocketUrl`) the page pushes stream events over a BiDi channel
  (`script.message`) and the real request headers are read from `network.beforeRequestSent`; without it the page
  is polled every 10 ms, and its request headers cannot be seen.
- `StealthySeleniumSession`: the base of the sessions we start, `selenium_local.LocalSeleniumSession` (Chromium
  here) and `selenium_remote.RemoteSeleniumSession` (a Grid): everything in an isolated world of our own over
  CDP, Runtime off, no BiDi socket.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import shutil
import threading
import time
from abc import abstractmethod
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

from ..errors import AuraError, BrowserError, InvalidRequest
from ..origin import join, origin_of, proxy_server
from ..profile import Profile
from ..redaction import redact_url
from ..wire.api import MODELS_PATH
from .base import (
    LOCAL_STORAGE_JS,
    MODELS_PROBE_JS,
    PUSH_BINDING,
    AdoptedBrowser,
    BrowserSession,
    LaunchOptions,
    PageStreams,
    chromium_args,
)
from .browser_mode import BrowserMode
from .dialogs import answer_delay
from .failures import first_line, navigation_error

log = logging.getLogger("aura_browser.browser")
T = TypeVar("T")

SYSTEM_CHROMEDRIVER = "/usr/bin/chromedriver"
CHANNEL = "aura-push"
POLL_INTERVAL = 0.01  # seconds between two reads of the page's queue, when there is no BiDi
WAIT_INTERVAL = 0.05  # seconds between two checks of a wait_for predicate
HEADERS_WAIT = 10.0  # seconds to wait for the api/models probe to show up on the network log
# A page's alert(), confirm() and prompt() are left open for us (not dismissed at once, failing the command that
# met them), and answered as a person would: _answer_dialog.
DIALOGS_ARE_OURS = "ignore"
MAX_DIALOGS_IN_A_ROW = 10  # a page that opens more dialogs than this around one of our calls fails that call
# The flags of every Chromium we start, beside chromium_args': no navigator.webdriver.
STEALTH_ARGS = ("--disable-blink-features=AutomationControlled",)

# Installs the push function in a document. Selenium hands every BiDi event to a thread of its own, so
# messages may reach us out of order: each carries its stream's id and a count within that stream.
# The counts live on the window, not in the function, so a session that (re)installs the function on an
# adopted driver's page leaves the streams of another session on that page counting on.
PUSH_CHANNEL_JS = """
(send) => {
  const counts = (window.__auraCounts = window.__auraCounts || {});
  window.%(binding)s = (payload) => {
    const id = JSON.parse(payload).id;
    counts[id] = (counts[id] || 0) + 1;
    send(counts[id] + " " + id + " " + payload);
  };
}
""" % {"binding": PUSH_BINDING}
# Without BiDi: the page queues what it pushes, one queue per stream id, and every POLL_INTERVAL
# we take the queues of our open streams (another session may poll the same page for its own).
PUSH_QUEUE_JS = """window.%(b)s = window.%(b)s || ((p) => {
  const queues = (window.__auraQueues = window.__auraQueues || {}), id = JSON.parse(p).id;
  (queues[id] = queues[id] || []).push(p);
});""" % {"b": PUSH_BINDING}
TAKE_QUEUES_JS = """(ids) => {
  const queues = window.__auraQueues || {};
  return ids.flatMap((id) => { const taken = queues[id] || []; delete queues[id]; return taken; });
}"""
NAVIGATION_STATUS_JS = "const e = performance.getEntriesByType('navigation')[0]; return e ? e.responseStatus || null : null;"
SET_LOCAL_STORAGE_JS = "(items) => { for (const [k, v] of Object.entries(items)) localStorage.setItem(k, v); }"
WORLD_NAME = "aura"  # our isolated world in each document
# Resolves once the document that Page.navigate committed has been parsed: its HTTP status (0 when unknown).
LOADED_JS = """() => {
  if (document.readyState === "loading" || location.href === "about:blank") return null;
  const e = performance.getEntriesByType("navigation")[0];
  return {status: e && e.responseStatus || 0};
}"""
PAGE_INFO_JS = "() => [location.href, document.title]"


def find_chromedriver() -> str:
    if os.access(SYSTEM_CHROMEDRIVER, os.X_OK):
        return SYSTEM_CHROMEDRIVER
    found = shutil.which("chromedriver")
    if found:
        return found
    raise BrowserError(
        "no chromedriver found at /usr/bin/chromedriver or on PATH; install it ('apt-get install chromium-driver') "
        "or use --driver playwright"
    )


def user_agent_metadata(user_agent: str) -> dict[str, Any]:
    """Client hints that agree with `user_agent`, as Playwright derives them (brands stay the browser's own).

    Without them a CDP user-agent override switches the sec-ch-ua* headers off.
    """
    platform = "Windows" if "Windows" in user_agent else "macOS" if "Mac OS X" in user_agent else "Linux"
    return {"platform": platform, "platformVersion": "", "architecture": "x86", "model": "", "mobile": False}


def storage_state_cookie(cookie: dict[str, Any]) -> dict[str, Any]:
    """A CDP cookie in Playwright's storage-state format."""
    return {
        "name": cookie["name"],
        "value": cookie["value"],
        "domain": cookie["domain"],
        "path": cookie.get("path", "/"),
        "expires": -1 if cookie.get("session") else cookie.get("expires", -1),
        "httpOnly": bool(cookie.get("httpOnly")),
        "secure": bool(cookie.get("secure")),
        "sameSite": cookie.get("sameSite") or "Lax",
    }


def cdp_cookie(cookie: dict[str, Any]) -> dict[str, Any]:
    """A storage-state cookie as CDP's Network.setCookies takes it."""
    result: dict[str, Any] = {name: cookie[name] for name in ("name", "value", "domain", "path") if name in cookie}
    result.update(httpOnly=bool(cookie.get("httpOnly")), secure=bool(cookie.get("secure")))
    if cookie.get("sameSite") in ("Strict", "Lax", "None"):
        result["sameSite"] = cookie["sameSite"]
    expires = cookie.get("expires", -1)
    if expires is not None and expires > 0:
        result["expires"] = expires
    return result


def _field(event: Any, name: str) -> Any:
    """Selenium hands BiDi events over as dicts or as dataclasses, depending on the event."""
    return event.get(name) if isinstance(event, dict) else getattr(event, name, None)


def quit_driver(driver: Any) -> None:
    """End the WebDriver session: chromedriver (here or on the server) closes the browser it started."""
    with contextlib.suppress(Exception):
        driver.quit()


def selenium_chromium_args(options: LaunchOptions, runs_here: bool, mode: BrowserMode,
                           user_agent: str | None = None) -> list[str]:
    """The flags of a Chromium we start (not the headless one), with the proxy's, which Selenium has no API for.

    runs_here: on this machine, not a remote one; `mode` and `user_agent` as for `chromium_args`.
    """
    args = [*STEALTH_ARGS]
    if runs_here and os.geteuid() == 0:  # Chromium refuses to sandbox itself as root
        args.append("--no-sandbox")
    args += chromium_args(options, mode, user_agent)
    if options.proxy:
        if urlsplit(options.proxy).username:
            raise InvalidRequest(
                f"the selenium driver cannot log in to a proxy ({redact_url(options.proxy)}); "
                "use --driver playwright for a proxy with a user name and password"
            )
        args.append(f"--proxy-server={proxy_server(options.proxy)}")
        args.append("--proxy-bypass-list=<-loopback>")  # loopback sites go through it too, as in Playwright
    return args


class SeleniumSession(BrowserSession):
    """What every Selenium session does the same way: one blocking call at a time in a worker thread, a page's
    dialogs answered, chromedriver's CDP endpoint, the page's pushes polled. Its shapes say how the browser is
    had (`_launch`, `close`), how they run JavaScript in the page and how they hear it (`_hear_the_page`)."""

    driver_name = "selenium"

    def __init__(self, base_url: str, options: LaunchOptions) -> None:
        super().__init__(base_url, options)
        self._driver: Any = None
        self._window = ""  # the window handle (BiDi browsing context, CDP target id) our page lives in
        self._poller: asyncio.Task[None] | None = None
        self._answering = threading.Lock()  # one answer per dialog, however many calls met it

    async def _attach(self) -> None:
        """Get ready to drive the page of the WebDriver in `_driver`, and to hear it."""
        capabilities = self._driver.capabilities
        self.browser_version = capabilities.get("browserVersion", "") or capabilities.get("version", "")
        # chromedriver's CDP endpoint, which webdriver.Remote (and so a Grid session) does not know by itself
        self._driver.command_executor.add_command("executeCdpCommand", "POST", "/session/$sessionId/goog/cdp/execute")
        self._window = await self._call(lambda: self._driver.current_window_handle)
        await self._hear_the_page()

    @abstractmethod
    async def _hear_the_page(self) -> None:
        """Be ready to hear what the page pushes (`_poll_pushes`, or a channel of the shape's own)."""

    # --- hearing the page -----------------------------------------------------------------

    async def _poll_pushes(self) -> None:
        driver = self._driver
        while True:
            await asyncio.sleep(POLL_INTERVAL)
            ids = self.streams.open_ids
            if not ids:
                continue
            try:
                payloads = await asyncio.to_thread(self._take_pushes, driver, ids)
            except Exception as exc:
                log.debug("the browser stopped answering: %s", first_line(exc))
                self.streams.fail_all("the browser closed or crashed")
                return
            for payload in payloads:
                self.streams.push(payload)

    @abstractmethod
    def _take_pushes(self, driver: Any, ids: list[str]) -> list[str]:
        """Take what the page queued for the streams `ids` ([] between two documents); in a worker thread."""

    # --- a page's dialogs -----------------------------------------------------------------

    def _through_dialogs(self, function: Callable[[], Any]) -> Any:
        """Make one blocking WebDriver call; a dialog the page has open is answered first, as a person would, and
        the call made again. (chromedriver leaves dialogs to us, but fails every command while one is open.)"""
        from selenium.common.exceptions import UnexpectedAlertPresentException

        for _ in range(MAX_DIALOGS_IN_A_ROW):
            try:
                return function()
            except UnexpectedAlertPresentException:
                self._answer_dialog()
        return function()

    def _answer_dialog(self) -> None:
        """OK to the page's alert, confirm or prompt (with its default text), after a person's moment."""
        from selenium.common.exceptions import NoAlertPresentException

        with self._answering:
            try:
                alert = self._driver.switch_to.alert
            except NoAlertPresentException:  # another call met the same dialog and has answered it
                return
            time.sleep(answer_delay())
            with contextlib.suppress(NoAlertPresentException):
                alert.accept()

    # --- the primitives -------------------------------------------------------------------

    async def _call(self, function: Callable[[], T], what: str = "browser failed") -> T:
        """Run one blocking Selenium call in a worker thread; its errors become BrowserError."""
        try:
            return await asyncio.to_thread(self._through_dialogs, function)
        except AuraError:
            raise
        except Exception as exc:
            raise BrowserError(f"{what}: {first_line(exc)}") from None

    def _cdp(self, command: str, params: dict[str, Any] | None = None) -> Any:
        return self._through_dialogs(lambda: self._driver.execute("executeCdpCommand", {"cmd": command, "params": params or {}})["value"])

    async def _wait_for(self, predicate_js: str, timeout: float) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                value = await asyncio.to_thread(self._ask, predicate_js)
            except Exception as exc:
                raise BrowserError(f"browser failed while waiting for the page: {first_line(exc)}") from None
            if value:
                return value
            if loop.time() >= deadline:
                raise asyncio.TimeoutError
            await asyncio.sleep(WAIT_INTERVAL)

    @abstractmethod
    def _ask(self, predicate_js: str) -> Any:
        """The predicate's value now; None while the document is being replaced (the next one is asked then)."""

    async def _storage_state(self) -> dict[str, Any]:
        cookies = (await self._call(lambda: self._cdp("Storage.getCookies")))["cookies"]
        storage = await self._evaluate(LOCAL_STORAGE_JS)
        origins = [storage] if storage and storage.get("localStorage") else []
        return {"cookies": [storage_state_cookie(c) for c in cookies], "origins": origins}

    # --- closing --------------------------------------------------------------------------

    async def _let_go(self) -> Any:
        """Stop listening to the driver and forget it; return it (for whoever decides its fate)."""
        driver, self._driver = self._driver, None
        poller, self._poller = self._poller, None
        self.browser_version = ""
        self.streams.fail_all("the browser was closed")
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(BaseException):
                await poller
        return driver


class ScriptError(BrowserError):
    """A function we ran in the page threw."""


class StealthySeleniumSession(SeleniumSession):
    """The base of the sessions we start (here and on a Grid), made so that a page cannot tell them from a person's
    Chromium: everything we run in the page runs through chromedriver's CDP endpoint in an isolated world of our
    own, Runtime stays disabled, and no BiDi socket is used. Subclasses start the browser (`_launch`), say how
    the page's requests are watched (`_capture_request_headers`) and how the browser ends (`close`)."""

    def __init__(self, base_url: str, options: LaunchOptions) -> None:
        super().__init__(base_url, options)
        self._frame = ""  # the page's main frame (its isolated worlds are made in it)
        self._context: int | None = None  # our isolated world in the current document
        self._native_user_agent = ""

    async def _page_cdp(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        # A challenge's checkbox is found, looked at and clicked with it; on a Grid too, whose nodes relay the
        # command to their chromedriver.
        return await self._call(lambda: self._cdp(method, params))

    async def _hear_the_page(self) -> None:
        def prepare() -> None:
            self._cdp("Runtime.disable")  # chromedriver enabled it on attaching: the leak a page can see
            # ... and it would enable it in every cross-site iframe (a Turnstile widget) and worker it attaches to.
            self._cdp("Target.setAutoAttach", {"autoAttach": False, "waitForDebuggerOnStart": False, "flatten": True})
            self._frame = self._cdp("Page.getFrameTree")["frameTree"]["frame"]["id"]
            self._native_user_agent = self._cdp("Browser.getVersion")["userAgent"]
            self._prepare_page()

        await self._call(prepare, "browser failed to prepare the page")
        self._poller = asyncio.create_task(self._poll_pushes())

    def _prepare_page(self) -> None:
        """What a driver does to the page beside the above, once its session is attached (in a worker thread)."""

    # --- running JavaScript in our isolated world -----------------------------------------

    def _run(self, function_js: str, arg: Any = None) -> Any:
        """Call a JS function with one argument in our isolated world of the current document; its result."""
        from selenium.common.exceptions import WebDriverException

        for attempt in range(2):
            if self._context is None:
                world = self._cdp("Page.createIsolatedWorld", {"frameId": self._frame, "worldName": WORLD_NAME})
                self._context = world["executionContextId"]
            try:
                reply = self._cdp("Runtime.callFunctionOn", {
                    "functionDeclaration": function_js, "executionContextId": self._context,
                    "arguments": [{"value": arg}], "returnByValue": True, "awaitPromise": True,
                })
            except WebDriverException as exc:
                if attempt == 0 and "context" in str(exc).lower():  # a new document replaced ours: make the world anew
                    self._context = None
                    continue
                raise
            if reply is None:  # no result at all: the call met a dialog the page had open (it is answered by now)
                raise ScriptError("the page's dialog interrupted the call")
            details = reply.get("exceptionDetails")
            if details:
                exception = details.get("exception") or {}
                raise ScriptError(first_line(exception.get("description") or details.get("text") or "error"))
            return reply.get("result", {}).get("value")
        raise BrowserError("the page kept replacing its document")

    def _take_pushes(self, driver: Any, ids: list[str]) -> list[str]:
        try:
            return self._run(TAKE_QUEUES_JS, ids) or []
        except ScriptError:  # between two documents
            return []

    # --- the primitives -------------------------------------------------------------------

    async def open(self, profile: Profile | None = None) -> None:
        """As every driver does; a profile's localStorage is written once the site's page is open."""
        await super().open(profile)
        if profile is not None and profile.local_storage():
            await self._evaluate(SET_LOCAL_STORAGE_JS, profile.local_storage())

    async def _new_page(self, profile: Profile | None, user_agent: str) -> None:
        def prepare() -> None:
            # A fresh start on one browser: leave the site, forget its cookies and storage.
            self._cdp("Page.navigate", {"url": "about:blank"})
            self._context = None
            # The window has the focus (document.hasFocus()), as a person's foreground window has. With no window
            # manager on our Xvfb nothing else gives it; this is the real focus of the X window, not an emulation.
            self._cdp("Page.bringToFront")
            self._cdp("Network.clearBrowserCookies")
            self._cdp("Storage.clearDataForOrigin", {"origin": origin_of(self.base_url), "storageTypes": "all"})
            # Our own UA needs no override (one would not reach the workers); a profile's other UA does.
            if user_agent != self._native_user_agent:
                self._cdp("Network.setUserAgentOverride", {"userAgent": user_agent, "userAgentMetadata": user_agent_metadata(user_agent)})
            if profile is not None and profile.cookies:
                self._cdp("Network.setCookies", {"cookies": [cdp_cookie(c) for c in profile.cookies]})

        await self._call(prepare, "browser failed to prepare the page")

    async def _goto(self, url: str) -> int | None:
        def navigate() -> None:
            from selenium.common.exceptions import WebDriverException

            try:
                reply = self._cdp("Page.navigate", {"url": url})
            except WebDriverException as exc:  # chromedriver reports net::ERR_* as errors of the command
                raise navigation_error(url, first_line(exc)) from None
            if reply.get("errorText"):
                raise navigation_error(url, reply["errorText"])

        await self._call(navigate, f"browser failed to open {url}")
        try:
            loaded = await self._wait_for(LOADED_JS, self.options.timeout)
        except asyncio.TimeoutError:
            raise BrowserError(f"browser failed to open {url}: no page after {self.options.timeout:g}s") from None
        return loaded.get("status") or None

    def _ask(self, predicate_js: str) -> Any:
        try:
            return self._run(predicate_js)
        except ScriptError:  # the document is being replaced; ask the next one
            return None

    async def _evaluate(self, js: str, arg: Any = None) -> Any:
        # The stream's queue lives in our world, where the page cannot see it.
        return await self._call(lambda: self._run(f"(arg) => {{ {PUSH_QUEUE_JS} return ({js})(arg); }}", arg))

    async def _screenshot(self) -> bytes:
        return base64.b64decode((await self._call(lambda: self._cdp("Page.captureScreenshot")))["data"])

    async def _page_info(self) -> tuple[str, str]:
        url, title = await self._call(lambda: self._run(PAGE_INFO_JS))
        return url, title


class AdoptedSeleniumSession(AdoptedBrowser, SeleniumSession):
    """A Selenium WebDriver (Chrome/Chromium) the caller already has running: driven as it is, never quit.

    `AdoptedSeleniumSession(webdriver, base_url, options)`. Logins and in-page streams run in the driver's
    current window. With BiDi (`options.enable_bidi = True`) stream events are pushed and request headers
    captured; without it the page is polled every 10 ms and no request headers are captured. Closing the
    session removes what it registered on the driver and leaves the driver, its windows and cookies alone.
    """

    def __init__(self, webdriver: Any, base_url: str, options: LaunchOptions) -> None:
        super().__init__(base_url, options)
        self._given = webdriver
        self._bidi = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cleanups: list[Callable[[], Any]] = []  # undo what we registered on the driver (BiDi handlers...)
        self._next_count: dict[str, int] = {}  # per stream id: the count of its next message
        self._held: dict[str, dict[int, str]] = {}  # per stream id: messages that came before their turn

    async def _launch(self) -> None:
        if not getattr(self._given, "session_id", None):
            raise BrowserError("the Selenium WebDriver given as webdriver has quit")
        if "chrom" not in str(self._given.capabilities.get("browserName", "")).lower():
            raise InvalidRequest("only a Chrome or Chromium WebDriver can be adopted (CDP is needed)")
        self.streams = PageStreams()
        self._driver = self._given
        await self._attach()

    # --- hearing the page: a BiDi push channel, or the polling fallback -------------------

    async def _hear_the_page(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._bidi = isinstance(self._driver.capabilities.get("webSocketUrl"), str)
        if self._bidi:
            await self._call(self._open_channel)
        else:
            log.info("this WebDriver session has no BiDi socket: polling the page every %g ms", POLL_INTERVAL * 1000)
            self._poller = asyncio.create_task(self._poll_pushes())

    def _open_channel(self) -> None:
        driver = self._driver
        channel = [{"type": "channel", "value": {"channel": CHANNEL}}]
        handler = driver.script.add_event_handler("message", self._on_message)
        self._cleanups.append(lambda: driver.script.remove_event_handler("message", handler))
        script = driver.script.add_preload_script(PUSH_CHANNEL_JS, arguments=channel, contexts=[self._window])
        self._cleanups.append(lambda: driver.script.remove_preload_script(script["script"]))
        # The document open now predates the preload script.
        driver.script.call_function(PUSH_CHANNEL_JS, await_promise=False, target={"context": self._window}, arguments=channel)

    def _on_message(self, message: Any) -> None:
        """On one of Selenium's event threads: hand the message to the event loop."""
        source = _field(message, "source") or {}
        if _field(message, "channel") != CHANNEL or source.get("context") != self._window:
            return
        count, _, rest = (_field(message, "data") or {}).get("value", "").partition(" ")
        stream_id, _, payload = rest.partition(" ")
        loop = self._loop
        if loop is not None and count.isdigit():
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening any more
                loop.call_soon_threadsafe(self._deliver, stream_id, int(count), payload)

    def _deliver(self, stream_id: str, count: int, payload: str) -> None:
        """Pass on a stream's messages in the order the page sent them."""
        if stream_id not in self.streams.open_ids:  # another session's stream, or one we have left
            self._held.pop(stream_id, None)
            self._next_count.pop(stream_id, None)
            return
        held = self._held.setdefault(stream_id, {})
        held[count] = payload
        expected = self._next_count.get(stream_id, 1)
        while expected in held:
            self.streams.push(held.pop(expected))
            expected += 1
        self._next_count[stream_id] = expected

    def _take_pushes(self, driver: Any, ids: list[str]) -> list[str]:
        from selenium.common.exceptions import JavascriptException

        try:
            queues: list[str] = self._through_dialogs(
                lambda: driver.execute_script(f"return ({TAKE_QUEUES_JS})(arguments[0]);", ids))
        except JavascriptException:  # between two documents
            return []
        return queues or []

    # --- the primitives: in the page's main world -----------------------------------------

    async def _new_page(self, profile: Profile | None, user_agent: str) -> None:
        def prepare() -> None:
            # A fresh start on one browser: leave the site, forget its cookies and storage.
            self._driver.get("about:blank")
            self._cdp("Page.bringToFront")  # the window has the focus, as a person's foreground window has
            self._cdp("Network.clearBrowserCookies")
            self._cdp("Storage.clearDataForOrigin", {"origin": origin_of(self.base_url), "storageTypes": "all"})
            self._cdp("Network.setUserAgentOverride", {"userAgent": user_agent, "userAgentMetadata": user_agent_metadata(user_agent)})
            if profile is not None and profile.cookies:
                self._cdp("Network.setCookies", {"cookies": [cdp_cookie(c) for c in profile.cookies]})

        await self._call(prepare, "browser failed to prepare the page")

    async def _goto(self, url: str) -> int | None:
        def navigate() -> int | None:
            from selenium.common.exceptions import WebDriverException

            try:
                self._driver.get(url)
            except WebDriverException as exc:
                raise navigation_error(url, first_line(exc), self.options.proxy) from None
            status: int | None = self._driver.execute_script(NAVIGATION_STATUS_JS)
            return status

        return await self._call(navigate, f"browser failed to open {url}")

    def _ask(self, predicate_js: str) -> Any:
        from selenium.common.exceptions import InvalidSessionIdException, NoSuchWindowException, WebDriverException

        try:
            return self._through_dialogs(lambda: self._driver.execute_script(f"return ({predicate_js})()"))
        except (NoSuchWindowException, InvalidSessionIdException):
            raise
        except WebDriverException:
            return None

    async def _evaluate(self, js: str, arg: Any = None) -> Any:
        prelude = "" if self._bidi else PUSH_QUEUE_JS
        return await self._call(lambda: self._driver.execute_script(f"{prelude}return ({js})(arguments[0]);", arg))

    async def _capture_request_headers(self, key: str) -> dict[str, str]:
        if not self._bidi:
            log.info("no BiDi socket: the request headers the browser sends cannot be seen; none are saved")
            await self._evaluate(MODELS_PROBE_JS, [MODELS_PATH, key])
            return {}
        models_url = join(self.base_url, MODELS_PATH)
        seen: dict[str, str] = {}
        done = threading.Event()

        def on_request(event: Any) -> None:
            request = _field(event, "request") or {}
            if done.is_set() or request.get("url") != models_url or request.get("method") != "POST":
                return
            for header in request.get("headers", []):
                value = header.get("value", {})
                seen[header["name"]] = value.get("value", "") if isinstance(value, dict) else str(value)
            done.set()

        network = await self._call(lambda: self._driver.network)
        handler = await self._call(lambda: network.add_event_handler("before_request_sent", on_request))
        try:
            await self._evaluate(MODELS_PROBE_JS, [MODELS_PATH, key])
            if not await asyncio.to_thread(done.wait, HEADERS_WAIT):
                log.info("the api/models probe never showed up on the BiDi network log; no headers saved")
        finally:
            await self._call(lambda: network.remove_event_handler("before_request_sent", handler))
        return dict(seen)

    async def _screenshot(self) -> bytes:
        return await self._call(self._driver.get_screenshot_as_png)

    async def _page_info(self) -> tuple[str, str]:
        return await self._call(lambda: (self._driver.current_url, self._driver.title))

    # --- letting go -----------------------------------------------------------------------

    async def close(self) -> None:
        cleanups, self._cleanups = self._cleanups, []
        self._loop = None
        await self._let_go()
        for cleanup in reversed(cleanups):
            with contextlib.suppress(Exception):
                await asyncio.to_thread(cleanup)
