"""An isolated world of our own in a page, reached over a CDP session of our own, with no user gesture.

patchright (as Playwright) runs every evaluation with `userGesture: true`, in its isolated world too: while a
login waits, the page's `navigator.userActivation` turns active with no input, and `window.open()` succeeds.
A person's page that nobody touched is never activated. Here we make a world of our own in the current
document (`Page.createIsolatedWorld`, as the selenium driver does through chromedriver) and call functions in
it with `Runtime.callFunctionOn`, without a gesture and without `Runtime.enable`. The world shares the DOM
and the origin with the page's scripts, but none of their JavaScript objects.

Calls address the world through a handle on its global object, not through its execution context id: a
context id may be reused by the renderer that a navigation swaps in, where it would name the page's own main
world; a stale object handle only fails, and the next call makes the world anew in the new document.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..errors import BrowserError
from .failures import first_line

WORLD_NAME = "aura"
# Protocol errors that mean our world belonged to a document that is gone, before the call ran.
_STALE = ("Cannot find context with specified id", "Could not find object with given id", "Cannot find context")


class IsolatedWorld:
    """Runs JS functions in our isolated world of a page's current document, over `session` (a CDPSession:
    anything with `async send(method, params)`); the world is made again after each navigation."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._global: str | None = None  # a handle on our world's globalThis, in the current document
        self._making = asyncio.Lock()

    async def call(self, function_js: str, arg: Any = None) -> Any:
        """Call `function_js` with one JSON argument in our world; its JSON result. A script that throws is a
        BrowserError; protocol errors (the document navigated away mid-call, the page closed) propagate."""
        for attempt in range(3):
            world = self._global
            try:
                world = world or await self._make()
                reply = await self._session.send("Runtime.callFunctionOn", {
                    "functionDeclaration": function_js, "objectId": world, "arguments": [{"value": arg}],
                    "returnByValue": True, "awaitPromise": True,
                })
            except Exception as exc:
                if attempt < 2 and any(sign in str(exc) for sign in _STALE):
                    self._forget(world)
                    continue
                raise
            details = reply.get("exceptionDetails")
            if details:
                exception = details.get("exception") or {}
                raise BrowserError(f"browser failed: {first_line(exception.get('description') or details.get('text') or 'error')}")
            return reply.get("result", {}).get("value")
        raise BrowserError("the page kept replacing its document")

    async def detach(self) -> None:
        """Leave the page: our CDP session ends, and our world's handles with it. Never raises."""
        try:
            await self._session.detach()
        except Exception:  # the page or its browser is gone already
            pass

    def _forget(self, world: str | None) -> None:
        if world is None or self._global == world:
            self._global = None

    async def _make(self) -> str:
        async with self._making:  # one world per document, however many callers found the old one gone
            if self._global is None:
                tree = await self._session.send("Page.getFrameTree")
                made = await self._session.send("Page.createIsolatedWorld", {
                    "frameId": tree["frameTree"]["frame"]["id"], "worldName": WORLD_NAME,
                })
                found = await self._session.send("Runtime.evaluate", {
                    "expression": "globalThis", "contextId": made["executionContextId"],
                })
                self._global = found["result"]["objectId"]
            return self._global
