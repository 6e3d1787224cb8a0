"""Text fit to print or log: URLs with their credentials and query values hidden, control characters escaped.

Messages quote URLs the user gave (a proxy, a --browser-ws endpoint) and ones libraries or sites
wrote (Playwright's errors repeat the endpoint, a redirect names its target); any of them can
carry a password or token. They also quote what a site said (an error body, a reason phrase, a
page title), which can hold terminal escape sequences. Every AuraError message, every log line
and every doctor row goes through `printable`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# scheme://, then anything up to white space or a quote; trailing punctuation is the sentence's, not the URL's
# (Patterns as text: `re` compiles and caches them at first use, so `import aura_browser` and `--help` do not pay.)
_URL_IN_TEXT = r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+"
_TRAILING = ".,;:!?)]}"
FORMAT_HINT = "[user:password@]"  # as in "must look like http://[user:password@]host:port": not a secret


def redact_url(url: str) -> str:
    """A URL fit to print: `http://user:secret@proxy:8080/x?token=T` -> `http://user:***@proxy:8080/x?token=***`.

    A user name without a password is hidden too (`http://TOKEN@proxy` -> `http://***@proxy`): a lone
    user name is how many services pass a token. Every query value is hidden (the names stay), and so is a fragment.
    An `@` after the host (`http://user:1234/SECRET@proxy:1`, a password with an unencoded `/`) may end a
    userinfo that the parser took for a host and a path: everything before the last `@` is hidden.
    """
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        parts = None
    if parts is None:
        return "<not a URL>" if "@" in url or "?" in url else url
    if "@" in parts.path:
        return redact_url(f"{parts.scheme}://***@{url.strip().rpartition('@')[2]}") if parts.scheme else "<not a URL>"
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


# C0 and C1 controls, DEL, and the bidirectional overrides and isolates that reorder what a terminal shows
_UNPRINTABLE = "[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"


def printable(text: str) -> str:
    """`text` with its URLs redacted and every control character shown as an escape (`\\x1b`), on one line."""
    return re.sub(_UNPRINTABLE, _escape, redact_text(text))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def redact_text(text: str) -> str:
    """Every URL in `text` passed through `redact_url`."""
    return re.sub(_URL_IN_TEXT, _redact_match, text)


def _redact_match(match: re.Match[str]) -> str:
    url = match.group(0)
    if FORMAT_HINT in url:
        return url
    kept = len(url.rstrip(_TRAILING))
    return redact_url(url[:kept]) + url[kept:]
