"""Turnstile's checkbox challenge as a driver sees it, over the DevTools protocol (no browser library here).

The widget is an iframe from another site (challenges.cloudflare.com) on a challenge page; its checkbox is drawn
in a closed shadow root, after a second or two of "Verifying...". Selectors from the page reach none of it, but
DevTools' DOM does: `DOM.getDocument` with `pierce` lists closed shadow roots too, and `DOM.getBoxModel` says
where a node is. A driver gives us a `Send` (one CDP command on one target) for the page and for the widget's
frame; what they show is read here, the same way for every driver.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from . import hand
from .hand import Box, Point
from .xinput import XPointer

Send = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]

# A challenge widget's frame: Cloudflare's host, or its challenge platform's path anywhere (a proxied or replayed one).
CHALLENGE_FRAME = re.compile(r"^https?://(challenges\.cloudflare\.com/|[^/]+/cdn-cgi/challenge-platform/)", re.IGNORECASE)
FAILED_TEXT = re.compile(r"\b(fail(ed|ure)?|error|expired|timed out)\b", re.IGNORECASE)
RETRY_TEXT = re.compile(r"\b(retry|try again|refresh)\b", re.IGNORECASE)
_NOT_SHOWN = ("SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "HEAD")
MAX_CLICKS = 3  # clicks on the checkbox before a login gives up: the gate wants a person then


def is_challenge_frame(url: str) -> bool:
    return bool(CHALLENGE_FRAME.match(url))


@dataclass(frozen=True)
class WidgetView:
    """What the widget's frame shows now; boxes in CSS pixels of the frame's own viewport."""

    checkbox: Box | None
    retry: Box | None
    text: str
    in_sight: float = 0.0  # how long the checkbox had been in sight when it was seen (watched by sight; else 0)

    @property
    def failed(self) -> bool:
        return self.checkbox is None and bool(FAILED_TEXT.search(self.text))


async def read_widget(send: Send) -> WidgetView:
    """The widget's checkbox (when shown and enabled), its retry control (when shown) and its text."""
    document = (await send("DOM.getDocument", {"depth": -1, "pierce": True}))["root"]
    checkbox = retry = None
    texts = []
    for node in _walk(document):
        name = node.get("nodeName", "")
        if node.get("nodeType") == 3:
            texts.append(node.get("nodeValue", "").strip())
        elif name == "INPUT" and _attributes(node).get("type") == "checkbox" and "disabled" not in _attributes(node):
            checkbox = checkbox or await _box(send, node)
        elif name in ("BUTTON", "A") and RETRY_TEXT.search(_text_of(node)):
            retry = retry or await _box(send, node)
    return WidgetView(checkbox, retry, " ".join(t for t in texts if t))


async def find_frame_box(send: Send) -> Box | None:
    """Where the challenge iframe's content is in the page's viewport (closed shadow roots included), if shown."""
    document = (await send("DOM.getDocument", {"depth": -1, "pierce": True}))["root"]
    for node in _walk(document):
        if node.get("nodeName") == "IFRAME" and is_challenge_frame(_attributes(node).get("src", "")):
            box = await _box(send, node)
            if box is not None:
                return box
    return None


async def _box(send: Send, node: dict[str, Any]) -> Box | None:
    """A node's content box, or None when it is not rendered (hidden, or gone since the document was read)."""
    try:
        model = (await send("DOM.getBoxModel", {"backendNodeId": node["backendNodeId"]}))["model"]
    except Exception:  # "Could not compute box model": not rendered
        return None
    xs, ys = model["content"][0::2], model["content"][1::2]
    box = Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    return box if box.width > 0 and box.height > 0 else None


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    if node.get("nodeName") in _NOT_SHOWN:
        return
    for key in ("shadowRoots", "children"):
        for child in node.get(key, ()):
            yield from _walk(child)
    if "contentDocument" in node:  # an iframe in the same process
        yield from _walk(node["contentDocument"])


def _attributes(node: dict[str, Any]) -> dict[str, str]:
    flat = node.get("attributes", [])
    return dict(zip(flat[0::2], flat[1::2]))


def _text_of(node: dict[str, Any]) -> str:
    return " ".join(n.get("nodeValue", "") for n in _walk(node) if n.get("nodeType") == 3)


class Pointer(Protocol):
    """A mouse, in CSS pixels of the page's viewport."""

    async def where(self) -> Point: ...

    async def gesture(self, steps: list[hand.Step], at: Point, hold: float) -> None:
        """Move along `steps` (each after its pause), press at `at`, hold `hold` seconds, release."""

    def close(self) -> None: ...


class DevToolsPointer:
    """Mouse events made by the browser from `Input.dispatchMouseEvent`: trusted, as a person's are. For a headless
    browser, or a headed one on a display that is not ours (where our input would reach the user's own screen)."""

    def __init__(self, send: Send, start: Point) -> None:
        self._send = send
        self._at = start

    async def where(self) -> Point:
        return self._at

    async def gesture(self, steps: list[hand.Step], at: Point, hold: float) -> None:
        for step in steps:
            await asyncio.sleep(step.pause)
            await self._mouse("mouseMoved", step.x, step.y, "none", 0)
        self._at = at
        await self._mouse("mousePressed", at.x, at.y, "left", 1)
        await asyncio.sleep(hold)
        await self._mouse("mouseReleased", at.x, at.y, "left", 0)

    async def _mouse(self, kind: str, x: float, y: float, button: str, buttons: int) -> None:
        params: dict[str, Any] = {"type": kind, "x": x, "y": y, "button": button, "buttons": buttons, "pointerType": "mouse"}
        if kind != "mouseMoved":
            params["clickCount"] = 1
        await self._send("Input.dispatchMouseEvent", params)

    def close(self) -> None:
        pass


class ScreenPointer:
    """The X server's own pointer on our private Xvfb, moved through XTEST: the input a person's mouse makes."""

    def __init__(self, pointer: XPointer, origin: Point, ratio: float) -> None:
        self._pointer = pointer
        self._origin = origin  # the page viewport's top left corner on the screen
        self._ratio = ratio

    async def where(self) -> Point:
        x, y = await asyncio.to_thread(self._pointer.position)
        return Point((x - self._origin.x) / self._ratio, (y - self._origin.y) / self._ratio)

    async def gesture(self, steps: list[hand.Step], at: Point, hold: float) -> None:
        # One worker thread paces the whole gesture: a busy event loop cannot stretch a press or stall a move.
        await asyncio.to_thread(self._perform, steps, at, hold)

    def _perform(self, steps: list[hand.Step], at: Point, hold: float) -> None:
        for step in steps:
            time.sleep(step.pause)
            self._pointer.move(self._origin.x + step.x * self._ratio, self._origin.y + step.y * self._ratio)
        self._pointer.press()
        time.sleep(hold)
        self._pointer.release()

    def close(self) -> None:
        self._pointer.close()


async def click_like_a_hand(pointer: Pointer, target: Box, rng: random.Random) -> None:
    """Move to a point of `target` along a hand's path, rest on it, press, hold, release."""
    aim_at = hand.aim(target, rng)
    steps = hand.path(await pointer.where(), aim_at, rng) + hand.settle(aim_at, rng)
    await pointer.gesture(steps, aim_at, hand.press_time(rng))


# By sight, for a driver that cannot reach the widget's frame over DevTools (chromedriver holds Chromium's only
# DevTools pipe and speaks to the page alone): the widget's pixels, in screenshots of the page, and the place where
# Turnstile draws its checkbox.
SIGHT_STILL_S = 0.5  # the widget unchanged this long ...
SIGHT_MIN_S = 2.5  # ... this long after it first showed, once its look has changed ("Verifying..." gave way)
SIGHT_LIMIT_S = 8.0  # ... or, if it never changed, after this long
SIGHT_ANSWER_S = 5.0  # after a click by sight, how long the page has to leave the challenge before a fresh one


def known_checkbox(frame: Box) -> Box:
    """Where Turnstile's checkbox is in its widget (frame coordinates): a 24 px square 16 px from the left, centred."""
    return Box(16, frame.height / 2 - 12, 24, 24)


class WidgetBySight:
    """Decides when a widget watched in screenshots shows its checkbox: it changed, then kept still."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._first: float | None = None
        self._image = ""
        self._changed = False
        self._still_since = 0.0

    def ready(self, image: str, now: float) -> bool:
        """Look at the widget's screenshot `image` taken at `now`; whether its checkbox is there to click."""
        if self._first is None or image != self._image:
            self._changed = self._first is not None
            self._first = now if self._first is None else self._first
            self._image, self._still_since = image, now
            return False
        seen = now - self._first
        return now - self._still_since >= SIGHT_STILL_S and (seen >= SIGHT_MIN_S if self._changed else seen >= SIGHT_LIMIT_S)

    def in_sight(self, now: float) -> float:
        """How long the widget has looked as it does now (its checkbox, once `ready`)."""
        return now - self._still_since
