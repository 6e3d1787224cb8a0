"""The headers a replayed request carries: the browser's names, case, values and order, and nothing else.

A gate can compare a request's header order, case and Accept-Encoding with the user agent it claims, so the
replays (direct, impersonate) send exactly what the profile's browser sent on a same-origin fetch.
"""

from __future__ import annotations

import functools
from typing import Iterable

# Chromium's order on the wire for a same-origin fetch POST over HTTP/1.1 (tests/test_wire.py checks it
# against what the browser really sends). CDP and BiDi report request headers sorted by name, so a capture
# sees which headers were sent, and their case, but not their order: this table puts them back in it.
CHROMIUM_ORDER = (
    "Host",
    "Connection",
    "Content-Length",
    "sec-ch-ua-platform",
    "User-Agent",
    "sec-ch-ua",
    "Content-Type",
    "sec-ch-ua-mobile",
    "Accept",
    "Origin",
    "Sec-Fetch-Site",
    "Sec-Fetch-Mode",
    "Sec-Fetch-Dest",
    "Referer",
    "Accept-Encoding",
    "Accept-Language",
    "Cookie",
)
_RANK = {name.lower(): rank for rank, name in enumerate(CHROMIUM_ORDER)}
_CASE = {name.lower(): name for name in CHROMIUM_ORDER}
# What Chromium has sent since version 123; used for a profile captured before Accept-Encoding was kept.
CHROMIUM_ACCEPT_ENCODING = "gzip, deflate, br, zstd"
# Written by the HTTP client itself (Host from the URL; Content-Length from the body), at the browser's place.
_CLIENT_WRITES = {"host"}


def wire_order(names: Iterable[str]) -> list[str]:
    """Captured header names (their case kept) in the order Chromium sends them; names it does not know
    keep their captured order, after the known ones. HTTP/2 pseudo-headers (`:path`...) are left out."""
    captured = [name for name in names if not name.startswith(":")]
    known = sorted((name for name in captured if name.lower() in _RANK), key=lambda name: _RANK[name.lower()])
    return known + [name for name in captured if name.lower() not in _RANK]


def replay_headers(
    order: list[str],
    captured: dict[str, str],
    user_agent: str,
    cookies: dict[str, str],
    body_length: int | None,
) -> list[tuple[str, str]]:
    """(name, value) pairs in the browser's order and case.

    `order` is the profile's header_order (empty for a profile from before it was recorded: Chromium's order
    then); `captured` the profile's headers, names lower case. `body_length` None means a request without a body.
    """
    pairs, length_at = _ordered(tuple(order), tuple(captured.items()), user_agent, tuple(cookies.items()),
                                body_length is not None)
    headers = list(pairs)
    if length_at is not None:
        headers[length_at] = (headers[length_at][0], str(body_length))
    return headers


@functools.lru_cache(maxsize=64)  # the same profile's, before every request: only the body's length changes
def _ordered(order: tuple[str, ...], captured: tuple[tuple[str, str], ...], user_agent: str,
             cookies: tuple[tuple[str, str], ...], with_body: bool) -> tuple[tuple[tuple[str, str], ...], int | None]:
    """replay_headers' pairs, and where Content-Length stands, its value to be filled in (None without a body)."""
    place, case, connection = _places(order)
    values = dict(captured)
    values["user-agent"] = user_agent
    values.setdefault("accept-encoding", CHROMIUM_ACCEPT_ENCODING)
    if connection:
        values["connection"] = "keep-alive"
    if with_body:
        values["content-type"] = "application/json"
        values["content-length"] = ""
    if cookies:
        values["cookie"] = "; ".join(f"{name}={value}" for name, value in cookies)
    for name in _CLIENT_WRITES:
        values.pop(name, None)
    pairs = [(case[name], values[name]) for name in sorted((name for name in values if name in place), key=place.__getitem__)]
    # Values the recorded order does not name (Cookie, when the capture had none yet) go last, as Cookie does.
    pairs += [(_CASE.get(name, name), value) for name, value in values.items() if name not in place]
    length_at = next(i for i, (name, _) in enumerate(pairs) if name.lower() == "content-length") if with_body else None
    return tuple(pairs), length_at


@functools.lru_cache(maxsize=64)  # a profile's order, asked before every request
def _places(order: tuple[str, ...]) -> tuple[dict[str, int], dict[str, str], bool]:
    """For a header order (Chromium's when empty): each lower-case name's place and case (where it first stands),
    and whether the request sends Connection. The dicts are shared: read them only."""
    place: dict[str, int] = {}
    case: dict[str, str] = {}
    for name in order or CHROMIUM_ORDER:
        lower = name.lower()
        if lower not in place:
            place[lower] = len(place)
            case[lower] = name
    return place, case, not order or "connection" in place
