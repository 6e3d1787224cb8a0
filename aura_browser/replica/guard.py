"""Who may change a running replica: its `/__replica__/` paths answer only this host's own clients.

A page the user visits could POST to the replica without a CORS preflight (a text/plain body), and with
DNS rebinding (its own host name pointed at 127.0.0.1) read the answers too. So, as `serve` does
(aura_browser/serve/guard.py), the Host must name this server, an Origin (which browsers send and other
clients don't) must be its own, and a body must be declared JSON. The replica imports nothing from the
rest of the package (tests/test_layers.py), so these are its own few lines, not serve's module.
The app's own paths stay as open as the real site's.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# host or [IPv6], then an optional port: nothing else (a Host like "evil@127.0.0.1" is not one of ours)
_HOST_HEADER = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?")




def _refuse(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def admin_guard(prefix: str, bound_host: str) -> Any:
    """A middleware that refuses requests to paths under `prefix` from web pages and foreign Host names."""
    names = frozenset(name.strip("[]").lower() for name in (*LOOPBACK_NAMES, bound_host) if name)

    def host_allowed(request: web.Request) -> bool:
        given = request.headers.getall("Host", [])
        if len(given) != 1:
            return not given  # HTTP/1.0 without Host is not a browser; two Hosts are nobody's
        match = _HOST_HEADER.fullmatch(given[0].strip())
        if match is None:
            return False
        name = match.group(1).strip("[]").lower()
        # The address the request arrived on is ours too (a LAN address when bound to 0.0.0.0).
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        return name in names or (sockname is not None and name == str(sockname[0]).lower())

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(prefix):
            return await handler(request)
        if not host_allowed(request):
            return _refuse(403, "the replica's control paths do not answer to that Host")
        origin = request.headers.get("Origin")
        if origin is not None and origin.strip().lower() != f"{request.scheme}://{request.host.lower()}":
            return _refuse(403, "the replica's control paths refuse requests from web pages of other origins")
        if request.method == "POST" and request.body_exists and request.content_type != "application/json":
            return _refuse(415, "send the body as JSON, with 'Content-Type: application/json'")
        return await handler(request)

    return guard
