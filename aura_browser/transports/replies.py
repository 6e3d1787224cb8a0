"""Turning a reply that is not a text stream into the right exception, the same for every transport."""

from __future__ import annotations

from typing import Mapping

from ..errors import AuraError, Blocked, NotThisApp, SiteDown, SiteError
from ..gate import PageKind, classify_reply
from ..origin import origin_of

STANDARD_REASONS = {"OK", "Internal Server Error", "Forbidden", "Not Found", "Service Unavailable", "Bad Gateway"}


def is_text_stream(status: int, headers: Mapping[str, str]) -> bool:
    """A chat reply is 200 with no Content-Type (or a text/plain one); HTML means something else answered."""
    return status == 200 and "text/html" not in headers.get("content-type", "").lower()


def error_for_reply(url: str, status: int, reason: str, headers: Mapping[str, str], body: str) -> AuraError:
    kind = classify_reply(status, headers, body)
    site = origin_of(url)
    if kind is PageKind.CHALLENGE:
        return Blocked(f"{site} answered {status} with an anti-bot challenge")
    if kind is PageKind.BLOCKED:
        return Blocked(f"{site} answered {status} with a block page")
    if kind is PageKind.DISABLED:
        return SiteDown(f"{site}: This Deployment has been disabled")
    if status == 200 or status in (404, 405) or kind is PageKind.APP:
        return NotThisApp(status, reason, f"{url} is not an OpenChat UI chat endpoint")
    shown_reason = "" if reason in STANDARD_REASONS else reason
    detail = body.strip().splitlines()[0][:200] if body.strip() else ""
    if status == 500 and detail == "Error":
        detail = "the app could not answer (bad request, unknown model, or its upstream is down)"
    return SiteError(status, shown_reason, detail)
