"""URLs: a site's origin, joining paths onto a base URL, and hiding passwords in URLs."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit, urlunsplit

from .errors import InvalidRequest

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
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def check_proxy(proxy: str) -> str:
    """A proxy URL the browser and aiohttp both take; refuses anything else without showing its password."""
    parts = _split(proxy)
    if parts is None or parts.scheme not in PROXY_SCHEMES or not parts.hostname:
        raise InvalidRequest(f"proxy {redact_url(proxy)!r} must look like http://[user:password@]host:port")
    return proxy.strip()


def proxy_server(proxy: str) -> str:
    """`http://user:secret@host:3128` -> `http://host:3128`: the proxy as a browser is told it, without credentials."""
    parts = urlsplit(proxy)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


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


def redact_url(url: str) -> str:
    """A URL fit to print: `http://user:secret@proxy:8080/x?token=T` -> `http://user:***@proxy:8080/x?token=***`.

    A user name without a password is hidden too (`http://TOKEN@proxy` -> `http://***@proxy`): a lone
    user name is how many services pass a token. Every query value is hidden (the names stay), and so is a fragment.
    """
    parts = _split(url)
    if parts is None:
        return "<not a URL>" if "@" in url or "?" in url else url
    if parts.username is None and parts.password is None and not parts.query and not parts.fragment:
        return url
    host = parts.netloc.rpartition("@")[2]
    if parts.password is not None:
        host = f"{parts.username}:***@{host}"
    elif parts.username is not None:
        host = f"***@{host}"
    query = "&".join(_redact_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    return urlunsplit((parts.scheme, host, parts.path, query, "***" if parts.fragment else ""))


def _redact_pair(pair: str) -> str:
    name, equals, value = pair.partition("=")
    if not equals:
        return "***" if name else name  # a bare value (`?TOKEN`) is a value too
    return f"{name}=***" if value else pair
