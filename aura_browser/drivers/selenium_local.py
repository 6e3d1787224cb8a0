"""The Selenium driver on this machine, made so that a page cannot tell it from a person's Chromium.

What gives a chromedriver session away, and what this session does instead:
- `--enable-automation` (`navigator.webdriver` true, BotD's verdict): we start Chromium ourselves, headed
  on a private Xvfb by default, with `--disable-blink-features=AutomationControlled`, and attach chromedriver
  to it (`debuggerAddress`), as undetected-chromedriver does.
- `cdc_` globals: chromedriver is a patched private copy (`chromedriver.py`).
- The `Runtime.enable` leak (a page that logs an Error sees its `Error.prepareStackTrace` consulted):
  chromedriver enables Runtime when it attaches to the page; we disable it again at once and never need it.
- `execute_script` runs in the page's main world, where hooked DOM getters see our calls, and the in-page
  stream's queue would be a global the page can read: everything we run in the page runs instead in an
  isolated world of our own (`Page.createIsolatedWorld`, `Runtime.callFunctionOn` through chromedriver's CDP
  endpoint), which shares the DOM and the origin but none of the page's JavaScript objects.
- The request headers the browser sends are read over a short DevTools connection of our own that enables
  only the Network domain (BiDi, which the remote driver uses, is not offered for an attached browser).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib
import itertools
import json
import logging
import signal
import threading
import time
import urllib.request
from typing import Any

from ..errors import BrowserError
from ..origin import join, origin_of
from ..profile import Profile
from ..wire.api import MODELS_PATH
from .base import MODELS_PROBE_JS, LaunchOptions, normal_user_agent
from .browser_path import find_chromium, installed_version
from .checkbox import Send, is_challenge_frame
from .chromedriver import patched_chromedriver
from .chromium_process import ChromiumProcess
from .display import VirtualDisplay, choose_mode, parent_death_signal
from .failures import first_line, navigation_error
from .selenium import (
    DIALOGS_ARE_OURS,
    HEADERS_WAIT,
    PUSH_QUEUE_JS,
    TAKE_QUEUES_JS,
    SeleniumSession,
    cdp_cookie,
    find_chromedriver,
    quit_driver,
    selenium_chromium_args,
    user_agent_metadata,
)

log = logging.getLogger("aura_browser.browser")

WORLD_NAME = "aura"  # our isolated world in each document
STEALTH_ARGS = ("--disable-blink-features=AutomationControlled",)
# Headless Chromium has no pointing device, so (hover: hover) and (pointer: fine) fail; Playwright's headless
# launch passes the same settings.
HEADLESS_POINTER_ARGS = ("--blink-settings=primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,availablePointerTypes=4",)
# Resolves once the document that Page.navigate committed has been parsed: its HTTP status (0 when unknown).
LOADED_JS = """() => {
  if (document.readyState === "loading" || location.href === "about:blank") return null;
  const e = performance.getEntriesByType("navigation")[0];
  return {status: e && e.responseStatus || 0};
}"""
PAGE_INFO_JS = "() => [location.href, document.title]"


class ScriptError(BrowserError):
    """A function we ran in the page threw."""


class LocalSeleniumSession(SeleniumSession):
    """A Chromium we start here (headed on our own Xvfb by default), driven by a patched chromedriver."""

    def __init__(self, base_url: str, options: LaunchOptions) -> None:
        super().__init__(base_url, options)
        self._chromium = ChromiumProcess()
        self._display: VirtualDisplay | None = None
        self._frame = ""  # the page's main frame (its isolated worlds are made in it)
        self._context: int | None = None  # our isolated world in the current document
        self._native_user_agent = ""
        self._devtools = ""
        self._widget: tuple[str, DevToolsChannel] | None = None  # (target id, channel) of a challenge widget's frame

    # --- starting -------------------------------------------------------------------------

    def _start_driver(self) -> Any:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        # Importing Selenium's Chrome driver costs ~0.6 s of CPU; it runs while Xvfb and Chromium start.
        importing = threading.Thread(target=importlib.import_module, args=("selenium.webdriver.chrome.webdriver",),
                                     name="aura-selenium-import", daemon=True)
        importing.start()
        try:
            chromedriver = patched_chromedriver(find_chromedriver())  # before Chromium starts: fail fast without one
            mode = choose_mode(self.options.headless)
            executable = find_chromium(self.options.executable)
            user_agent = normal_user_agent(installed_version(executable))
            args = [*STEALTH_ARGS, *selenium_chromium_args(self.options, runs_here=True, mode=mode, user_agent=user_agent)]
            env = None
            if mode.headless:
                args += ["--headless=new", *HEADLESS_POINTER_ARGS]
            elif mode.virtual_display:
                self._display = VirtualDisplay()
                self._display.start()
                env = self._display.environment()
            log.info("starting Chromium %s for the selenium driver", mode.describe())
            self._devtools = self._chromium.start(executable, args, env)
            options = webdriver.ChromeOptions()
            options.debugger_address = self._devtools
            options.unhandled_prompt_behavior = DIALOGS_ARE_OURS
            # chromedriver, too, dies with us if we are killed (kill -9) without quitting it.
            # Given the driver's path, Selenium Manager is never consulted (nothing to download, no environment to set).
            service = Service(executable_path=chromedriver, popen_kw={"preexec_fn": parent_death_signal(signal.SIGKILL)})
            importing.join()
            try:
                return webdriver.Chrome(service=service, options=options)
            except Exception as exc:
                raise BrowserError(f"cannot attach chromedriver to Chromium ({executable}): {first_line(exc)}") from None
        except BaseException:
            self._stop_processes()
            raise

    async def _hear_the_page(self) -> None:
        def prepare() -> None:
            self._cdp("Runtime.disable")  # chromedriver enabled it on attaching: the leak a page can see
            # ... and it would enable it in every cross-site iframe (a Turnstile widget) and worker it attaches to.
            self._cdp("Target.setAutoAttach", {"autoAttach": False, "waitForDebuggerOnStart": False, "flatten": True})
            self._frame = self._cdp("Page.getFrameTree")["frameTree"]["frame"]["id"]
            self._native_user_agent = self._cdp("Browser.getVersion")["userAgent"]

        await self._call(prepare, "browser failed to prepare the page")
        self._poller = asyncio.create_task(self._poll_pushes())

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

    async def _capture_request_headers(self, key: str) -> dict[str, str]:
        listener = NetworkListener(self._devtools, self._window, join(self.base_url, MODELS_PATH))
        await self._call(listener.connect, "cannot watch the browser's requests")
        try:
            await self._evaluate(MODELS_PROBE_JS, [MODELS_PATH, key])
            headers = await asyncio.to_thread(listener.headers, HEADERS_WAIT)
        finally:
            listener.close()
        if not headers:
            log.info("the api/models probe never showed up on the DevTools network log; no headers saved")
        return headers

    async def _screenshot(self) -> bytes:
        return base64.b64decode((await self._call(lambda: self._cdp("Page.captureScreenshot")))["data"])

    async def _page_info(self) -> tuple[str, str]:
        url, title = await self._call(lambda: self._run(PAGE_INFO_JS))
        return url, title

    async def _page_cdp(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        return await self._call(lambda: self._cdp(method, params))

    async def _challenge_frame(self) -> Send | None:
        """A cross-site widget is a target of its own, which chromedriver does not attach to (nor do we let it):
        we speak to it over a DevTools connection of our own."""
        targets = (await self._page_cdp("Target.getTargets", {}))["targetInfos"]
        found = next((t["targetId"] for t in targets if t.get("type") == "iframe" and is_challenge_frame(t.get("url", ""))), None)
        if found is None:
            return None
        if self._widget is None or self._widget[0] != found:
            self._forget_widget()
            channel = DevToolsChannel(self._devtools, found)
            await self._call(channel.connect, "cannot reach the challenge widget")
            self._widget = (found, channel)
        return self._widget[1].send

    def _forget_widget(self) -> None:
        widget, self._widget = self._widget, None
        if widget is not None:
            widget[1].close()

    # --- closing --------------------------------------------------------------------------

    async def close(self) -> None:
        self._forget_widget()
        driver = await self._let_go()
        await asyncio.to_thread(self._stop_all, driver)

    def _stop_when_started(self, starting: "asyncio.Future[Any]") -> None:
        started = not starting.cancelled() and starting.exception() is None
        threading.Thread(target=self._stop_all, args=(starting.result() if started else None,), name="aura-selenium-quit").start()

    def _stop_all(self, driver: Any) -> None:
        """Quit chromedriver, then stop Chromium and our display."""
        if driver is not None:
            quit_driver(driver)
        self._stop_processes()

    def _stop_processes(self) -> None:
        self._chromium.stop()
        display, self._display = self._display, None
        if display is not None:
            display.stop()


class NetworkListener:
    """A DevTools connection of our own to the page, with only the Network domain on, that waits for
    one POST to `url` and collects the headers Chromium really sent with it."""

    def __init__(self, devtools_address: str, target_id: str, url: str) -> None:
        self.devtools_address = devtools_address
        self.target_id = target_id
        self.url = url
        self._socket: Any = None

    def _page_websocket(self) -> str:
        with urllib.request.urlopen(f"http://{self.devtools_address}/json/list", timeout=HEADERS_WAIT) as reply:
            targets = json.load(reply)
        for target in targets:
            if target.get("id") == self.target_id and target.get("webSocketDebuggerUrl"):
                return target["webSocketDebuggerUrl"]
        raise BrowserError("the browser's page is gone")

    def connect(self) -> None:
        import websocket  # websocket-client, which Selenium depends on

        # No Origin header: Chromium refuses DevTools connections from origins it was not told to allow.
        self._socket = websocket.create_connection(self._page_websocket(), suppress_origin=True, timeout=HEADERS_WAIT)
        self._socket.send(json.dumps({"id": 1, "method": "Network.enable"}))
        while json.loads(self._socket.recv()).get("id") != 1:
            pass

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


class DevToolsChannel:
    """A DevTools connection of our own to one target (a challenge widget's frame): commands and their results."""

    def __init__(self, devtools_address: str, target_id: str) -> None:
        self.url = f"ws://{devtools_address}/devtools/page/{target_id}"
        self._socket: Any = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def connect(self) -> None:
        import websocket  # websocket-client, which Selenium depends on

        self._socket = websocket.create_connection(self.url, suppress_origin=True, timeout=HEADERS_WAIT)

    async def send(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.to_thread(self._command, method, params)

    def _command(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self._socket is None:
                raise BrowserError("the challenge widget's connection is closed")
            command_id = next(self._ids)
            self._socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
            while True:
                message = json.loads(self._socket.recv())
                if message.get("id") != command_id:
                    continue  # an event
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error'].get('message', 'failed')}")
                return message.get("result") or {}

    def close(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            with contextlib.suppress(Exception):
                socket.close()
