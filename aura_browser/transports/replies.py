"""Turning a reply that is not a text stream into the right exception, the same for every transport."""

from __future__ import annotations

import asyncio
import codecs
import logging
import math
import re
import time
from email.utils import parsedate_to_datetime
from typing import AsyncGenerator, Awaitable, Callable, Mapping, NamedTuple, TypeVar
from urllib.parse import urljoin

from ..errors import (
    AuraError, Blocked, DeploymentDisabled, NetworkError, NotThisApp, Redirected, ResponseTimeout, SiteError,
    StreamInterrupted,
)
from ..wire.page import PageKind, classify_reply
from ..origin import origin_of, redact_url
from .base import Timeouts

STANDARD_REASONS = {
    "OK", "Internal Server Error", "Forbidden", "Not Found", "Service Unavailable", "Bad Gateway", "Too Many Requests",
}
log = logging.getLogger("aura_browser.replies")
Stream = TypeVar("Stream")

MAX_RETRY_AFTER = 30.0  # a 429 asking for a longer wait is not retried: the error says how long instead


def asked_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds a 429's Retry-After asks for (delta-seconds or an HTTP date); None when absent or not a time.

    Delta-seconds are digits: "inf", "nan", "-5" or "1e999" are no wait at all, and neither is a number too big
    for a float.
    """
    value = (headers.get("retry-after") or "").strip()  # aiohttp's headers ignore case; the page's are lower case
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", value):
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def duration(seconds: float) -> str:
    """`3600s`; "more than a year" for anything longer (a Retry-After can be absurdly long)."""
    return f"{seconds:.0f}s" if seconds < 366 * 86400 else "more than a year"


def retry_after(headers: Mapping[str, str]) -> float:
    """How long to wait before retrying a 429: what it asks for; 1 second when it asks nothing readable."""
    wait = asked_wait(headers)
    return 1.0 if wait is None else wait


def retry_delay(status: int, headers: Mapping[str, str], timeouts: Timeouts) -> float | None:
    """How long to wait before the one retry of a reply that came before any text; None: do not retry.

    A wait longer than MAX_RETRY_AFTER, or than the first-byte timeout the caller allows, fails at once.
    """
    if status != 429:
        return None
    wait = retry_after(headers)
    return wait if wait <= min(MAX_RETRY_AFTER, timeouts.first_byte) else None


def is_text_stream(status: int, headers: Mapping[str, str]) -> bool:
    """A chat reply is 200 with no Content-Type (or a text/plain one); HTML means something else answered."""
    return status == 200 and "text/html" not in headers.get("content-type", "").lower()


def redirect_error(url: str, status: int, location: str | None) -> Redirected:
    """A redirect of the API, naming where it pointed (credentials and query values hidden)."""
    target = redact_url(urljoin(url, location.strip())) if location and location.strip() else None
    return Redirected(redact_url(url), status, target)


def error_for_reply(url: str, status: int, reason: str, headers: Mapping[str, str], body: str) -> AuraError:
    if 300 <= status < 400:
        return redirect_error(url, status, headers.get("location"))
    kind = classify_reply(status, headers, body)
    site = origin_of(url)
    if status == 407:  # only a proxy answers this
        return NetworkError("the proxy refused its user or password (407); check them in --proxy")
    if kind is PageKind.CHALLENGE:
        return Blocked(f"{site} answered {status} with an anti-bot challenge")
    if kind is PageKind.BLOCKED:
        return Blocked(f"{site} answered {status} with a block page")
    if kind is PageKind.DISABLED:
        return DeploymentDisabled(f"{site}: This Deployment has been disabled")
    if status == 200 or status in (404, 405) or kind is PageKind.APP:
        return NotThisApp(status, reason, f"{url} is not an OpenChat UI chat endpoint")
    shown_reason = "" if reason in STANDARD_REASONS else reason
    detail = body.strip().splitlines()[0][:200] if body.strip() else ""
    if status == 429:
        wait = asked_wait(headers)
        detail = f"rate limited; the site asks to wait {duration(wait)}" if wait else "rate limited"
    if status == 500 and detail == "Error":
        detail = "the app could not answer (bad request, unknown model, or its upstream is down)"
    return SiteError(status, shown_reason, detail)


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


def silence_error(url: str, timeouts: Timeouts, received: list[str]) -> NetworkError:
    """A timeout while waiting for the reply: no first byte yet, or a stall after part of it arrived."""
    if not received:
        return ResponseTimeout(f"no reply from {url} within {timeouts.first_byte:g}s")
    return StreamInterrupted(f"the reply stalled: nothing for {timeouts.idle:g}s", "".join(received))


async def decoded_text(
    read: Callable[[], Awaitable[bytes]],
    url: str,
    timeouts: Timeouts,
    broken: type[BaseException] | tuple[type[BaseException], ...],
    describe: Callable[[BaseException], str] = lambda exc: exc.__class__.__name__,
) -> AsyncGenerator[str, None]:
    """A reply's text as `read` gets its bytes (b"" at its end), decoded as UTF-8 across chunk borders.

    Silence past the first-byte or idle timeout, or a `broken` connection, raises with the text so far.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
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
        text = decoder.decode(data, final=not data)
        if text:
            received.append(text)
            yield text
        if not data:
            return
