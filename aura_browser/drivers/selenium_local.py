"""The Selenium driver on this machine, made so that a page cannot tell it from a person's Chromium.

What gives a chromedriver session away, and what this session does instead:
- `--enable-automation` (`navigator.webdriver` true, BotD's verdict) and chromedriver's other switches:
  chromedriver starts Chromium with none of them (`excludeSwitches`), headed on a private Xvfb by default,
  with `--disable-blink-features=AutomationControlled` and only the flags we give it.
- A DevTools TCP port (`--remote-debugging-port`, or undetected-chromedriver's `debuggerAddress`) would let
  any local user take the session (its cookies, JavaScript in the page): chromedriver speaks to Chromium over
  a pipe instead (`--remote-debugging-pipe`), which only it holds.
- `cdc_` globals: chromedriver is a patched private copy (`chromedriver.py`).
- The `Runtime.enable` leak (a page that logs an Error sees its `Error.prepareStackTrace` consulted):
  chromedriver enables Runtime when it attaches to the page; we disable it again at once and never need it.
- `execute_script` runs in the page's main world, where hooked DOM getters see our calls, and the in-page
  stream's queue would be a global the page can read: everything we run in the page runs instead in an
  isolated world of our own (`Page.createIsolatedWorld`, `Runtime.callFunctionOn` through chromedriver's CDP
  endpoint), which shares the DOM and the origin but none of the page's JavaScript objects.
- The request headers the browser sends are read from chromedriver's performance log of Network events
  (BiDi, which an adopted WebDriver's session uses, would enable Runtime in every page: the leak above).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from typing import Any

from ..errors import BrowserError
from ..origin import join
from ..profile import Profile
from ..wire.api import MODELS_PATH
from .base import MODELS_PROBE_JS, LaunchOptions, PageStreams, normal_user_agent
from .browser_mode import choose_mode
from .browser_path import find_chromium, installed_version
from .chromedriver import patched_chromedriver
from .display import VirtualDisplay, check_display
from .failures import first_line
from .scratch import private_folder
from .selenium import (
    DIALOGS_ARE_OURS,
    HEADERS_WAIT,
    StealthySeleniumSession,
    find_chromedriver,
    quit_driver,
    selenium_chromium_args,
)
from .watchdog import OWN_GROUP, GroupWatchdog

log = logging.getLogger("aura_browser.browser")

# The switches chromedriver 156 adds to a Chromium it starts; none of them is ours to give.
CHROMEDRIVER_SWITCHES = (
    "allow-pre-commit-input", "disable-background-networking", "disable-background-timer-throttling",
    "disable-backgrounding-occluded-windows", "disable-client-side-phishing-detection", "disable-default-apps",
    "disable-features", "disable-hang-monitor", "disable-popup-blocking", "disable-prompt-on-repost", "disable-sync",
    "enable-automation", "enable-logging", "log-level", "no-first-run", "no-service-autorun", "password-store",
    "remote-debugging-port", "test-type", "use-mock-keychain",
)
# chromedriver's log of the page's Network events: where the request headers are read (and nothing else).
PERFORMANCE_LOG = "performance"
LOG_DRAIN_INTERVAL = 1.0  # seconds between two drains of that log while streams run, so it cannot grow
# Headless Chromium has no pointing device, so (hover: hover) and (pointer: fine) fail; Playwright's headless
# launch passes the same settings.
HEADLESS_POINTER_ARGS = ("--blink-settings=primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,availablePointerTypes=4",)


class LocalSeleniumSession(StealthySeleniumSession):
    """A Chromium we start here (headed on our own Xvfb by default), driven by a patched chromedriver."""

    def __init__(self, base_url: str, options: LaunchOptions) -> None:
        super().__init__(base_url, options)
        self._folder: tempfile.TemporaryDirectory[str] | None = None  # Chromium's profile, with the session's cookies
        self._display: VirtualDisplay | None = None
        self._watchdog: GroupWatchdog | None = None  # on chromedriver's process group, which Chromium joins
        self._log_drained = 0.0

    # --- starting -------------------------------------------------------------------------

    async def _launch(self) -> None:
        self.streams = PageStreams()
        starting = asyncio.get_running_loop().run_in_executor(None, self._start_driver)
        try:
            self._driver = await asyncio.shield(starting)
        except asyncio.CancelledError:
            starting.add_done_callback(self._stop_when_started)  # interrupted mid-start: the browser must not outlive us
            raise
        try:
            await self._attach()
        except BaseException:
            await self.close()
            raise

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
            args = selenium_chromium_args(self.options, runs_here=True, mode=mode, user_agent=user_agent)
            env = None
            if mode.headless:
                args += ["--headless=new", *HEADLESS_POINTER_ARGS]
            elif mode.virtual_display:
                self._display = VirtualDisplay()
                self._display.start()
                env = self._display.environment()
            else:  # headed on the user's display
                check_display()
            self._folder = private_folder("chromium")
            # chromedriver writes its own defaults (pop-ups and geolocation allowed...) into a profile that has no
            # Preferences yet; empty ones keep Chromium's own, as a person's browser has them.
            os.mkdir(os.path.join(self._folder.name, "Default"), 0o700)
            for preferences in ("Default/Preferences", "Local State"):
                with open(os.path.join(self._folder.name, preferences), "x") as file:
                    file.write("{}")
            log.info("starting Chromium %s for the selenium driver", mode.describe())
            options = webdriver.ChromeOptions()
            options.binary_location = executable
            for arg in (f"--user-data-dir={self._folder.name}", "--remote-debugging-pipe", *args):
                options.add_argument(arg)
            options.add_experimental_option("excludeSwitches", list(CHROMEDRIVER_SWITCHES))
            options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True, "enablePage": False})
            options.set_capability("goog:loggingPrefs", {PERFORMANCE_LOG: "ALL"})
            options.unhandled_prompt_behavior = DIALOGS_ARE_OURS
            # chromedriver leads a process group of its own, which Chromium and its helpers join; from the moment
            # chromedriver is started, a watchdog kills the group when we die, however we die (kill -9 too), even
            # while Chromium is still starting. Given the driver's path, Selenium Manager is never consulted
            # (nothing to download, no environment to set).
            log_path = os.path.join(self._folder.name, "chromedriver.log")  # Chromium's stderr too
            service = watched_service(Service)(executable_path=chromedriver, env=env, log_output=log_path,
                                               popen_kw=dict(OWN_GROUP))
            importing.join()
            try:
                return webdriver.Chrome(service=service, options=options)
            except Exception as exc:
                raise BrowserError(f"cannot start Chromium ({executable}) through chromedriver: "
                                   f"{launch_failure(first_line(exc), log_path)}") from None
            finally:
                self._watchdog = service.watchdog
        except BaseException:
            self._stop_processes()  # a Chromium that chromedriver left behind too
            raise

    def _take_pushes(self, driver: Any, ids: list[str]) -> list[str]:
        if time.monotonic() - self._log_drained > LOG_DRAIN_INTERVAL:  # an in-page stream's events pile up there
            self._network_events()
        return super()._take_pushes(driver, ids)

    def _network_events(self) -> list[dict[str, Any]]:
        """The Network events logged since the last call (chromedriver forgets them once read)."""
        self._log_drained = time.monotonic()
        events = []
        for entry in self._driver.get_log(PERFORMANCE_LOG):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                events.append(json.loads(entry["message"])["message"])
        return events

    # --- the primitives -------------------------------------------------------------------

    async def _new_page(self, profile: Profile | None, user_agent: str) -> None:
        await super()._new_page(profile, user_agent)
        # What the log holds so far is the last page's: the headers to capture are the new page's.
        await self._call(self._network_events, "browser failed to prepare the page")

    async def _capture_request_headers(self, key: str) -> dict[str, str]:
        await self._call(self._network_events, "cannot watch the browser's requests")  # forget the older ones
        await self._evaluate(MODELS_PROBE_JS, [MODELS_PATH, key])
        watcher = RequestHeaders(join(self.base_url, MODELS_PATH))
        headers = await self._call(lambda: watcher.wait(self._network_events, HEADERS_WAIT),
                                   "cannot watch the browser's requests")
        if not headers:
            log.info("the api/models probe never showed up on the DevTools network log; no headers saved")
        return headers

    # --- closing --------------------------------------------------------------------------

    async def close(self) -> None:
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
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.release()  # what is left of chromedriver's group (after a clean quit: nothing, or helpers exiting)
        folder, self._folder = self._folder, None
        if folder is not None:
            with contextlib.suppress(OSError):
                folder.cleanup()
        display, self._display = self._display, None
        if display is not None:
            display.stop()


def watched_service(service_class: Any) -> Any:
    """Selenium's chromedriver Service, with a GroupWatchdog on chromedriver's group from the moment it starts
    (Selenium starts it inside `webdriver.Chrome`, and waits there for Chromium, with nothing of ours running)."""

    class WatchedService(service_class):  # type: ignore[misc]
        watchdog: GroupWatchdog | None = None

        def _start_process(self, path: str) -> None:
            super()._start_process(path)
            self.watchdog = GroupWatchdog(self.process.pid)

    return WatchedService


class RequestHeaders:
    """The headers Chromium really sent with the first POST to `url`, read from its Network events."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._request_id = ""
        self._basic: dict[str, str] = {}
        self._extra: dict[str, dict[str, str]] = {}  # per request id: the headers of its ExtraInfo event (the full set)

    def wait(self, read_events: Any, timeout: float) -> dict[str, str]:
        """Lower-cased headers, once both events of the request are seen; {} when none is in `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in read_events():
                self._see(event)
            if self._request_id and self._request_id in self._extra:
                break
            time.sleep(0.05)  # chromedriver's log can only be polled
        if not self._request_id:
            return {}
        found = {**self._basic, **self._extra.get(self._request_id, {})}
        return {name.lower(): str(value) for name, value in found.items()}

    def _see(self, event: dict[str, Any]) -> None:
        params = event.get("params") or {}
        if event.get("method") == "Network.requestWillBeSent" and not self._request_id:
            request = params.get("request") or {}
            if request.get("url") == self.url and request.get("method") == "POST":
                self._request_id, self._basic = params["requestId"], request.get("headers") or {}
        elif event.get("method") == "Network.requestWillBeSentExtraInfo":
            self._extra[params.get("requestId", "")] = params.get("headers") or {}


# A line of Chromium's log: [pid:tid:date/time:ERROR:source.cc:line] message
_CHROMIUM_ERROR = re.compile(r"^\[[0-9:/.]+:(?:ERROR|FATAL):[^\]]*\] (.+)$")


def launch_failure(error: str, log_path: str) -> str:
    """Why Chromium did not start: chromedriver's "exited abnormally" says nothing, Chromium's first error does
    (the last ones are its helpers' "Broken pipe" as it goes)."""
    with contextlib.suppress(OSError), open(log_path, errors="replace") as file:
        for line in file:
            found = _CHROMIUM_ERROR.match(line.strip())
            if found:
                return f"{error.rstrip('.')}: {found.group(1)[:300]}"
    return error
