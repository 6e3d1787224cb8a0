"""The direct transport: replay POST /api/chat with aiohttp, as the profile's browser would send it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any, AsyncGenerator, NamedTuple

import aiohttp

from ..environment import DEFAULT_MAX_REPLY_BYTES
from ..errors import InvalidRequest, NetworkError, SiteDown
from ..origin import join, origin_of, proxy_credentials, proxy_server
from ..profile import Profile
from ..redaction import redact_url
from ..wire.api import CHAT_PATH, encode_body
from ..wire.headers import replay_headers
from ..wire.replies import is_text_stream
from .base import StreamStats, Timeouts
from .replies import ErrorReply, decoded_text, open_stream, read_error_body, silence_error

log = logging.getLogger("aura_browser.direct")

# Headers aiohttp would add on its own; the replay sends the browser's, or none.
SKIPPED_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


class PlainReply(NamedTuple):
    """A whole reply that is not a chat stream: what `DirectTransport.fetch` returns."""

    url: str
    status: int
    reason: str
    headers: dict[str, str]  # lower-case names
    text: str


class DirectTransport:
    """Shared by concurrent streams: one aiohttp session, whichever profile (and proxy) each request sends."""

    name = "direct"

    def __init__(self, *, timeouts: Timeouts = Timeouts(), insecure: bool = False,
                 max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES) -> None:
        self.timeouts = timeouts
        self.insecure = insecure
        self.max_reply_bytes = max_reply_bytes
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeouts.connect),
                # Cookies come from the profile, per request and per origin; nothing the site sets is kept.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    @staticmethod
    def _proxy(proxy: str | None) -> dict[str, Any]:
        """aiohttp's proxy arguments: the server, and its user and password sent as UTF-8, as the browser and
        curl send them (aiohttp would send the ones in the URL as Latin-1, and fail on any other character)."""
        if not proxy:
            return {"proxy": None}
        credentials = proxy_credentials(proxy)
        if credentials and ":" in credentials[0]:
            raise InvalidRequest("the proxy's user name holds ':', which Basic auth cannot send; check it in --proxy")
        auth = aiohttp.BasicAuth(*credentials, encoding="utf-8") if credentials else None
        return {"proxy": proxy_server(proxy), "proxy_auth": auth}

    @staticmethod
    def _headers(profile: Profile, url: str, data: bytes | None) -> list[tuple[str, str]]:
        return replay_headers(
            profile.header_order, profile.headers, profile.user_agent, profile.cookies_for(url),
            None if data is None else len(data),
        )

    async def stream(self, profile: Profile, body: dict[str, Any], stats: StreamStats | None = None) -> AsyncGenerator[str, None]:
        url = join(profile.base_url, CHAT_PATH)
        response = await self._open(profile, url, encode_body(body))
        complete = False
        try:
            async with contextlib.aclosing(
                decoded_text(response.content.readany, url, self.timeouts, aiohttp.ClientError,
                             limit=self.max_reply_bytes)
            ) as chunks:
                async for text in chunks:
                    yield text
            complete = True
        finally:
            if complete:
                response.release()
            else:
                response.close()

    async def _open(self, profile: Profile, url: str, data: bytes) -> aiohttp.ClientResponse:
        """Send the request; return a reply that is a text stream, or raise what it is instead."""

        async def send() -> aiohttp.ClientResponse | ErrorReply:
            try:
                response = await self._client().post(
                    url,
                    data=data,
                    headers=self._headers(profile, url, data),
                    skip_auto_headers=SKIPPED_AUTO_HEADERS,
                    **self._proxy(profile.proxy),
                    ssl=False if self.insecure else True,
                    allow_redirects=False,  # a redirect would re-send the prompt elsewhere
                )
                if is_text_stream(response.status, response.headers):
                    return response
                try:
                    raw = await read_error_body(response.content.readany)
                finally:
                    response.close()
            except aiohttp.ClientError as exc:
                raise self._connection_error(url, profile.proxy, exc) from None
            return ErrorReply(response.status, response.reason or "", response.headers, raw.decode("utf-8", "replace"))

        return await open_stream(url, self.timeouts, send)

    async def fetch(self, profile: Profile, method: str, path: str, data: bytes | None = None) -> PlainReply:
        """One whole request with the profile (the page, api/models), for probes; at most 64 KiB of its body.

        Only a GET follows redirects: a POST's body (api/models': the page's key) must not go elsewhere.
        """
        url = join(profile.base_url, path)
        try:
            async with asyncio.timeout(self.timeouts.first_byte):
                async with self._client().request(
                    method, url, data=data, headers=self._headers(profile, url, data), skip_auto_headers=SKIPPED_AUTO_HEADERS,
                    **self._proxy(profile.proxy),
                    ssl=False if self.insecure else True, allow_redirects=method == "GET",
                ) as response:
                    raw = await read_error_body(response.content.readany)
                    headers = {name.lower(): value for name, value in response.headers.items()}
                    return PlainReply(url, response.status, response.reason or "", headers, raw.decode("utf-8", "replace"))
        except asyncio.TimeoutError:
            raise silence_error(url, self.timeouts, []) from None
        except aiohttp.ClientError as exc:
            raise self._connection_error(url, profile.proxy, exc) from None

    @staticmethod
    def _connection_error(url: str, proxy: str | None, exc: aiohttp.ClientError) -> NetworkError:
        site = origin_of(url)
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            return NetworkError(f"TLS certificate of {site} is not trusted; pass --insecure to accept it")
        if isinstance(exc, aiohttp.ClientSSLError):
            return NetworkError(f"TLS handshake with {site} failed; if it uses a self-signed certificate, pass --insecure")
        if isinstance(exc, aiohttp.ClientProxyConnectionError):
            return SiteDown(f"cannot reach the proxy {redact_url(proxy or '')}")
        if isinstance(exc, aiohttp.ClientConnectorError):
            reason = exc.os_error.strerror or exc.os_error.__class__.__name__
            return SiteDown(f"cannot reach {url}: {reason}")
        too_long = re.match(r"Got more than (\d+) bytes", exc.message) if isinstance(exc, aiohttp.ClientResponseError) else None
        if too_long:  # aiohttp reads a header line of at most 8190 bytes
            return NetworkError(f"{site} answered with a response header longer than {too_long.group(1)} bytes, "
                                "which is not a reply of an OpenChat UI site")
        return NetworkError(f"{site} closed the connection before replying ({exc.__class__.__name__})")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

