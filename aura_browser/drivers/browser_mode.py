"""Headed or headless: the policy that picks how a browser is shown, and the window flags that go with it.

A headed Chromium is what passes the gates' checks (see docs/stealth.md); on a server it needs an X display,
which `display.py` provides.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from typing import Mapping

XVFB = "Xvfb"
SCREEN = (1920, 1080)
# The browser window on that screen: as big as a maximised one; its inner size is smaller (tabs, toolbar).
WINDOW_ARGS = ("--window-position=0,0", f"--window-size={SCREEN[0]},{SCREEN[1]}")


@dataclass(frozen=True)
class BrowserMode:
    """How the browser is shown: headless, headed on the user's display, or headed on our own Xvfb."""

    headless: bool
    virtual_display: bool = False

    def describe(self) -> str:
        if self.headless:
            return "headless"
        return "headed on a virtual display" if self.virtual_display else "headed"


def browser_args(mode: BrowserMode, user_agent: str | None = None) -> list[str]:
    """Chromium flags for `mode`: a real window size; headless also gets `user_agent` browser-wide (workers too)."""
    args = list(WINDOW_ARGS)
    if mode.headless:
        args.append(f"--screen-info={{{SCREEN[0]}x{SCREEN[1]}}}")  # else headless says 800x600
        if user_agent:
            args.append(f"--user-agent={user_agent}")
    return args


def xvfb_available(environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return shutil.which(XVFB, path=environ.get("PATH")) is not None


def choose_mode(headless: bool | None, environ: Mapping[str, str] | None = None) -> BrowserMode:
    """The mode for `headless` (None: the stealthy default), given the environment.

    - True: headless.
    - False (`--headed`): the user's DISPLAY when there is one, else our own Xvfb when it is installed,
      else headed anyway (the launch then fails with the browser's "Missing X server" reason).
    - None: headed on our own Xvfb, even when a DISPLAY exists (no window pops up on the user's screen);
      headless when Xvfb is not installed.
    """
    environ = os.environ if environ is None else environ
    if headless:
        return BrowserMode(headless=True)
    if headless is False:
        if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
            return BrowserMode(headless=False)
        return BrowserMode(headless=False, virtual_display=xvfb_available(environ))
    if xvfb_available(environ):
        return BrowserMode(headless=False, virtual_display=True)
    return BrowserMode(headless=True)
