"""The impersonate transport: replay POST /api/chat with curl_cffi, whose libcurl shakes hands like Chrome.

A gate that fingerprints TLS (JA3/JA4) or HTTP/2 settings tells aiohttp from a browser; curl_cffi sends the
ClientHello, ALPN (h2 first) and HTTP/2 frames of a real Chrome version, so the profile's cookie, user agent
and headers are replayed with no browser. The Chrome target is the one nearest the profile's Chrome major.
"""

from __future__ import annotations

import functools
import logging
import re

from ..environment import DEFAULT_MAX_REPLY_BYTES, env_name
from ..errors import InvalidRequest, NetworkError
from ..profile import Profile
from ..wire.replies import proxy_refused
from . import replay
from .base import Timeouts
from .curl_transfers import CurlTransfers, HandleConfig, header_lines
from .replay import ReplayTransport, Reply

log = logging.getLogger("aura_browser.impersonate")

_CHROME_TARGET = re.compile(r"^chrome(\d+)$")
_CHROME_MAJOR = re.compile(r"Chrome/(\d+)")

# curl error codes (CurlECode), by what they mean to the user.
_CANNOT_RESOLVE, _CANNOT_CONNECT = 6, 7
_PROXY_FAILURES = {5, 97}  # COULDNT_RESOLVE_PROXY, PROXY
_CERTIFICATE = {51, 60, 77}  # PEER_FAILED_VERIFICATION, SSL_CACERT, SSL_CACERT_BADFILE
_HANDSHAKE = {35}  # SSL_CONNECT_ERROR
_TIMED_OUT = 28
# How libcurl says a proxy refused the tunnel for want of the right password (its message names the URL's port too).
_PROXY_REFUSED = re.compile(r"\bresponse 407\b")


@functools.cache  # asked before every request; curl_cffi's targets are fixed once it is imported
def chrome_targets() -> tuple[tuple[int, str], ...]:
    """(major, name) of every plain Chrome target this curl_cffi can impersonate, oldest first."""
    from curl_cffi import BrowserType

    found = {int(m.group(1)): b.value for b in BrowserType if (m := _CHROME_TARGET.match(b.value))}
    return tuple(sorted(found.items()))


def profile_chrome_major(profile: Profile) -> int | None:
    major = profile.browser_version.split(".")[0]
    if major.isdigit():
        return int(major)
    found = _CHROME_MAJOR.search(profile.user_agent)
    return int(found.group(1)) if found else None


def known_targets() -> list[str]:
    """Every target name this curl_cffi impersonates: its browser versions, its aliases of the newest ones and
    its named fingerprints."""
    from curl_cffi import BrowserType
    from curl_cffi.fingerprints import FingerprintManager
    from curl_cffi.requests.impersonate import REAL_TARGET_MAP

    try:  # the fingerprints curl_cffi ships, and those its user saved
        named = set(FingerprintManager.load_fingerprints())
    except Exception as exc:  # an unreadable file of the user's: its names are not targets then
        log.debug("curl_cffi's named fingerprints: %s", exc.__class__.__name__)
        named = set()
    return sorted({b.value for b in BrowserType} | set(REAL_TARGET_MAP) | named)


def check_target(chosen: str) -> str:
    """The `impersonate` setting (AURA_IMPERSONATE), checked: a target curl_cffi knows.

    A name it does not know is the user's mistake, not the site's: InvalidRequest, naming the targets.
    """
    targets = known_targets()
    if chosen not in targets:
        raise InvalidRequest(f"{env_name('impersonate')}={chosen!r} is not a target curl_cffi can impersonate; "
                             f"use one of {', '.join(targets)}, or leave it empty for the Chrome nearest the profile's")
    return chosen


def target_for(profile: Profile, chosen: str | None = None) -> str:
    """The curl_cffi target to impersonate: `chosen` (the `impersonate` setting), else the Chrome target nearest the
    profile's Chrome major (the newer one on a tie), else the newest Chrome target."""
    if chosen:
        return check_target(chosen)
    targets = chrome_targets()
    major = profile_chrome_major(profile)
    if major is None:
        return targets[-1][1]
    return min(targets, key=lambda target: (abs(target[0] - major), -target[0]))[1]


class ImpersonateTransport(ReplayTransport):
    """Shared by concurrent streams: one libcurl multi handle, whichever profile (and proxy) each request sends."""

    name = "impersonate"
    broken = OSError  # every curl_cffi request error is one

    def __init__(self, *, timeouts: Timeouts = Timeouts(), insecure: bool = False,
                 max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES, target: str | None = None) -> None:
        super().__init__(timeouts=timeouts, insecure=insecure, max_reply_bytes=max_reply_bytes)
        # The `impersonate` setting, checked once here rather than before every request: None, the Chrome nearest
        # each profile's.
        self.target = check_target(target) if target else None
        self._session: CurlTransfers | None = None  # one libcurl multi handle, shared by concurrent streams
        self._announced: str | None = None

    def _client(self) -> CurlTransfers:
        if self._session is None:
            self._session = CurlTransfers(self.timeouts.connect)
        return self._session

    def _target(self, profile: Profile) -> str:
        target = self.target or target_for(profile)
        if target != self._announced:
            self._announced = target
            log.info("impersonating %s (curl_cffi) for a profile of Chrome %s", target,
                     profile_chrome_major(profile) or "?")
        return target

    async def _send(self, profile: Profile, url: str, data: bytes, headers: list[tuple[str, str]]) -> Reply:
        """A streamed request; cancelled before its reply's head (a first-byte timeout, Ctrl-C), its transfer stops."""
        encoding = next((value for name, value in headers if name.lower() == "accept-encoding"), None)
        config = HandleConfig(self._target(profile), url.partition(":")[0], profile.proxy, not self.insecure, encoding)
        transfer = await self._client().start(config, url, data, header_lines(headers, bool(data)),
                                              self.max_reply_bytes)
        status, reason, head = transfer.status()
        return Reply(status, reason, head, transfer.read, transfer)

    async def _end(self, reply: Reply, complete: bool) -> None:
        """A complete transfer ended by itself (its handle may already serve another request); any other is
        stopped: its connection is closed, not read to the end."""
        if not complete and self._session is not None:
            self._session.stop(reply.response)

    def _unreached(self, url: str, proxy: str | None, exc: BaseException) -> NetworkError:
        code = int(getattr(exc, "code", 0) or 0)
        if _PROXY_REFUSED.search(str(exc)):
            return proxy_refused()
        if code in _PROXY_FAILURES or exc.__class__.__name__ == "ProxyError":
            return replay.unreachable_proxy(proxy)
        if code == _CANNOT_CONNECT:
            return replay.unreachable(url, "Connection refused")
        if code == _CANNOT_RESOLVE:
            return replay.unreachable(url, "the name does not resolve")
        if code in _CERTIFICATE:
            return replay.untrusted_certificate(url)
        if code in _HANDSHAKE:
            return replay.failed_handshake(url)
        if code == _TIMED_OUT:
            return replay.unreachable(url, f"timed out connecting after {self.timeouts.connect:g}s")
        return replay.closed_before_reply(url, self._describe(exc))

    @staticmethod
    def _describe(exc: BaseException) -> str:
        code = getattr(exc, "code", None)
        return f"curl error {int(code)}" if code else exc.__class__.__name__

    async def _close_client(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.aclose()
