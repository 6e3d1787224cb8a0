"""What every browser driver does, written once: pass the gate, capture a Profile, stream in-page.

A driver subclass supplies a handful of primitives (launch, navigate, evaluate, wait for a
predicate, screenshot, cookies). The rules about gates, timeouts and what a profile holds
live here, so the Playwright and Selenium drivers cannot drift apart.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import platform
import random
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncGenerator, Coroutine
from urllib.parse import urlsplit

from .. import progress
from ..environment import DEFAULT_LOGIN_TIMEOUT, DEFAULT_MAX_REPLY_BYTES
from ..errors import AuraError, Blocked, BrowserError, DeploymentDisabled, GateNotPassed, NotThisApp, named
from ..origin import join, origin_of
from ..profile import GATE_COOKIES, Profile, cookie_domain_matches, replacing
from ..redaction import redact_url
from ..wire.api import MODELS_PATH, parse_model_list
from ..wire.headers import wire_order
from ..wire.page import PAGE_STATE_JS, PageKind
from ..wire.replies import redirect_error
from .browser_mode import BrowserMode, browser_args
from .checkbox import (
    MAX_CLICKS,
    SIGHT_ANSWER_S,
    DevToolsPointer,
    Pointer,
    ScreenPointer,
    Send,
    WidgetBySight,
    WidgetView,
    click_like_a_hand,
    find_frame_box,
    known_checkbox,
    read_widget,
)
from .display import VirtualDisplay
from .hand import Box, Point, approach_from, reaction_left
from .xinput import XPointer

log = logging.getLogger("aura_browser.browser")

# Request headers worth replaying: what a same-origin fetch from the page really carries.
REPLAYED_HEADERS = (
    "accept",
    "accept-encoding",
    "accept-language",
    "origin",
    "referer",
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
    "sec-fetch-dest",
    "sec-fetch-mode",
    "sec-fetch-site",
)
PUSH_BINDING = "__auraPush"
# In-page fetches one page runs at a time. Chromium opens at most 6 connections to one host and queues
# the rest where no timeout of ours can tell waiting from a silent site; one connection stays for the page.
MAX_IN_PAGE_STREAMS = 5

# The statuses of a gate's challenge page (403, sometimes 503): the login then waits it out.
CHALLENGE_STATUSES = (403, 503)
# Resolves once the page is anything but a challenge still in progress.
SETTLED_STATE_JS = "() => { const s = (%s)(); return s && s !== 'challenge' ? s : null; }" % PAGE_STATE_JS.strip()

# Runs fetch('api/chat') in the page and pushes the decoded text to Python as it is read.
# Fire and forget: events arrive through the binding, one JSON string per call. At most one chunk
# push is in flight per stream; text read meanwhile is sent with the next push, so a reply made of
# thousands of tiny reads costs a few hundred binding calls, and the first chunk still goes at once.
FETCH_JS = r"""
([id, path, body, binding, limit]) => {
  const push = (event) => window[binding](JSON.stringify(Object.assign({id}, event)));
  const aborts = (window.__auraAborts = window.__auraAborts || {});
  const controller = new AbortController();
  aborts[id] = controller;
  let pending = "";
  let inflight = null;
  const flush = () => {
    if (!pending || inflight) return;
    const text = pending;
    pending = "";
    inflight = Promise.resolve(push({type: "chunk", text})).finally(() => { inflight = null; flush(); });
  };
  const drain = async () => {
    while (pending || inflight) {
      flush();
      if (inflight) await inflight;
    }
  };
  // The start of an error's body, `most` bytes at most: the rest of a page that never ends stays unread.
  const readStart = async (r, most) => {
    const reader = r.body.getReader(), decoder = new TextDecoder();
    let text = "", size = 0;
    while (size < most) {
      const {done, value} = await reader.read();
      if (done) break;
      size += value.length;
      text += decoder.decode(value, {stream: true});
    }
    reader.cancel().catch(() => {});
    return text + decoder.decode();
  };
  (async () => {
    try {
      // "manual": a redirect must not take the prompt to another site; it arrives as an opaque answer.
      const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                                   body, signal: controller.signal, redirect: "manual"});
      if (r.type === "opaqueredirect") {
        push({type: "head", status: 0, reason: "", headers: {}, body: "", redirected: true});
        return;
      }
      const headers = {};
      r.headers.forEach((v, k) => { headers[k] = v; });
      const type = (headers["content-type"] || "").toLowerCase();
      if (!r.ok || type.includes("text/html")) {
        push({type: "head", status: r.status, reason: r.statusText, headers,
              body: r.body ? (await readStart(r, 65536)).slice(0, 65536) : ""});
        return;
      }
      push({type: "head", status: r.status, reason: r.statusText, headers});
      const reader = r.body.getReader();
      const decoder = new TextDecoder();
      let size = 0;
      for (;;) {
        // Python takes one push at a time: text read meanwhile waits here, up to a bound, not without one.
        if (pending.length >= 1048576 && inflight) await inflight;
        const {done, value} = await reader.read();
        if (done) break;
        size += value.length;
        pending += decoder.decode(value, {stream: true});
        flush();
        if (size > limit) {  // what Python keeps is capped; the rest is not read at all
          reader.cancel().catch(() => {});
          await drain();
          push({type: "too-large", size});
          return;
        }
      }
      pending += decoder.decode();
      await drain();
      push({type: "end"});
    } catch (e) {
      if (pending) push({type: "chunk", text: pending});
      push({type: "error", name: e && e.name || "Error", message: String(e && e.message || e)});
    } finally {
      delete aborts[id];
    }
  })();
  return true;
}
"""
USER_AGENT_JS = "() => navigator.userAgent"
# The page's localStorage, as Playwright's storage state holds it (none where the document has no storage).
LOCAL_STORAGE_JS = """
() => {
  let items = [];
  try { items = Object.keys(localStorage).map((name) => ({name, value: localStorage.getItem(name)})); } catch (e) {}
  return {origin: location.origin, localStorage: items};
}
"""
ABORT_JS = "(id) => { const c = (window.__auraAborts || {})[id]; if (c) c.abort(); return !!c; }"
MODELS_PROBE_JS = """
async ([path, key]) => {
  const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                               body: JSON.stringify({key}), redirect: "manual"});
  if (r.type === "opaqueredirect") return {status: 0, text: "", redirected: true};
  return {status: r.status, text: (await r.text()).slice(0, 4096)};
}
"""


def normal_user_agent(browser_version: str) -> str:
    """The user agent a headed Chrome of this version sends (reduced UA: minor parts zeroed)."""
    major = browser_version.split(".")[0] or "120"
    system = {
        "Linux": "X11; Linux x86_64",
        "Darwin": "Macintosh; Intel Mac OS X 10_15_7",
        "Windows": "Windows NT 10.0; Win64; x64",
    }.get(platform.system(), "X11; Linux x86_64")
    return f"Mozilla/5.0 ({system}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{major}.0.0.0 Safari/537.36"


# Where the page's viewport is on the screen, and its size: for input made on the screen (XTEST).
VIEWPORT_JS = """() => ({x: screenX, y: screenY, chromeWidth: outerWidth - innerWidth, chromeHeight: outerHeight - innerHeight,
  width: innerWidth, height: innerHeight, ratio: devicePixelRatio})"""
WIDGET_POLL = 0.15  # seconds between two looks for a challenge widget
WIDGET_SETTLE = 5.0  # how long a clicked widget may take to answer


@dataclass
class LaunchOptions:
    executable: str | None = None  # None: find_chromium()
    headless: bool | None = None  # None: the stealthy default; drivers.browser_mode.choose_mode decides
    proxy: str | None = None
    insecure: bool = False
    timeout: float = DEFAULT_LOGIN_TIMEOUT  # how long the gate may take
    screenshot_path: Path | None = None  # where a failed login leaves its screenshot
    extra_args: list[str] = field(default_factory=list)
    # A browser somewhere else, instead of launching one here (at most one of these):
    browser_ws: str | None = None  # a Playwright browser server: chromium.connect()
    cdp_url: str | None = None  # any Chromium with remote debugging: chromium.connect_over_cdp()
    remote_webdriver: str | None = None  # a W3C WebDriver server (Selenium Grid, chromedriver): webdriver.Remote
    remote_capabilities: dict[str, Any] = field(default_factory=dict)  # merged into a remote WebDriver's request


# Chromium flags that keep a headless start lean and quiet on a machine with no network of its own.
LEAN_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--disable-quic",
)


def chromium_args(options: LaunchOptions, mode: BrowserMode | None = None, user_agent: str | None = None) -> list[str]:
    """The flags of every Chromium we start: lean, the caller's extra ones, --insecure's; for one started on this
    machine (`mode`), its window's, and the `user_agent` a headless one presents browser-wide."""
    args = [*LEAN_ARGS, *options.extra_args]
    if options.insecure:
        args.append("--ignore-certificate-errors")
    if mode is not None:
        args += browser_args(mode, user_agent)
    return args


# Numbers each PageStreams, so stream ids never repeat in this process: sessions that adopt one
# page (a caller's Selenium WebDriver) all hear its pushes, and each must recognise only its own.
_ROUTERS = itertools.count(1)


class PageStreams:
    """Routes the events the page pushes through the binding to one queue per in-page stream."""

    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self._prefix = f"r{next(_ROUTERS)}s"
        self._ids = itertools.count(1)
        self._dead: str | None = None

    def open(self) -> tuple[str, asyncio.Queue[dict[str, Any]]]:
        if self._dead:
            raise BrowserError(self._dead)
        stream_id = f"{self._prefix}{next(self._ids)}"
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues[stream_id] = queue
        return stream_id, queue

    def close(self, stream_id: str) -> None:
        self._queues.pop(stream_id, None)

    @property
    def open_ids(self) -> list[str]:
        """Streams still waiting for events (a driver that has to poll the page polls only for these)."""
        return list(self._queues)

    def push(self, payload: str) -> None:
        event = json.loads(payload)
        queue = self._queues.get(event.get("id"))
        if queue is not None:
            queue.put_nowait(event)

    def fail_all(self, reason: str) -> None:
        """The browser or page died: wake every waiting stream with an error."""
        self._dead = reason
        for queue in self._queues.values():
            queue.put_nowait({"type": "browser-gone", "message": reason})


class BrowserSession(ABC):
    """One browser, opened on one site, that has passed its gate and can stream from the page."""

    driver_name: str = "?"
    _display: VirtualDisplay | None = None  # our private Xvfb, when the browser runs on one
    reads_widget_frames = False  # whether _challenge_frame reaches a widget's frame; else it is watched by sight

    def __init__(self, base_url: str, options: LaunchOptions) -> None:
        self.base_url = base_url
        self.options = options
        self.streams = PageStreams()
        self.stream_slots = asyncio.Semaphore(MAX_IN_PAGE_STREAMS)  # held by the in-page transport per stream
        self.browser_version = ""
        self.user_agent = ""
        self.last_status: int | None = None

    # --- primitives a driver implements ---------------------------------------------------

    @abstractmethod
    async def _launch(self) -> None:
        """Start (or connect to) the browser; set browser_version."""

    @abstractmethod
    async def _new_page(self, profile: Profile | None, user_agent: str) -> None:
        """A fresh page in a fresh context: the profile's cookies and storage if given, this UA, the push binding."""

    @abstractmethod
    async def _goto(self, url: str) -> int | None:
        """Navigate; return the main document's HTTP status when known."""

    @abstractmethod
    async def _wait_for(self, predicate_js: str, timeout: float) -> Any:
        """Wait until the JS predicate returns a truthy value, across navigations; TimeoutError after `timeout`."""

    @abstractmethod
    async def _evaluate(self, js: str, arg: Any = None) -> Any:
        """Run a JS function with one argument in the page and return its result."""

    @abstractmethod
    async def _capture_request_headers(self, key: str) -> dict[str, str]:
        """Headers the browser really sent on a same-origin POST to api/models (made with MODELS_PROBE_JS), names
        in the case the browser sent them."""

    @abstractmethod
    async def _storage_state(self) -> dict[str, Any]:
        """Cookies (HttpOnly too) and localStorage, in Playwright's storage-state format."""

    @abstractmethod
    async def _screenshot(self) -> bytes:
        """The page as it stands, as a PNG."""

    @abstractmethod
    async def _page_info(self) -> tuple[str, str]:
        """(url, title) of the page as it stands."""

    @abstractmethod
    async def close(self) -> None:
        """Close everything this session started. Never raises; safe to call twice."""

    # --- primitives for a checkbox challenge; a driver without them never sees one ----------

    async def _page_cdp(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """One DevTools command on the page's own target."""
        raise NotImplementedError

    async def _challenge_frame(self) -> Send | None:
        """A DevTools channel to a challenge widget's frame on the page (`checkbox.is_challenge_frame`), or None
        (a driver that has it says so with `reads_widget_frames`)."""
        return None

    # --- what every driver does the same way -----------------------------------------------

    async def version(self) -> str:
        """The browser's version, starting it if it is not running yet."""
        if not self.browser_version:
            await self._launch()
        return self.browser_version

    def fits(self, profile: Profile) -> bool:
        """Whether this browser can replay `profile`: same major version as the one that captured it.

        Otherwise its client hints (sec-ch-ua) would name another version than the profile's user agent.
        """
        return profile.browser_version.split(".")[0] == self.browser_version.split(".")[0]

    async def open(self, profile: Profile | None = None) -> None:
        """Open the site in a fresh context (from `profile` when given) and pass its gate."""
        if not self.browser_version:
            progress.report(progress.STARTING_BROWSER)
        await self.version()
        self.user_agent = profile.user_agent if profile else normal_user_agent(self.browser_version)
        await self._new_page(profile, self.user_agent)
        await self._pass_gate()

    async def visit(self, url: str) -> None:
        """Open `url` in a fresh context, with no profile and no gate to pass (doctor --stealth, detector pages)."""
        await self.version()
        self.user_agent = normal_user_agent(self.browser_version)
        await self._new_page(None, self.user_agent)
        self.last_status = await self._goto(url)

    async def _pass_gate(self) -> None:
        started = time.monotonic()
        log.info("opening %s in %s", self.base_url, self.driver_name)
        progress.report(progress.OPENING_SITE)
        self.last_status = await self._goto(self.base_url + "/")
        if self.last_status in CHALLENGE_STATUSES:
            progress.report(progress.WAITING_FOR_CHALLENGE)
        try:
            state = await self._wait_beside(self._click_checkboxes(), self._wait_for(SETTLED_STATE_JS, self.options.timeout))
        except asyncio.TimeoutError:
            raise GateNotPassed(await self._describe_failure("the gate was not passed", self.options.timeout)) from None
        waited = time.monotonic() - started
        if state == PageKind.APP:
            log.info("gate passed in %.2fs", waited)
            return
        if state == PageKind.DISABLED:
            raise DeploymentDisabled(f"{self.base_url}: This Deployment has been disabled")
        if state == PageKind.BLOCKED:
            raise Blocked(await self._describe_failure("the site's gate blocked the browser", waited))
        url, title = await self._where()
        raise NotThisApp(self.last_status or 0, "", f"{redact_url(url)} is not an OpenChat UI page (title {title!r}); "
                         f"check {named('base_url')}")

    @staticmethod
    async def _wait_beside(helper: Coroutine[Any, Any, None], waiting: Coroutine[Any, Any, Any]) -> Any:
        """`waiting`'s result, while `helper` runs beside it; an error of `helper` ends both."""
        helping, waited = asyncio.ensure_future(helper), asyncio.ensure_future(waiting)
        try:
            done, _ = await asyncio.wait({helping, waited}, return_when=asyncio.FIRST_COMPLETED)
            failure = helping.exception() if helping in done else None
            if failure is not None:
                raise failure
            return await waited
        finally:
            for task in (helping, waited):
                task.cancel()
            await asyncio.gather(helping, waited, return_exceptions=True)

    async def _click_checkboxes(self) -> None:
        """Beside the wait for the gate: click a challenge widget's checkbox when it shows, as a hand would, and
        its retry when it says it failed. After MAX_CLICKS refused clicks, GateNotPassed: it wants a person."""
        rng = random.Random()
        clicks = 0
        pointer: Pointer | None = None
        sight = WidgetBySight()
        try:
            while True:
                await asyncio.sleep(WIDGET_POLL)
                try:
                    send = await self._challenge_frame() if self.reads_widget_frames else None
                    if self.reads_widget_frames and send is None:
                        continue
                    frame = await find_frame_box(self._page_cdp)
                    if frame is None:
                        sight.reset()
                        continue
                    view = await read_widget(send) if send is not None else await self._look_at(frame, sight)
                    if view.checkbox is None and not view.failed:
                        continue
                    if clicks >= MAX_CLICKS:  # it failed them, or they never reached it
                        raise GateNotPassed(
                            f"the site's challenge refused {clicks} clicks on its checkbox: it wants a person; "
                            "run 'aura-browser login --headed' and click it yourself")
                    if view.failed and view.retry is None:  # nothing to click: a fresh challenge
                        self.last_status = await self._goto(self.base_url + "/")
                        continue
                    target = view.retry if view.failed else view.checkbox
                    assert target is not None
                    if not view.failed:
                        clicks += 1
                        await asyncio.sleep(reaction_left(rng, view.in_sight))
                    pointer = pointer or await self._pointer(frame, rng)
                    log.info("clicking the challenge's %s (click %d)", "retry" if view.failed else "checkbox", clicks)
                    progress.report(progress.CLICKING_CHECKBOX)
                    await click_like_a_hand(pointer, target.moved(frame.left, frame.top), rng)
                    if send is not None:
                        await self._widget_answered(send)
                    else:  # its verdict cannot be read: a page still on the challenge gets a fresh one
                        await asyncio.sleep(SIGHT_ANSWER_S)
                        sight.reset()
                        self.last_status = await self._goto(self.base_url + "/")
                except (AuraError, asyncio.CancelledError):
                    raise
                except Exception as exc:  # the widget or its page went away mid-look: look again
                    log.debug("challenge widget: %s", exc.__class__.__name__)
        finally:
            if pointer is not None:
                pointer.close()

    async def _look_at(self, frame: Box, sight: WidgetBySight) -> WidgetView:
        """The widget of a driver that cannot read its frame: its checkbox's known place, once it shows by sight."""
        clip = {"x": frame.left, "y": frame.top, "width": frame.width, "height": frame.height, "scale": 1}
        shot = await self._page_cdp("Page.captureScreenshot", {"format": "png", "clip": clip})
        now = time.monotonic()
        if sight.ready(shot["data"], now):
            return WidgetView(known_checkbox(frame), None, "", sight.in_sight(now))
        return WidgetView(None, None, "")

    async def _pointer(self, near: Box, rng: random.Random) -> Pointer:
        """The mouse to click with. On our own Xvfb, real X input (XTEST): it comes from the display as a person's
        mouse does, so nothing of DevTools is in it. Elsewhere (headless, or the user's display, where our input
        would move the user's own mouse) `Input.dispatchMouseEvent`: Chromium makes trusted events of it too."""
        viewport = await self._evaluate(VIEWPORT_JS)
        display = self._display
        if display is not None and display.display is not None:
            screen = await asyncio.to_thread(XPointer, display.display, display.cookie)
            origin = Point(viewport["x"] + viewport["chromeWidth"] / 2,
                           viewport["y"] + viewport["chromeHeight"] - viewport["chromeWidth"] / 2)
            return ScreenPointer(screen, origin, float(viewport["ratio"] or 1))
        return DevToolsPointer(self._page_cdp, approach_from(near, (viewport["width"], viewport["height"]), rng))

    @staticmethod
    async def _widget_answered(send: Send) -> None:
        """Until a clicked widget stops offering its checkbox (it is checking, has passed or has failed)."""
        deadline = time.monotonic() + WIDGET_SETTLE
        while time.monotonic() < deadline:
            view = await read_widget(send)
            if view.checkbox is None:
                return
            await asyncio.sleep(WIDGET_POLL)

    async def _where(self) -> tuple[str, str]:
        try:
            return await self._page_info()
        except Exception:  # the page may be gone; the message still has to be made
            return self.base_url, "?"

    async def _describe_failure(self, what: str, waited: float) -> str:
        """`what`, after how long (`waited`: what the gate really took, not the login timeout), and where."""
        url, title = await self._where()
        message = f"{what} after {waited:.1f}s".replace(".0s", "s")
        message += f": at {redact_url(url)} (title {title!r}, status {self.last_status})"
        if self.options.screenshot_path is not None:
            try:
                self.options.screenshot_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                png = await self._screenshot()
                # Written into a new 0600 file (never through a link planted there), private before it holds a byte.
                with replacing(self.options.screenshot_path) as fresh:
                    fresh.write_bytes(png)
                message += f"; screenshot: {self.options.screenshot_path}"
            except Exception as exc:
                log.debug("no screenshot: %s", exc.__class__.__name__)
        return message

    async def capture(self) -> Profile:
        """What the browser learned, as a Profile bound to this UA and proxy."""
        progress.report(progress.READING_SESSION)
        state = self._site_state(await self._storage_state())
        gate_expiry = [c.get("expires", -1) for c in state.get("cookies", []) if c.get("name") in GATE_COOKIES]
        gate_expiry = [e for e in gate_expiry if e and e > 0]
        profile = Profile(
            base_url=self.base_url,
            user_agent=self.user_agent,
            storage_state=state,
            proxy=self.options.proxy,
            driver=self.driver_name,
            browser_version=self.browser_version,
            captured_at=time.time(),
            gate_expires_at=min(gate_expiry) if gate_expiry else None,
        )
        headers = await self._capture_request_headers(profile.api_key)
        profile.headers = {k.lower(): v for k, v in headers.items() if k.lower() in REPLAYED_HEADERS}
        profile.header_order = wire_order(headers)
        try:  # what the page itself lists, kept for serve's /v1/models and Aura.models
            status, text = await self.fetch_models(profile.api_key)
            profile.models = parse_model_list(text) if status == 200 else None
        except Exception as exc:  # a model list is a nicety; the login has succeeded without it
            log.debug("no model list at login: %s", exc.__class__.__name__)
        return profile

    def _site_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """What of the browser's storage state the profile keeps: all of it, in a browser of our own."""
        return state

    async def fetch_models(self, key: str) -> tuple[int, str]:
        """POST api/models from inside the page, as the page does on load: (status, start of the body)."""
        result = await self._evaluate(MODELS_PROBE_JS, [MODELS_PATH, key])
        if result.get("redirected"):
            raise redirect_error(join(self.base_url, MODELS_PATH), 0, None)
        return int(result["status"]), str(result["text"])

    async def stream_fetch(self, path: str, body: str, limit: int = DEFAULT_MAX_REPLY_BYTES
                           ) -> AsyncGenerator[dict[str, Any], None]:
        """Events of one fetch run inside the page: head, chunk..., end | error | too-large | browser-gone.

        The page reads at most `limit` bytes of the body (and of an error's, 64 KiB), then says `too-large`."""
        stream_id, queue = self.streams.open()
        finished = False
        try:
            await self._listen()
            await self._evaluate(FETCH_JS, [stream_id, path, body, PUSH_BINDING, limit])
            while True:
                event = await queue.get()
                if event["type"] in ("end", "error", "too-large", "browser-gone"):
                    finished = True
                yield event
                if finished:
                    return
        finally:
            self.streams.close(stream_id)
            if not finished:
                await self._abort(stream_id)

    async def _listen(self) -> None:
        """Be ready to hear the pushes of a stream just opened (a driver that polls the page starts here)."""

    async def _abort(self, stream_id: str) -> None:
        try:
            await asyncio.shield(self._evaluate(ABORT_JS, stream_id))
        except Exception:  # the page may already be gone; there is nothing left to abort then
            pass


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

    def _site_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """Only this site's cookies and localStorage: the rest of the caller's browser stays out of the profile."""
        host = urlsplit(self.base_url).hostname or ""
        return {
            "cookies": [c for c in state.get("cookies", []) if cookie_domain_matches(c, host)],
            "origins": [o for o in state.get("origins", []) if o.get("origin") == origin_of(self.base_url)],
        }
