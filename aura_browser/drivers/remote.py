"""Browsers that run somewhere else: checking the endpoint, and which driver speaks its protocol.

`--browser-ws` (a Playwright browser server) and `--cdp-url` (Chromium's remote debugging) are
Playwright's; `--remote-webdriver` (Selenium Grid, chromedriver) is Selenium's.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol
from urllib.parse import urlsplit

from ..errors import InvalidRequest, named
from ..redaction import redact_url


class Endpoints(Protocol):
    """Where a remote browser is, if anywhere: `LaunchOptions`, and `Settings` too (which need no driver module)."""

    @property
    def browser_ws(self) -> str | None: ...
    @property
    def cdp_url(self) -> str | None: ...
    @property
    def remote_webdriver(self) -> str | None: ...


class RemoteKind(NamedTuple):
    field: str  # the LaunchOptions (and Settings) field
    option: str  # the CLI option
    schemes: tuple[str, ...]
    driver: str


REMOTE_KINDS = (
    RemoteKind("browser_ws", "--browser-ws", ("ws", "wss"), "playwright"),
    RemoteKind("cdp_url", "--cdp-url", ("http", "https", "ws", "wss"), "playwright"),
    RemoteKind("remote_webdriver", "--remote-webdriver", ("http", "https"), "selenium"),
)


def remote_endpoint(options: Endpoints) -> RemoteKind | None:
    """The kind of remote browser `options` name, if any (the driver choice is `drivers.choose_driver`'s).

    Raises InvalidRequest for two endpoints at once, or a malformed one.
    """
    given = [kind for kind in REMOTE_KINDS if getattr(options, kind.field)]
    if not given:
        return None
    if len(given) > 1:
        raise InvalidRequest(f"{' and '.join(named(kind.field) for kind in given)} exclude each other; give one")
    kind = given[0]
    url = getattr(options, kind.field)
    parts = urlsplit(url)
    if parts.scheme not in kind.schemes or not parts.hostname:
        raise InvalidRequest(
            f"{named(kind.field)} {redact_url(url)!r} must look like {kind.schemes[0]}://host:port[/path]"
        )
    return kind
