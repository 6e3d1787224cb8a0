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
import importlib
import json
import logging
import signal
import threading
import urllib.request
from typing import Any

from ..errors import BrowserError
from ..origin import join
from ..wire.api import MODELS_PATH
from .base import LaunchOptions, normal_user_agent
from .browser_path import find_chromium, installed_version
from .chromedriver import patched_chromedriver
from .chromium_process import ChromiumProcess
from .display import VirtualDisplay, choose_mode, parent_death_signal
from .failures import first_line
from .selenium import (
    DIALOGS_ARE_OURS,
    HEADERS_WAIT,
    NetworkListener,
    StealthySeleniumSession,
    find_chromedriver,
    quit_driver,
    selenium_chromium_args,
)

log = logging.getLogger("aura_browser.browser")

STEALTH_ARGS = ("--disable-blink-features=AutomationControlled",)
# Headless Chromium has no pointing device, so (hover: hover) and (pointer: fine) fail; Playwright's headless
# launch passes the same settings.
HEADLESS_POINTER_ARGS = ("--blink-settings=primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,availablePointerTypes=4",)


class LocalSeleniumSession(StealthySeleniumSession):
    """A Chromium we start here (headed on our own Xvfb by default), driven by a patched chromedriver."""

    def __init__(self, base_url: str, options: LaunchOptions) -> None:
        super().__init__(base_url, options)
        self._chromium = ChromiumProcess()
        self._display: VirtualDisplay | None = None
        self._devtools = ""

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

    def _network_listener(self) -> NetworkListener:
        return NetworkListener(self._page_websocket, join(self.base_url, MODELS_PATH))

    def _page_websocket(self) -> str:
        with urllib.request.urlopen(f"http://{self._devtools}/json/list", timeout=HEADERS_WAIT) as reply:
            targets = json.load(reply)
        for target in targets:
            if target.get("id") == self._window and target.get("webSocketDebuggerUrl"):
                return target["webSocketDebuggerUrl"]
        raise BrowserError("the browser's page is gone")

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
        self._chromium.stop()
        display, self._display = self._display, None
        if display is not None:
            display.stop()
