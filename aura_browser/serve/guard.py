"""Which requests `serve` answers at all: the Host, Origin and Content-Type checks that keep web pages out.

A page the user visits can POST to 127.0.0.1 without a CORS preflight when its body is text/plain or a
form, and with DNS rebinding (its own host name pointed at 127.0.0.1) it can read the answers too.
So the Host must name this server, an Origin (which browsers send and other clients don't) must be
this server's own or one the user allowed, and a body must be declared JSON, which a page can only
send cross-origin after a preflight that we answer only for allowed origins.
"""

from __future__ import annotations

import re
from typing import Any, Awaitable, Callable, Iterable

from aiohttp import web

from ..errors import InvalidRequest

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# host or [IPv6], then an optional port: nothing else (a Host like "evil@127.0.0.1" is not one of ours)
_HOST_HEADER = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?")
_ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?")
BODY_METHODS = ("POST", "PUT", "PATCH")
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Refusal = Callable[[int, str, str], web.Response]


def host_name(value: str) -> str | None:
    """`Example.com:8000` -> `example.com`, `[::1]:8000` -> `::1`; None when it is not a plain host[:port]."""
    match = _HOST_HEADER.fullmatch(value.strip())
    if match is None:
        return None
    return match.group(1).strip("[]").lower()


def check_cors_origin(value: str) -> str:
    """An origin as browsers send it (`https://app.example:8443`, no path); refuses anything else."""
    origin = value.strip().rstrip("/")
    if not _ORIGIN.fullmatch(origin):
        raise InvalidRequest(f"--cors-origin {value!r} must look like http(s)://host[:port]")
    return origin.lower()


class RequestGuard:
    """The names this server answers to and the origins allowed to call it, as an aiohttp middleware."""

    def __init__(self, bound_host: str, allow_hosts: Iterable[str] = (), cors_origins: Iterable[str] = ()) -> None:
        names = [*LOOPBACK_NAMES, bound_host, *allow_hosts]
        self.hosts = frozenset(name.strip().strip("[]").lower() for name in names if name.strip())
        self.cors_origins = frozenset(check_cors_origin(origin) for origin in cors_origins)

    def host_allowed(self, request: web.Request) -> bool:
        given = request.headers.getall("Host", [])
        if not given:
            return True  # HTTP/1.0 without Host: not a browser, which always sends one
        if len(given) > 1:
            return False
        name = host_name(given[0])
        if name is None:
            return False
        # The address the request arrived on is ours too (a LAN address when bound to 0.0.0.0).
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        local = str(sockname[0]).lower() if sockname else None
        return name in self.hosts or name == local

    def origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not sent by a browser page (curl, the openai package)
        origin = origin.strip().lower()
        if origin in self.cors_origins:
            return True
        # The server's own origin: the Host was checked already, so this is not a rebound name.
        return origin == f"{request.scheme}://{request.headers.get('Host', '').strip().lower()}"

    def middleware(self, refuse: Refusal) -> Any:
        """Refusals are answered with `refuse(status, message, code)` before any handler or key check runs."""

        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            if not self.host_allowed(request):
                return refuse(403, "this server does not answer to that Host; a reverse proxy in front of it "
                                   "needs `serve --allow-host NAME`", "host_not_allowed")
            if not self.origin_allowed(request):
                return refuse(403, "requests from web pages of other origins are refused; allow one with "
                                   "`serve --cors-origin ORIGIN`", "origin_not_allowed")
            if request.method == "OPTIONS" and "Origin" in request.headers:
                return web.Response(status=204, headers={**self.cors_headers(request), **PREFLIGHT_HEADERS})
            if request.method in BODY_METHODS and request.content_type != "application/json":
                return refuse(415, "send the body as JSON, with 'Content-Type: application/json'",
                              "unsupported_media_type")
            return await handler(request)

        return guard

    def cors_headers(self, request: web.Request) -> dict[str, str]:
        origin = request.headers.get("Origin", "").strip().lower()
        if origin not in self.cors_origins:
            return {}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    async def add_cors_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        """An on_response_prepare hook, so streamed replies carry the CORS headers as well."""
        response.headers.update(self.cors_headers(request))
