"""URLs: a site's origin, joining paths onto a base URL, checking a base URL or proxy URL."""

from __future__ import annotations

import functools
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from .errors import InvalidRequest
from .redaction import redact_url

_DEFAULT_PORTS = {"http": 80, "https": 443}
PROXY_SCHEMES = ("http", "https", "socks5")


def _split(url: str) -> SplitResult | None:
    """urlsplit, or None for what cannot be a URL (a bad IPv6 literal, a port out of range)."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        return None
    return parts


def normalise_base_url(url: str) -> str:
    """`https://host/` -> `https://host`; refuses what is not an http(s) URL."""
    parts = _split(url)
    if parts is None or parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise InvalidRequest(f"base URL {redact_url(url)!r} must look like https://host[:port][/path]")
    if parts.username is not None or parts.password is not None:
        raise InvalidRequest(f"base URL {redact_url(url)!r} holds a user name or password; leave them out: "
                             "the site's login is the browser's, and a URL's credentials end up in logs")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def check_proxy(proxy: str) -> str:
    """A proxy URL the browser and aiohttp both take; refuses anything else without showing its password."""
    parts = _split(proxy)
    if parts is None or parts.scheme not in PROXY_SCHEMES or not parts.hostname:
        raise InvalidRequest(f"proxy {redact_url(proxy)!r} must look like http://[user:password@]host:port")
    if "@" in parts.path or "@" in parts.query or "@" in parts.fragment:
        # `http://user:1234/SECRET@host:1` is host `user`, port 1234 to every parser: a password with a bare `/`.
        raise InvalidRequest(f"proxy {redact_url(proxy)!r} has an '@' after its host, so its user and password "
                             "cannot be told apart from the host; percent-encode '/', '?', '#' and '@' in them "
                             "(%2F, %3F, %23, %40)")
    return proxy.strip()


def proxy_server(proxy: str) -> str:
    """`http://user:secret@host:3128` -> `http://host:3128`: the proxy as a browser is told it, without credentials."""
    parts = urlsplit(proxy)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def proxy_credentials(proxy: str) -> tuple[str, str] | None:
    """(user, password) of a proxy URL, percent-decoded as a browser must be given them; None without a user."""
    parts = urlsplit(proxy)
    if not parts.username:
        return None
    return unquote(parts.username), unquote(parts.password or "")


@functools.lru_cache(maxsize=256)  # asked several times per request, of the same few URLs
def origin_of(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port or _DEFAULT_PORTS.get(scheme)
    if port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def join(base_url: str, path: str) -> str:
    """Resolve a page-relative path ("api/chat") the way the page's own fetch() does."""
    return f"{base_url.rstrip('/')}/{path}"
