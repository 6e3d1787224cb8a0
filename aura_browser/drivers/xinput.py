"""Real pointer input on our private Xvfb, through the X server's XTEST extension (python-xlib, pure Python).

The X server makes these events itself, as it makes a person's: the browser receives them from its display
like any mouse's, with nothing of DevTools about them.
"""

from __future__ import annotations

import threading
from typing import Any

from ..errors import BrowserError

# python-xlib reads its X cookie from $XAUTHORITY only; our process environment is never changed (the display's
# cookie is given to the browser alone), so the cookie is handed to it for the one connection we open.
_CONNECTING = threading.Lock()
_AUTH_NAME = b"MIT-MAGIC-COOKIE-1"
_LEFT_BUTTON = 1


class XPointer:
    """The pointer of one X display. Blocking calls: run them off the event loop."""

    def __init__(self, display: str, cookie: bytes) -> None:
        try:
            from Xlib import X
            from Xlib import display as xdisplay
            from Xlib.ext import xtest
            from Xlib.support import connect
        except ImportError:
            raise BrowserError("python-xlib is not installed: pip install python-xlib") from None
        self._x, self._xtest = X, xtest
        with _CONNECTING:
            default = connect.get_auth
            connect.get_auth = lambda *_: (_AUTH_NAME, cookie)
            try:
                self._display: Any = xdisplay.Display(display)
            except Exception as exc:
                raise BrowserError(f"cannot send input to the virtual display {display}: {exc}") from None
            finally:
                connect.get_auth = default
        if not self._display.has_extension("XTEST"):
            self.close()
            raise BrowserError(f"the virtual display {display} has no XTEST extension")

    def position(self) -> tuple[int, int]:
        pointer = self._display.screen().root.query_pointer()
        return pointer.root_x, pointer.root_y

    def move(self, x: float, y: float) -> None:
        self._xtest.fake_input(self._display, self._x.MotionNotify, x=round(x), y=round(y))
        self._display.sync()

    def press(self) -> None:
        self._xtest.fake_input(self._display, self._x.ButtonPress, _LEFT_BUTTON)
        self._display.sync()

    def release(self) -> None:
        self._xtest.fake_input(self._display, self._x.ButtonRelease, _LEFT_BUTTON)
        self._display.sync()

    def close(self) -> None:
        display, self._display = self._display, None
        if display is not None:
            try:
                display.close()
            except Exception:  # the display may already be gone; there is nothing left to close then
                pass
