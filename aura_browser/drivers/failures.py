"""How a browser's failures read in our one-line errors, the same for every driver."""

from __future__ import annotations

from ..errors import BrowserError, NetworkError, SiteDown
from ..wire.replies import error_for_reply

# What a navigation through a proxy fails with once the proxy has refused the browser's credentials (407).
PROXY_AUTH_FAILURES = ("net::ERR_HTTP_RESPONSE_CODE_FAILURE", "net::ERR_INVALID_AUTH_CREDENTIALS",
                       "net::ERR_PROXY_AUTH_UNSUPPORTED", "net::ERR_PROXY_AUTH_REQUESTED")


def first_line(error: BaseException | str) -> str:
    """The first line of an error's message: what a one-line error may quote of a driver's multi-line one.

    Selenium's exceptions keep their message in `msg` (their str() adds the stack trace); an error with no
    message at all is named by its class.
    """
    if isinstance(error, BaseException):
        text = getattr(error, "msg", None) or str(error) or error.__class__.__name__
    else:
        text = error
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def navigation_error(url: str, message: str, proxy: str | None = None) -> Exception:
    """Chromium's net::ERR_* codes, as our exceptions."""
    code = next((word for word in message.split() if word.startswith("net::ERR_")), "")
    if proxy and code in PROXY_AUTH_FAILURES:
        return error_for_reply(url, 407, "", {}, "")
    if "CERT" in code:
        return NetworkError(f"TLS certificate of {url} is not trusted ({code}); pass --insecure to accept it")
    if code:
        return SiteDown(f"cannot reach {url}: {code.removeprefix('net::')}")
    return BrowserError(f"browser failed to open {url}: {first_line(message)}")
