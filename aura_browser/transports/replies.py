"""Opening a reply (the one retry of a 429, the first-byte timeout) and reading its text, the same for every transport.

What a reply that is not a text stream means is `wire/replies.py`'s.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
from typing import AsyncGenerator, Awaitable, Callable, Mapping, NamedTuple, TypeVar

from ..environment import DEFAULT_MAX_REPLY_BYTES
from ..errors import NetworkError, ReplyTooLarge, ResponseTimeout, StreamInterrupted
from ..origin import origin_of
from ..wire.replies import error_for_reply, retry_after
from .base import Timeouts

log = logging.getLogger("aura_browser.replies")
Stream = TypeVar("Stream")

MAX_RETRY_AFTER = 30.0  # a 429 asking for a longer wait is not retried: the error says how long instead
ERROR_BODY_LIMIT = 65536  # bytes of a reply that is not a text stream read to judge it (a gate's page, an error)


def retry_delay(status: int, headers: Mapping[str, str], timeouts: Timeouts) -> float | None:
    """How long to wait before the one retry of a reply that came before any text; None: do not retry.

    A wait longer than MAX_RETRY_AFTER, or than the first-byte timeout the caller allows, fails at once.
    """
    if status != 429:
        return None
    wait = retry_after(headers)
    return wait if wait <= min(MAX_RETRY_AFTER, timeouts.first_byte) else None


class ErrorReply(NamedTuple):
    """A reply that is not a text stream, read (up to a limit) so that it can be judged."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: str


async def open_stream(url: str, timeouts: Timeouts, send: Callable[[], Awaitable[Stream | ErrorReply]]) -> Stream:
    """`send()` until it gives a text stream, within the first-byte timeout: a 429 before any text is retried
    once after the wait it asks for (when retry_delay allows it); any other reply is raised as what it is."""
    for attempt in (1, 2):
        try:
            async with asyncio.timeout(timeouts.first_byte):
                reply = await send()
        except asyncio.TimeoutError:
            raise silence_error(url, timeouts, []) from None
        if not isinstance(reply, ErrorReply):
            return reply
        refused: ErrorReply = reply
        delay = retry_delay(refused.status, refused.headers, timeouts) if attempt == 1 else None
        if delay is None:
            break
        log.info("429 from %s; retrying once in %.1fs", origin_of(url), delay)
        await asyncio.sleep(delay)
    raise error_for_reply(url, refused.status, refused.reason, refused.headers, refused.body)


async def read_error_body(read: Callable[[], Awaitable[bytes]], limit: int = ERROR_BODY_LIMIT) -> bytes:
    """The start of a reply that is not a text stream: read up to `limit` bytes or its end, whichever comes
    first, since a gate's page may send its `<title>` after its first bytes. (`read` gives b"" at the end.)"""
    raw = bytearray()
    while len(raw) < limit:
        data = await read()
        if not data:
            break
        raw += data
    return bytes(raw[:limit])


def silence_error(url: str, timeouts: Timeouts, received: list[str]) -> NetworkError:
    """A timeout while waiting for the reply: no first byte yet, or a stall after part of it arrived."""
    if not received:
        return ResponseTimeout(f"no reply from {url} within {timeouts.first_byte:g}s")
    return StreamInterrupted(f"the reply stalled: nothing for {timeouts.idle:g}s", "".join(received))


class ReplyBudget:
    """What one reply may take in memory: its bytes (as decoded text: decompressed, UTF-8) are counted as they
    arrive, and past `limit` the reply fails with ReplyTooLarge, holding the text that came before."""

    def __init__(self, url: str, limit: int = DEFAULT_MAX_REPLY_BYTES) -> None:
        self.url = url
        self.limit = limit
        self.used = 0

    @property
    def room(self) -> int:
        """Bytes the reply may still bring."""
        return self.limit - self.used

    def spend(self, size: int, received: list[str]) -> None:
        self.used += size
        if self.used > self.limit:
            raise self.exceeded(received)

    def exceeded(self, received: list[str]) -> ReplyTooLarge:
        return ReplyTooLarge(
            f"the reply from {origin_of(self.url)} passed {self.limit} bytes, the most kept of one reply "
            "(--max-reply-bytes, AURA_MAX_REPLY_BYTES); the rest was not read", "".join(received))


async def decoded_text(
    read: Callable[[], Awaitable[bytes]],
    url: str,
    timeouts: Timeouts,
    broken: type[BaseException] | tuple[type[BaseException], ...],
    describe: Callable[[BaseException], str] = lambda exc: exc.__class__.__name__,
    limit: int = DEFAULT_MAX_REPLY_BYTES,
) -> AsyncGenerator[str, None]:
    """A reply's text as `read` gets its bytes (b"" at its end, decompressed), decoded as UTF-8 across chunk borders.

    Silence past the first-byte or idle timeout, or a `broken` connection, raises with the text so far; so
    does a reply longer than `limit` bytes (ReplyTooLarge): the text so far is all that is kept of it.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    budget = ReplyBudget(url, limit)
    received: list[str] = []
    while True:
        try:
            async with asyncio.timeout(timeouts.first_byte if not received else timeouts.idle):
                data = await read()
        except asyncio.TimeoutError:
            raise silence_error(url, timeouts, received) from None
        except broken as exc:
            raise StreamInterrupted(
                f"the connection to {origin_of(url)} broke mid-reply ({describe(exc)})", "".join(received)
            ) from None
        if len(data) > budget.room:  # what fits is still handed over, then the reply fails
            text = decoder.decode(data[:budget.room])
            if text:
                received.append(text)
                yield text
            raise budget.exceeded(received)
        budget.spend(len(data), received)
        text = decoder.decode(data, final=not data)
        if text:
            received.append(text)
            yield text
        if not data:
            return
