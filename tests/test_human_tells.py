"""The behaviour tells of issue 19, in both drivers' default mode: a page nobody touched is never user-activated,
its window has the focus, and its dialogs are answered as a person answers them (after a moment, with OK).

What a page's own script sees is read in its main world with CDP's Runtime.evaluate, which carries no user
gesture, so reading it changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from aura_browser.drivers import new_session
from aura_browser.drivers.base import BrowserSession, LaunchOptions
from aura_browser.drivers.dialogs import ANSWER_DELAY

from tests.support.drivers import both_drivers, needs_xvfb
from tests.support.servers.loopback_app import serve_app

pytestmark = [needs_xvfb, both_drivers]

CHAT_BODY = json.dumps({"model": {"id": "openchat_3.6"}, "messages": [{"role": "user", "content": "Hi"}],
                        "key": "", "prompt": "", "temperature": 0.5})


async def seen_by_the_page(session: BrowserSession, expression: str) -> Any:
    """`expression`'s value in the page's main world, asked over CDP with no user gesture."""
    if session.driver_name == "playwright":
        page = session._page  # type: ignore[attr-defined]
        cdp = await page.context.new_cdp_session(page)
        try:
            reply = await cdp.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        finally:
            await cdp.detach()
    else:
        reply = await session._call(lambda: session._cdp("Runtime.evaluate", {"expression": expression,  # type: ignore[attr-defined]
                                                                              "returnByValue": True}))
    return reply["result"].get("value")


async def test_a_login_its_capture_and_an_in_page_stream_never_activate_the_page(replica, driver):
    """patchright evaluates with a user gesture: the page turned user-activated, and could open windows, with no input."""
    session = new_session(driver, replica.url, LaunchOptions(timeout=30))
    try:
        await session.open()
        await session.capture()
        events = [event async for event in session.stream_fetch("api/chat", CHAT_BODY)]
        assert events[0]["type"] == "head" and events[-1]["type"] == "end", events
        activation = await seen_by_the_page(session, "[navigator.userActivation.hasBeenActive, navigator.userActivation.isActive]")
        opened = await seen_by_the_page(session, "(() => { const w = window.open('about:blank'); if (w) w.close(); return !!w; })()")
    finally:
        await session.close()
    assert activation == [False, False]
    assert opened is False  # the popup blocker stops a window nobody asked for


# Asks for the page's dialogs (each answer and how long it took, by the page's clock) and the window's focus.
_PROBE = """<!DOCTYPE html><title>behaviour probe</title><pre id="seen"></pre><script>
const timed = (ask) => { const started = performance.now(); const answer = ask(); return [answer, Math.round(performance.now() - started)]; };
setTimeout(() => {
  const seen = {focus: document.hasFocus(), visibility: document.visibilityState};
  if (location.search.includes("dialogs")) {
    seen.alert = timed(() => alert("Welcome"));
    seen.confirm = timed(() => confirm("Continue?"));
    seen.prompt = timed(() => prompt("Your name?", "Ada"));
  }
  document.getElementById("seen").textContent = JSON.stringify(seen);
}, 300);
</script>"""


async def probe(driver: str, query: str) -> dict[str, Any]:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=_PROBE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    session = new_session(driver, "http://127.0.0.1", LaunchOptions(timeout=30))
    try:
        async with serve_app(app) as url:
            await session.visit(f"{url}/?{query}")
            seen = json.loads(await session._wait_for("() => document.getElementById('seen').textContent || null", 30))
            assert await session._evaluate("() => document.title") == "behaviour probe"  # the session goes on
    finally:
        await session.close()
    return seen


async def test_dialogs_are_answered_with_ok_after_a_persons_moment(driver):
    """Playwright dismissed them within 10 ms (confirm false); chromedriver failed the login (exit 7)."""
    seen = await probe(driver, "dialogs")
    assert seen["alert"][0] is None and seen["confirm"][0] is True and seen["prompt"][0] == "Ada", seen
    low, high = ANSWER_DELAY
    for kind in ("alert", "confirm", "prompt"):
        assert low * 1000 <= seen[kind][1] <= (high + 3) * 1000, seen


async def test_the_window_has_the_focus(driver):
    """chromedriver's window on our Xvfb (no window manager) had document.hasFocus() false."""
    seen = await probe(driver, "focus")
    assert seen["focus"] is True and seen["visibility"] == "visible", seen
