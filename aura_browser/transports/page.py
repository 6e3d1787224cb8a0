"""The in-page transport: fetch('api/chat') inside a page of the site, chunks pushed back as they arrive.

It gets past gates that block by TLS fingerprint, since the request is the browser's own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, AsyncGenerator, Awaitable, Callable

from ..drivers.base import BrowserSession
from ..environment import DEFAULT_MAX_REPLY_BYTES
from ..errors import BrowserError, NetworkError, StreamInterrupted
from ..origin import join
from ..profile import Profile
from ..wire.api import CHAT_PATH
from ..wire.replies import error_for_reply, redirect_error
from .base import StreamStats, Timeouts
from .replies import ReplyBudget, retry_delay, silence_error

log = logging.getLogger("aura_browser.page")


class PageTransport:
    """Streams from inside the page of a browser session; `open_page(profile)` gives that session, ready, with the
    profile in it (the client's browser, shared by concurrent streams, opened once)."""

    name = "page"

    def __init__(self, open_page: Callable[[Profile], Awaitable[BrowserSession]], *, timeouts: Timeouts = Timeouts(),
                 max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES) -> None:
        self.open_page = open_page
        self.timeouts = timeouts
        self.max_reply_bytes = max_reply_bytes

    async def stream(self, profile: Profile, body: dict[str, Any], stats: StreamStats | None = None) -> AsyncGenerator[str, None]:
        """As Transport.stream; the time waiting for a free connection of the page goes to `stats.queue`."""
        session = await self.open_page(profile)
        queued_at = time.perf_counter()
        # Waiting for a slot is not waiting for the site: the first-byte timeout starts once we have one.
        async with session.stream_slots:
            waited = time.perf_counter() - queued_at
            if stats is not None:
                stats.queue = waited
            if waited >= 0.001:
                log.info("waited %.3fs for a free connection of the page", waited)
            chunks = self._stream(session, body)
            try:
                async for text in chunks:
                    yield text
            finally:
                await chunks.aclose()  # at once, not when collected: it aborts the page's fetch

    async def _stream(self, session: BrowserSession, body: dict[str, Any]) -> AsyncGenerator[str, None]:
        url = join(session.base_url, CHAT_PATH)
        payload = json.dumps(body, ensure_ascii=False)
        for attempt in (1, 2):
            events = session.stream_fetch(CHAT_PATH, payload, self.max_reply_bytes)
            budget = ReplyBudget(url, self.max_reply_bytes)  # the browser decompressed it; its text counts
            received: list[str] = []
            delay: float | None = None
            try:
                while True:
                    try:
                        async with asyncio.timeout(self.timeouts.first_byte if not received else self.timeouts.idle):
                            event = await anext(events)
                    except asyncio.TimeoutError:
                        raise silence_error(url, self.timeouts, received) from None
                    kind = event["type"]
                    if kind == "chunk":
                        budget.spend(len(event["text"].encode("utf-8", "surrogatepass")), received)
                        received.append(event["text"])
                        yield event["text"]
                    elif kind == "head" and event.get("redirected"):
                        raise redirect_error(url, 0, None)
                    elif kind == "head" and "body" in event:
                        delay = retry_delay(event["status"], event["headers"], self.timeouts) if attempt == 1 else None
                        if delay is None:
                            raise error_for_reply(url, event["status"], event["reason"], event["headers"], event["body"])
                        break  # a 429 before any text: wait, then retry once
                    elif kind == "end":
                        return
                    elif kind == "too-large":  # the page stopped reading (text of invalid bytes counts less)
                        raise budget.exceeded(received)
                    elif kind == "error":
                        message = f"the page's fetch of {url} failed ({event['message']})"
                        if received:
                            raise StreamInterrupted(message, "".join(received))
                        raise NetworkError(message)
                    elif kind == "browser-gone":
                        raise BrowserError(f"{event['message']} during the in-page reply")
            finally:
                await events.aclose()
            log.info("429 from %s; retrying once in %.1fs", url, delay)
            await asyncio.sleep(delay or 0)

    async def aclose(self) -> None:
        """The browser belongs to the client, which closes it."""
