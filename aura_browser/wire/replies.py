"""What a reply means when it is not the app's text stream: a gate, a redirect, a rate limit, another site.

The same judgement for every transport and for the drivers' in-page requests; no I/O here.
"""

from __future__ import annotations

import math
import re
import time
from email.utils import parsedate_to_datetime
from typing import Mapping
from urllib.parse import urljoin

from ..errors import AuraError, Blocked, DeploymentDisabled, NetworkError, NotThisApp, Redirected, SiteError
from ..origin import origin_of
from ..redaction import redact_url

STANDARD_REASONS = {
    "OK", "Internal Server Error", "Forbidden", "Not Found", "Service Unavailable", "Bad Gateway", "Too Many Requests",
}

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


def is_text_stream(status: int, headers: Mapping[str, str]) -> bool:
    """A chat reply is 200 with no Content-Type (or a text/plain one); HTML means something else answered."""
    return status == 200 and "text/html" not in headers.get("content-type", "").lower()


def redirect_error(url: str, status: int, location: str | None) -> Redirected:
    """A redirect of the API, naming where it pointed (credentials and query values hidden)."""
    target = redact_url(urljoin(url, location.strip())) if location and location.strip() else None
    return Redirected(redact_url(url), status, target)


def proxy_refused() -> NetworkError:
    """A proxy that answered 407: the user or password in the profile's proxy URL is wrong (and is not shown)."""
    return NetworkError("the proxy refused its user or password (407); check them in --proxy")


def error_for_reply(url: str, status: int, reason: str, headers: Mapping[str, str], body: str) -> AuraError:
    if 300 <= status < 400:
        return redirect_error(url, status, headers.get("location"))
    from .page import PageKind, classify_reply  # (only a reply that is not the text stream needs the page rules)

    kind = classify_reply(status, headers, body)
    site = origin_of(url)
    if status == 407:  # only a proxy answers this
        return proxy_refused()
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
