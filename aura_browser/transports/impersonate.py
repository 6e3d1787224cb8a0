"""The impersonate transport: replay POST /api/chat with curl_cffi, whose libcurl shakes hands like Chrome.

A gate that fingerprints TLS (JA3/JA4) or HTTP/2 settings tells aiohttp from a browser; curl_cffi sends the
ClientHello, ALPN (h2 first) and HTTP/2 frames of a real Chrome version, so the profile's cookie, user agent
and headers are replayed with no browser. The Chrome target is the one nearest the profile's Chrome major.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import re
from typing import Any

from ..environment import DEFAULT_MAX_REPLY_BYTES, env_name
from ..errors import InvalidRequest, NetworkError
from ..profile import Profile
from ..wire.replies import proxy_refused
from . import replay
from .base import Timeouts
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
    """Shared by concurrent streams: one curl_cffi session, whichever profile (and proxy) each request sends."""

    name = "impersonate"
    broken = OSError  # every curl_cffi request error is one

    def __init__(self, *, timeouts: Timeouts = Timeouts(), insecure: bool = False,
                 max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES, target: str | None = None) -> None:
        super().__init__(timeouts=timeouts, insecure=insecure, max_reply_bytes=max_reply_bytes)
        # The `impersonate` setting, checked once here rather than before every request: None, the Chrome nearest
        # each profile's.
        self.target = check_target(target) if target else None
        self._session: Any = None  # one curl_cffi AsyncSession, shared by concurrent streams
        self._announced: str | None = None

    def _client(self) -> Any:
        from curl_cffi import CurlOpt

        if self._session is None:
            self._session = _session_class()(
                max_clients=256,  # transfers at once; handles are made as needed
                trust_env=False,  # the profile decides the proxy, as for direct
                curl_options={CurlOpt.CONNECTTIMEOUT_MS: int(self.timeouts.connect * 1000)},
            )
            self._session.reply_limit = self.max_reply_bytes
        return self._session

    def _target(self, profile: Profile) -> str:
        target = self.target or target_for(profile)
        if target != self._announced:
            self._announced = target
            log.info("impersonating %s (curl_cffi) for a profile of Chrome %s", target,
                     profile_chrome_major(profile) or "?")
        return target

    async def _send(self, profile: Profile, url: str, data: bytes, headers: list[tuple[str, str]]) -> Reply:
        """A streamed request; cancelled before its reply's head (a first-byte timeout, Ctrl-C), its transfer stops.

        curl_cffi leaves such a transfer running in the background otherwise, holding its connection open.
        """
        _started.set(None)
        try:
            response = await self._request(profile, url, data, headers)
        except asyncio.CancelledError:
            curl = _started.get()
            if curl is not None and self._session is not None:
                try:
                    self._session.acurl.remove_handle(curl)
                except Exception as exc:  # libcurl may refuse a handle it has just finished with
                    log.debug("stopping a transfer: %s", exc.__class__.__name__)
            raise
        headers_seen = {name.lower(): value for name, value in response.headers.items()}
        return Reply(response.status_code, response.reason or "", headers_seen, QueuedBody(response).read, response)

    async def _request(self, profile: Profile, url: str, data: bytes, headers: list[tuple[str, str]]) -> Any:
        encoding = next((value for name, value in headers if name.lower() == "accept-encoding"), None)
        return await self._client().request(
            "POST", url,
            data=data,
            headers=headers,
            default_headers=False,  # the profile's headers, not curl_cffi's idea of Chrome's
            accept_encoding=encoding,  # decode what the browser said it accepts
            impersonate=self._target(profile),
            proxy=profile.proxy,
            verify=not self.insecure,
            allow_redirects=False,
            http_version="v2tls",  # as Chrome: HTTP/2 where TLS offers it (ALPN h2 first), else HTTP/1.1, no h2c
            timeout=None,  # first-byte and idle timeouts are ours; the connect timeout is a curl option
            discard_cookies=True,  # cookies come from the profile, per request; nothing the site sets is kept
            stream=True,
        )

    async def _end(self, reply: Reply, complete: bool) -> None:
        """A complete transfer ended by itself (its curl handle may already serve another request); any other is
        stopped: its connection is closed, not read to the end."""
        if complete:
            return
        response = reply.response
        task, session = response.astream_task, self._session
        if task is None or task.done():
            return
        response.quit_now.set()
        if session is not None and response.curl is not None:
            try:
                session.acurl.remove_handle(response.curl)
            except Exception as exc:  # libcurl may refuse a handle it has just finished with
                log.debug("stopping a transfer: %s", exc.__class__.__name__)
        await asyncio.gather(asyncio.shield(task), return_exceptions=True)

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

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


# The curl handle the current task's request took from the session's pool: a ContextVar, since concurrent
# streams share one session.
_started: contextvars.ContextVar[Any] = contextvars.ContextVar("aura_impersonate_curl", default=None)


@functools.cache
def _session_class() -> type:
    """curl_cffi's AsyncSession, telling `_started` which curl handle a request took."""
    from curl_cffi.requests import AsyncSession

    class Session(AsyncSession):  # type: ignore[type-arg]  # (generic in its response class; ours is the default)
        reply_limit: int | None = None  # bytes a transfer may hand over before libcurl is told to stop it

        async def pop_curl(self) -> Any:
            curl = await super().pop_curl()
            _started.set(curl)
            if self.reply_limit is not None:
                _cap_writes(curl, self.reply_limit)
            return curl

    return Session


def _cap_writes(curl: Any, limit: int) -> None:
    """Stop `curl`'s next transfer once libcurl has handed over more than `limit` bytes of its body.

    curl_cffi queues what libcurl writes (decompressed, in pieces of at most 16 KiB) with no bound, however
    slowly it is read: a compression bomb would fill memory between two reads. The write function curl_cffi
    sets for the transfer is wrapped: past the limit it still queues the piece (so the reader counts it
    and raises ReplyTooLarge) and then tells libcurl to stop.
    """
    from curl_cffi import CurlOpt
    from curl_cffi.curl import CURL_WRITEFUNC_ERROR

    setopt = type(curl).setopt.__get__(curl)  # the class's own, not an earlier transfer's wrapper

    def capped_setopt(option: Any, value: Any) -> Any:
        if option == CurlOpt.WRITEFUNCTION and callable(value):
            write, written = value, 0

            def capped_write(piece: bytes) -> Any:
                nonlocal written
                written += len(piece)
                wrote = write(piece)
                return CURL_WRITEFUNC_ERROR if written > limit else wrote

            value = capped_write
        return setopt(option, value)

    curl.setopt = capped_setopt


class QueuedBody:
    """A streamed reply's body, read from the queue curl_cffi fills: everything queued so far comes in one piece.

    libcurl hands over each TLS record on its own; a reply sent in small writes is hundreds of them, and
    reading them one by one (aiter_content) would cost a trip through the event loop each.
    """

    def __init__(self, response: Any) -> None:
        from curl_cffi.requests.streams import STREAM_END

        self._end_marker = STREAM_END
        self._queue: asyncio.Queue[Any] = response.queue
        self._ended = False
        self._failure: BaseException | None = None  # raised after the bytes that came before it

    async def read(self) -> bytes:
        """The next bytes; b"" at the end of the body. A transfer error is raised once its earlier bytes are read."""
        if self._failure is not None:
            raise self._failure
        if self._ended:
            return b""
        items = [await self._queue.get()]
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        data = bytearray()
        for item in items:
            if item is self._end_marker:
                self._ended = True
                break
            if isinstance(item, BaseException):
                self._failure = item
                break
            data += item
        if not data and self._failure is not None:
            raise self._failure
        return bytes(data)

