"""The Playwright driver (async API), on patchright. Neither is imported until a browser is needed."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import re
from typing import Any

from ..errors import BrowserError, named
from ..origin import join, proxy_credentials, proxy_server
from ..profile import Profile
from ..redaction import redact_url
from ..wire.api import MODELS_PATH
from .base import (
    LOCAL_STORAGE_JS,
    MODELS_PROBE_JS,
    PUSH_BINDING,
    USER_AGENT_JS,
    AdoptedBrowser,
    BrowserSession,
    LaunchOptions,
    PageStreams,
    chromium_args,
    normal_user_agent,
)
from .browser_mode import BrowserMode, choose_mode
from .browser_path import find_chromium, installed_version
from .checkbox import Send, is_challenge_frame
from .dialogs import answer_delay
from .display import VirtualDisplay, check_display
from .failures import first_line, navigation_error
from .isolated_world import IsolatedWorld


def playwright_proxy(proxy: str | None) -> dict[str, str] | None:
    if not proxy:
        return None
    settings = {"server": proxy_server(proxy)}
    credentials = proxy_credentials(proxy)
    if credentials:
        settings["username"], settings["password"] = credentials
    return settings


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


# Playwright's own API speaks to a remote Playwright browser server (its protocol must match that server's);
# every browser we launch, or reach over CDP, is driven through patchright: the same API, but it never sends
# Runtime.enable, evaluates in an isolated world, and launches without --enable-automation.
STEALTH_API = "patchright.async_api"
PLAIN_API = "playwright.async_api"

# The in-page stream's mailbox, in the world our evaluations run in (our isolated world, drivers/isolated_world.py:
# the page's own scripts cannot see it). FETCH_JS pushes into it; DRAIN_JS hands Python the pushes of the given streams,
# waiting up to `ms` for one. No binding is exposed, so the page's main world gains nothing.
MAILBOX_JS = """(binding) => {
  if (window.__auraBox) return;
  const box = window.__auraBox = {queues: {}, waiting: []};
  window[binding] = (payload) => {
    const id = JSON.parse(payload).id;
    (box.queues[id] = box.queues[id] || []).push(payload);
    box.waiting.splice(0).forEach((wake) => wake());
  };
}"""
DRAIN_JS = """async ([ids, ms]) => {
  const box = window.__auraBox;
  if (!box) return null;
  const take = () => {
    const out = [];
    for (const id of ids) {
      if (box.queues[id]) { out.push(...box.queues[id]); delete box.queues[id]; }
    }
    return out;
  };
  let out = take();
  if (!out.length) {
    await new Promise((wake) => { box.waiting.push(wake); setTimeout(wake, ms); });
    out = take();
  }
  return out;
}"""
_DRAIN_WAIT_MS = 1000
# Polls a predicate inside the page for up to `ms`; Python repeats it across navigations until the deadline.
WAIT_JS = """async (ms) => {
  const test = %s;
  const end = Date.now() + ms;
  for (;;) {
    const value = test();
    if (value || Date.now() >= end) return value || null;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}"""
_WAIT_SLICE = 2.0
# A navigation replaced the document while we evaluated in it: try again in the new one.
_NAVIGATED = ("Execution context was destroyed", "navigat", "Cannot find context", "context was destroyed")
MISSING_X = "Missing X server or $DISPLAY"
# What a browser server of another Playwright version answers (under a bare "428 Precondition Required").
VERSION_MISMATCH = re.compile(r"server version: v?([\d.]+).*?client version: v?([\d.]+)", re.S)


def launch_failure(executable: str, message: str) -> str:
    """Why Chromium did not start, keeping the browser's own reason for a missing display."""
    reason = f"cannot start Chromium at {executable}: {first_line(message)}"
    if MISSING_X in message:
        reason += (
            f" ({MISSING_X}): a headed browser needs a display; pass {named('headless', True)}, or install Xvfb "
            "('apt-get install xvfb') and aura-browser runs the browser on a virtual display of its own"
        )
    return reason


async def _answer_dialog(dialog: Any) -> None:
    """A page's alert, confirm or prompt, answered as a person does (drivers/dialogs.py): OK, after a moment."""
    await asyncio.sleep(answer_delay())
    with contextlib.suppress(Exception):  # the page closed, or navigated away from its dialog, meanwhile
        await dialog.accept(dialog.default_value if dialog.type == "prompt" else None)


def _tell(streams: PageStreams, stream_ids: list[str], event: dict[str, Any]) -> None:
    """Give each of these streams `event`, as if its page had pushed it."""
    for stream_id in stream_ids:
        streams.push(json.dumps({"id": stream_id, **event}))


class PlaywrightSession(BrowserSession):
    driver_name = "playwright"
    reads_widget_frames = True  # a cross-site frame is a target of its own, with a CDP session of its own

    def __init__(self, base_url: str, options: LaunchOptions) -> None:
        super().__init__(base_url, options)
        self._api: Any = None
        self._playwright: Any = None
        self._browser: Any = None
        self._context: Any = None
        self._page: Any = None
        self._world: IsolatedWorld | None = None  # where everything we run in the page runs
        self._display: VirtualDisplay | None = None
        self._pump: asyncio.Task[None] | None = None
        self._page_session: Any = None  # a DevTools session on the page, for a challenge widget (checkbox.py)
        self._frame_session: tuple[Any, Any] | None = None  # (the widget's frame, a DevTools session on it)
        self._user_agent_flag: str | None = None  # --user-agent for a headless launch
        self._native_user_agent: str | None = None  # the UA a launched browser presents everywhere, workers too
        self._executable = ""
        self._mode = BrowserMode(headless=True)

    def _load_api(self, name: str) -> Any:
        self._api = importlib.import_module(name)
        return self._api

    async def _launch(self) -> None:
        api = self._load_api(PLAIN_API if self.options.browser_ws else STEALTH_API)
        self.streams = PageStreams()
        remote = self.options.browser_ws or self.options.cdp_url
        manager = api.async_playwright()
        try:
            # Playwright's driver takes a while to start: the display (or the version) is got meanwhile.
            ready = self._prepare_launch() if not remote else asyncio.sleep(0)
            outcomes: tuple[Any, BaseException | None] = await asyncio.gather(manager.start(), ready, return_exceptions=True)
            started, prepared = outcomes
            if not isinstance(started, BaseException):
                self._playwright = started  # so that close() stops it when the preparation failed
            for outcome in (started, prepared):
                if isinstance(outcome, BaseException):
                    raise outcome
        except api.Error as exc:
            await self.close()
            raise BrowserError(f"cannot start Playwright: {first_line(exc)}") from None
        except BaseException:
            await self.close()
            raise
        _expect_driver_exit(manager)
        if remote:
            await self._connect()
        else:
            await self._launch_here()

    async def _prepare_launch(self) -> None:
        """Choose the mode; start the virtual display it needs, or learn the version a headless UA must name."""
        self._executable = self.options.executable or find_chromium()
        self._mode = choose_mode(self.options.headless)
        if self._mode.virtual_display:
            self._display = VirtualDisplay()
            self._display.spawn()  # here, on the loop's thread: Xvfb lives as long as the thread that forks it
            await asyncio.to_thread(self._display.wait_ready)
        elif self._mode.headless:
            # Headless Chromium says HeadlessChrome, in workers too; the flag (unlike a per-page override)
            # gives every page and worker the UA of a headed browser.
            version = await asyncio.to_thread(installed_version, self._executable)
            self._user_agent_flag = normal_user_agent(version) if version else None
        else:  # headed on the user's display
            await asyncio.to_thread(check_display)

    async def _connect(self) -> None:
        """Attach to a remote browser. We create only a context in it, and close only that."""
        endpoint = self.options.browser_ws or self.options.cdp_url or ""
        try:
            if self.options.browser_ws:
                self._browser = await self._playwright.chromium.connect(endpoint, timeout=60_000)
            else:
                self._browser = await self._playwright.chromium.connect_over_cdp(endpoint, timeout=60_000)
        except self._api.Error as exc:
            await self.close()
            kind = "Playwright browser server" if self.options.browser_ws else "Chromium DevTools endpoint"
            mismatch = VERSION_MISMATCH.search(str(exc))
            if mismatch:  # Playwright's own explanation is a box of lines below a bare "428 Precondition Required"
                server, client = mismatch.groups()
                raise BrowserError(f"the Playwright browser server at {redact_url(endpoint)} runs Playwright v{server}, "
                                   f"this aura-browser's client is v{client}; the two must match: run a server of "
                                   f"v{client} (e.g. 'npx playwright@{client} run-server')") from None
            raise BrowserError(f"cannot connect to the {kind} at {redact_url(endpoint)}: {first_line(exc)}") from None
        self.browser_version = self._browser.version
        self._browser.on("disconnected", lambda _: self.streams.fail_all("the remote browser disconnected"))

    async def _launch_here(self) -> None:
        executable, mode = self._executable, self._mode
        args = chromium_args(self.options, mode, self._user_agent_flag)
        try:
            self._browser = await self._playwright.chromium.launch(
                executable_path=executable,
                headless=mode.headless,
                args=args,
                env=self._display.environment() if self._display else None,
                proxy=playwright_proxy(self.options.proxy),
                timeout=60_000,
            )
        except self._api.Error as exc:
            await self.close()
            raise BrowserError(launch_failure(executable, str(exc))) from None
        self.browser_version = self._browser.version
        # A headed browser sends the normal UA itself; a headless one only with the flag.
        self._native_user_agent = self._user_agent_flag if mode.headless else normal_user_agent(self.browser_version)
        self._browser.on("disconnected", lambda _: self.streams.fail_all("the browser closed or crashed"))

    async def _new_page(self, profile: Profile | None, user_agent: str) -> None:
        await self._stop_pump()
        if self._context is not None:
            with contextlib.suppress(Exception):
                await self._context.close()
        remote = self.options.browser_ws or self.options.cdp_url
        self._context = await self._browser.new_context(
            # A per-page override would leave workers with the browser's own UA: override only when they differ.
            user_agent=None if user_agent == self._native_user_agent else user_agent,
            # The window's real size, not Playwright's fixed 1280x720 viewport (which a bot check sees on a headed
            # browser too); a browser server's browser is headless, with no window size of its own to keep.
            no_viewport=None if self.options.browser_ws else True,
            storage_state=profile.storage_state if profile else None,
            ignore_https_errors=self.options.insecure,
            proxy=playwright_proxy(self.options.proxy) if remote else None,  # a launched browser has it already
        )
        self._page = await self._context.new_page()
        self._page_session = self._frame_session = None
        self._page.on("dialog", _answer_dialog)
        self._watch_page(self._page)
        self._world = await self._open_world(self._page)

    async def _open_world(self, page: Any) -> IsolatedWorld | None:
        """Our world in `page`, over a CDP session of our own; None where the browser speaks no CDP (the page's
        own evaluate is used then)."""
        try:
            return IsolatedWorld(await page.context.new_cdp_session(page))
        except self._api.Error:
            return None

    async def _in_page(self, js: str, arg: Any = None, page: Any = None, world: IsolatedWorld | None = None) -> Any:
        """Run a JS function in the page (`page` and `world`: this session's unless given), with no user gesture."""
        page, world = page or self._page, world or self._world
        if world is not None:
            return await world.call(js, arg)
        return await page.evaluate(js, arg)

    def _watch_page(self, page: Any, closed_by_others: bool = False) -> None:
        streams = self.streams
        page.on("crash", lambda _: streams.fail_all("the browser page crashed"))
        if closed_by_others:  # our own pages close only when we open the next one, or close the session
            page.on("close", lambda _: streams.fail_all("the page was closed"))

    async def _goto(self, url: str) -> int | None:
        try:
            response = await self._page.goto(url, wait_until="commit", timeout=self.options.timeout * 1000)
        except self._api.Error as exc:
            raise navigation_error(url, str(exc), self.options.proxy) from None
        return response.status if response else None

    async def _wait_for(self, predicate_js: str, timeout: float) -> Any:
        """Polls in our isolated world: no main-world call for the page's hooks to see, no user gesture."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        script = WAIT_JS % predicate_js
        while (left := deadline - loop.time()) > 0:
            try:
                value = await self._in_page(script, min(left, _WAIT_SLICE) * 1000)
            except self._api.Error as exc:
                if not any(sign in str(exc) for sign in _NAVIGATED):
                    raise BrowserError(f"browser failed while waiting for the page: {first_line(exc)}") from None
                await asyncio.sleep(0.05)
                continue
            if value:
                return value
        raise asyncio.TimeoutError

    async def _evaluate(self, js: str, arg: Any = None) -> Any:
        try:
            return await self._in_page(js, arg)
        except self._api.Error as exc:
            raise BrowserError(f"browser failed: {first_line(exc)}") from None

    async def _page_cdp(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if self._page_session is None:
            self._page_session = await self._context.new_cdp_session(self._page)
        reply: dict[str, Any] = await self._page_session.send(method, params)
        return reply

    async def _challenge_frame(self) -> Send | None:
        """The widget's frame among the page's: a cross-site one is a target of its own, with its own session."""
        frame = next((f for f in self._page.frames if is_challenge_frame(f.url)), None)
        if frame is None:
            return None
        if self._frame_session is None or self._frame_session[0] is not frame:
            self._frame_session = (frame, await self._context.new_cdp_session(frame))
        send: Send = self._frame_session[1].send
        return send

    async def _detach_widget_sessions(self) -> None:
        """End the DevTools sessions a challenge widget made us open. Never raises."""
        sessions = [self._page_session, self._frame_session[1] if self._frame_session else None]
        self._page_session = self._frame_session = None
        for session in sessions:
            if session is not None:
                with contextlib.suppress(Exception):  # the page or its frame is gone already
                    await session.detach()

    async def _listen(self) -> None:
        await self._evaluate(MAILBOX_JS, PUSH_BINDING)
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._drain_pushes())

    async def _drain_pushes(self) -> None:
        """Carry the page's pushes to their streams while any stream is open."""
        streams, page, world = self.streams, self._page, self._world
        while ids := streams.open_ids:
            try:
                payloads = await self._in_page(DRAIN_JS, [ids, _DRAIN_WAIT_MS], page, world)
            except Exception as exc:
                if page.is_closed():  # those streams end; the session (and its next page) stays usable
                    _tell(streams, ids, {"type": "browser-gone", "message": "the page was closed"})
                    return
                if not any(sign in str(exc) for sign in _NAVIGATED):
                    await asyncio.sleep(0.1)  # a crash: its handler fails the streams, ending this loop
                    continue
                payloads = None
            if payloads is None:  # a new document: the fetches of the old one are gone
                _tell(streams, ids, {"type": "error", "name": "NavigationError", "message": "the page navigated away"})
                continue
            for payload in payloads:
                streams.push(payload)

    async def _capture_request_headers(self, key: str) -> dict[str, str]:
        models_url = join(self.base_url, MODELS_PATH)
        async with self._page.expect_request(lambda r: r.url == models_url and r.method == "POST") as info:
            await self._evaluate(MODELS_PROBE_JS, [MODELS_PATH, key])
        request = await info.value
        # headers_array keeps the names' case and the order the browser sent them in; all_headers does not.
        return {header["name"]: header["value"] for header in await request.headers_array()}

    async def _storage_state(self) -> dict[str, Any]:
        # Not context.storage_state(): it reads localStorage with an evaluation that carries a user gesture.
        storage = await self._evaluate(LOCAL_STORAGE_JS)
        origins = [storage] if storage and storage.get("localStorage") else []
        return {"cookies": await self._context.cookies(), "origins": origins}

    async def _screenshot(self) -> bytes:
        png: bytes = await self._page.screenshot(type="png")
        return png

    async def _page_info(self) -> tuple[str, str]:
        return self._page.url, await self._evaluate("() => document.title")

    async def _stop_pump(self) -> None:
        pump, self._pump = self._pump, None
        if pump is not None and not pump.done():
            pump.cancel()
            with contextlib.suppress(BaseException):
                await pump

    async def close(self) -> None:
        context, browser, playwright, display = self._context, self._browser, self._playwright, self._display
        self._context = self._browser = self._playwright = self._page = self._display = None
        self._page_session = self._frame_session = None
        self._world = None
        self.browser_version = ""
        self._native_user_agent = self._user_agent_flag = None
        self.streams.fail_all("the browser was closed")
        await self._stop_pump()
        try:
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
        finally:
            if display is not None:  # after the browser: Chromium must not see its display vanish first
                display.stop()


class AdoptedPlaywrightSession(AdoptedBrowser, PlaywrightSession):
    """A Playwright (or patchright) async-API Page the caller already has open: used as it is, never closed.

    We run in our own isolated world of it, over a CDP session of our own (Chromium); its dialogs are the
    caller's to answer.
    """

    def __init__(self, page: Any, base_url: str, options: LaunchOptions) -> None:
        super().__init__(base_url, options)
        self._adopted = page

    async def _launch(self) -> None:
        page = self._adopted
        self._load_api(type(page).__module__.split("._generated")[0])
        if page.is_closed():
            raise BrowserError("the Playwright Page given as webdriver is closed")
        self.streams = PageStreams()
        self._page, self._context = page, page.context
        self._watch_page(page, closed_by_others=True)
        self._world = await self._open_world(page)
        browser = page.context.browser  # None for a persistent context
        if browser is not None:
            self.browser_version = browser.version
        else:
            found = re.search(r"Chrom(?:e|ium)/([\d.]+)", await self._evaluate(USER_AGENT_JS))
            self.browser_version = found.group(1) if found else "unknown"

    async def close(self) -> None:
        """Let go of the page: it stays open, and so do its context and browser."""
        self.streams.fail_all("the session was closed")
        await self._stop_pump()
        world, self._world = self._world, None
        if world is not None:
            await world.detach()
        await self._detach_widget_sessions()
        self._page = self._context = None
        self.browser_version = ""
