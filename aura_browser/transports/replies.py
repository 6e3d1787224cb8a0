"""Turning a reply that is not a text stream into the right exception, the same for every transport."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Mapping

from ..errors import (
    AuraError, Blocked, DeploymentDisabled, NetworkError, NotThisApp, ResponseTimeout, SiteError, StreamInterrupted,
)
from ..gate import PageKind, classify_reply
from ..origin import origin_of
from .base import Timeouts

STANDARD_REASONS = {
    "OK", "Internal Server Error", "Forbidden", "Not Found", "Service Unavailable", "Bad Gateway", "Too Many Requests",
}
MAX_RETRY_AFTER = 30.0  # a 429 asking for a longer wait is not retried: the error says how long instead


def retry_after(headers: Mapping[str, str]) -> float:
    """Seconds a 429's Retry-After asks for (delta-seconds or an HTTP date); 1 when absent or unreadable."""
    value = (headers.get("retry-after") or "").strip()  # aiohttp's headers ignore case; the page's are lower case
    if not value:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 1.0


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


def error_for_reply(url: str, status: int, reason: str, headers: Mapping[str, str], body: str) -> AuraError:
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
        wait = retry_after(headers)
        detail = f"rate limited; the site asks to wait {wait:.0f}s" if wait else "rate limited"
    if status == 500 and detail == "Error":
        detail = "the app could not answer (bad request, unknown model, or its upstream is down)"
    return SiteError(status, shown_reason, detail)


def silence_error(url: str, timeouts: Timeouts, received: list[str]) -> NetworkError:
    """A timeout while waiting for the reply: no first byte yet, or a stall after part of it arrived."""
    if not received:
        return ResponseTimeout(f"no reply from {url} within {timeouts.first_byte:g}s")
    return StreamInterrupted(f"the reply stalled: nothing for {timeouts.idle:g}s", "".join(received))
