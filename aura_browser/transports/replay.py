"""Replaying the browser's POST /api/chat without a browser: what direct (aiohttp) and impersonate (curl_cffi) share.

`ReplayTransport` is their skeleton: the headers the profile's browser sent, opening the reply, the loop that
streams its text, and the messages of a connection that failed. A subclass says how its HTTP client sends a
request (`_send`), stops a reply (`_end`) and what its connection errors mean (`_unreached`).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from codecs import utf_8_decode
from typing import Any, AsyncGenerator, Awaitable, Callable, ClassVar, Mapping

from ..environment import DEFAULT_MAX_REPLY_BYTES
from ..errors import NetworkError, SiteDown, StreamInterrupted
from ..origin import join, origin_of
from ..profile import Profile
from ..redaction import redact_url
from ..wire.api import CHAT_PATH, encode_body
from ..wire.headers import replay_headers
from ..wire.replies import error_for_reply, is_text_stream
from .base import StreamStats, Timeouts
from .replies import ErrorReply, ReplyBudget, Silence, SilenceWatch, read_error_body, retry_delay, silence_error

log = logging.getLogger("aura_browser.replay")


class Reply:
    """A reply whose head has come, as the HTTP client gave it; its body is read with `read`."""

    __slots__ = ("status", "reason", "headers", "read", "response")

    def __init__(self, status: int, reason: str, headers: Mapping[str, str], read: Callable[[], Awaitable[bytes]],
                 response: Any) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers  # looked up by lower-case name
        self.read = read  # the next bytes of the body, decompressed; b"" at its end
        self.response = response  # the HTTP client's own


class ReplayTransport(ABC):
    """Shared by concurrent streams: one HTTP session, whichever profile (and proxy) each request sends."""

    name: ClassVar[str]
    # What the HTTP client raises when the connection fails (before the reply: `_unreached`; after: mid-reply).
    broken: ClassVar[type[BaseException]]

    def __init__(self, *, timeouts: Timeouts = Timeouts(), insecure: bool = False,
                 max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES) -> None:
        self.timeouts = timeouts
        self.insecure = insecure
        self.max_reply_bytes = max_reply_bytes
        self._silence_watch: SilenceWatch | None = None  # the timeouts of every reply, made in the loop using them

    @abstractmethod
    async def _send(self, profile: Profile, url: str, data: bytes, headers: list[tuple[str, str]]) -> Reply:
        """POST `data` to `url` with exactly `headers`, through the profile's proxy; no redirect followed, no cookie
        kept. Returns once the reply's head has come; raises `broken` when the connection fails."""
        raise NotImplementedError

    @abstractmethod
    async def _end(self, reply: Reply, complete: bool) -> None:
        """Done with `reply`: read to its end (`complete`, its connection may serve another request), or not (its
        transfer is stopped and its connection closed)."""
        raise NotImplementedError

    @abstractmethod
    def _unreached(self, url: str, proxy: str | None, exc: BaseException) -> NetworkError:
        """What a connection that failed before the reply means, in this module's words."""
        raise NotImplementedError

    @staticmethod
    def _describe(exc: BaseException) -> str:
        """A connection error as a mid-reply message names it."""
        return exc.__class__.__name__

    @staticmethod
    def _headers(profile: Profile, url: str, data: bytes | None) -> list[tuple[str, str]]:
        return replay_headers(
            profile.header_order, profile.headers, profile.user_agent, profile.cookies_for(url),
            None if data is None else len(data),
        )

    async def stream(self, profile: Profile, body: dict[str, Any], stats: StreamStats | None = None) -> AsyncGenerator[str, None]:
        """As Transport.stream: the reply's text, decoded as UTF-8 across chunk borders.

        Silence past the first-byte or idle timeout, or a broken connection, raises with the text so far; so does a
        reply longer than `max_reply_bytes` (ReplyTooLarge): the text so far is all that is kept of it.
        """
        # One generator, the loop written out: each chunk of every stream passes here (B4 in docs/performance.md).
        url = join(profile.base_url, CHAT_PATH)
        timeouts, broken = self.timeouts, self.broken
        watch = self._silence_watch
        if watch is None or watch.loop is not asyncio.get_running_loop():
            watch = self._silence_watch = SilenceWatch()
        silence = Silence(timeouts, watch)
        complete = False
        reply: Reply | None = None
        try:
            reply = await self._open(profile, url, encode_body(body), silence)
            read = reply.read
            undecoded = b""  # the start of a character cut at a chunk's end (as codecs' incremental decoder keeps it)
            room = self.max_reply_bytes  # bytes the reply may still bring (ReplyBudget's count, kept here)
            received: list[str] = []
            while True:
                silence.waiting()
                try:
                    data = await read()
                except asyncio.CancelledError:
                    if silence.expired():
                        raise silence_error(url, timeouts, received) from None
                    raise
                except broken as exc:
                    raise StreamInterrupted(f"the connection to {origin_of(url)} broke mid-reply "
                                            f"({self._describe(exc)})", "".join(received)) from None
                silence.woke()
                if len(data) > room:  # what fits is still handed over, then the reply fails
                    text, _ = utf_8_decode(undecoded + data[:room], "replace", False)
                    if text:
                        received.append(text)
                        yield text
                    raise ReplyBudget(url, self.max_reply_bytes).exceeded(received)
                room -= len(data)
                pending = undecoded + data
                text, used = utf_8_decode(pending, "replace", not data)
                undecoded = pending[used:]
                if text:
                    if not received:
                        silence.timeout = timeouts.idle
                    received.append(text)
                    yield text
                if not data:
                    complete = True
                    return
        finally:
            silence.stop()
            if reply is not None:
                await self._end(reply, complete)

    async def _open(self, profile: Profile, url: str, data: bytes, silence: Silence) -> Reply:
        """Send the request until it gives a text stream, within the first-byte timeout: a 429 before any text is
        retried once after the wait it asks for (when retry_delay allows it); any other reply is raised as what
        it is."""
        for attempt in (1, 2):
            silence.waiting()
            try:
                reply = await self._send(profile, url, data, self._headers(profile, url, data))
                if is_text_stream(reply.status, reply.headers):
                    silence.woke()
                    return reply
                try:
                    raw = await read_error_body(reply.read)
                finally:
                    await self._end(reply, complete=False)
            except asyncio.CancelledError:
                if silence.expired():
                    raise silence_error(url, self.timeouts, []) from None
                raise
            except self.broken as exc:
                raise self._unreached(url, profile.proxy, exc) from None
            silence.woke()
            refused = ErrorReply(reply.status, reply.reason, reply.headers, raw.decode("utf-8", "replace"))
            delay = retry_delay(refused.status, refused.headers, self.timeouts) if attempt == 1 else None
            if delay is None:
                break
            log.info("429 from %s; retrying once in %.1fs", origin_of(url), delay)
            await asyncio.sleep(delay)
        raise error_for_reply(url, refused.status, refused.reason, refused.headers, refused.body)

    async def aclose(self) -> None:
        """Close the session and its connections."""
        if self._silence_watch is not None:
            self._silence_watch.close()
        await self._close_client()

    @abstractmethod
    async def _close_client(self) -> None:
        """Close the HTTP client's session and its connections."""


# Why a replayed request got no reply, the same words whichever HTTP client sent it.

def untrusted_certificate(url: str) -> NetworkError:
    return NetworkError(f"TLS certificate of {origin_of(url)} is not trusted; pass --insecure to accept it")


def failed_handshake(url: str) -> NetworkError:
    return NetworkError(f"TLS handshake with {origin_of(url)} failed; if it uses a self-signed certificate, pass --insecure")


def unreachable_proxy(proxy: str | None) -> SiteDown:
    return SiteDown(f"cannot reach the proxy {redact_url(proxy or '')}")


def unreachable(url: str, reason: str) -> SiteDown:
    return SiteDown(f"cannot reach {url}: {reason}")


def closed_before_reply(url: str, what: str) -> NetworkError:
    return NetworkError(f"{origin_of(url)} closed the connection before replying ({what})")
