"""The direct transport: replay POST /api/chat with aiohttp, as the profile's browser would send it."""

from __future__ import annotations

import asyncio
import codecs
import logging
from typing import Any, AsyncIterator, NamedTuple

import aiohttp

from ..chat import CHAT_PATH, encode_body
from ..errors import NetworkError, SiteDown, StreamInterrupted
from ..origin import join, origin_of, redact_url
from ..profile import Profile
from .base import Timeouts
from .replies import error_for_reply, is_text_stream, retry_delay, silence_error

log = logging.getLogger("aura_browser.direct")

ERROR_BODY_LIMIT = 65536


class PlainReply(NamedTuple):
    """A whole reply that is not a chat stream: what `DirectTransport.fetch` returns."""

    url: str
    status: int
    reason: str
    headers: dict[str, str]  # lower-case names
    text: str


class DirectTransport:
    name = "direct"

    def __init__(self, profile: Profile, *, timeouts: Timeouts = Timeouts(), insecure: bool = False) -> None:
        self.profile = profile
        self.timeouts = timeouts
        self.insecure = insecure
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeouts.connect),
                # Cookies come from the profile, per request and per origin; nothing the site sets is kept.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    def _headers(self, url: str) -> dict[str, str]:
        headers = dict(self.profile.headers)
        headers["User-Agent"] = self.profile.user_agent
        headers["Content-Type"] = "application/json"
        cookies = self.profile.cookies_for(url)
        if cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        return headers

    async def stream(self, body: dict[str, Any]) -> AsyncIterator[str]:
        url = join(self.profile.base_url, CHAT_PATH)
        response = await self._open(url, encode_body(body))
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        received: list[str] = []
        complete = False
        try:
            while True:
                try:
                    async with asyncio.timeout(self.timeouts.first_byte if not received else self.timeouts.idle):
                        data = await response.content.readany()
                except asyncio.TimeoutError:
                    raise silence_error(url, self.timeouts, received) from None
                except aiohttp.ClientError as exc:
                    raise StreamInterrupted(
                        f"the connection to {origin_of(url)} broke mid-reply ({exc.__class__.__name__})",
                        "".join(received),
                    ) from None
                text = decoder.decode(data, final=not data)
                if text:
                    received.append(text)
                    yield text
                if not data:
                    complete = True
                    return
        finally:
            if complete:
                response.release()
            else:
                response.close()

    async def _open(self, url: str, data: bytes) -> aiohttp.ClientResponse:
        """Send the request; return a reply that is a text stream, or raise what it is instead."""
        retried = False
        while True:
            try:
                async with asyncio.timeout(self.timeouts.first_byte):
                    response = await self._client().post(
                        url,
                        data=data,
                        headers=self._headers(url),
                        proxy=self.profile.proxy,
                        ssl=False if self.insecure else True,
                    )
                    if is_text_stream(response.status, response.headers):
                        return response
                    raw = await response.content.read(ERROR_BODY_LIMIT)
            except asyncio.TimeoutError:
                raise silence_error(url, self.timeouts, []) from None
            except aiohttp.ClientError as exc:
                raise self._connection_error(url, exc) from None
            response.close()
            delay = retry_delay(response.status, response.headers, self.timeouts)
            if delay is not None and not retried:
                retried = True
                log.info("429 from %s; retrying once in %.1fs", origin_of(url), delay)
                await asyncio.sleep(delay)
                continue
            raise error_for_reply(
                url, response.status, response.reason or "", response.headers, raw.decode("utf-8", "replace")
            )

    async def fetch(self, method: str, path: str, data: bytes | None = None) -> PlainReply:
        """One whole request with the profile (the page, api/models), for probes; at most 64 KiB of its body."""
        url = join(self.profile.base_url, path)
        try:
            async with asyncio.timeout(self.timeouts.first_byte):
                async with self._client().request(
                    method, url, data=data, headers=self._headers(url), proxy=self.profile.proxy,
                    ssl=False if self.insecure else True,
                ) as response:
                    raw = await response.content.read(ERROR_BODY_LIMIT)
                    headers = {name.lower(): value for name, value in response.headers.items()}
                    return PlainReply(url, response.status, response.reason or "", headers, raw.decode("utf-8", "replace"))
        except asyncio.TimeoutError:
            raise silence_error(url, self.timeouts, []) from None
        except aiohttp.ClientError as exc:
            raise self._connection_error(url, exc) from None

    def _connection_error(self, url: str, exc: aiohttp.ClientError) -> NetworkError:
        site = origin_of(url)
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            return NetworkError(f"TLS certificate of {site} is not trusted; pass --insecure to accept it")
        if isinstance(exc, aiohttp.ClientSSLError):
            return NetworkError(f"TLS handshake with {site} failed; if it uses a self-signed certificate, pass --insecure")
        if isinstance(exc, aiohttp.ClientProxyConnectionError):
            return SiteDown(f"cannot reach the proxy {redact_url(self.profile.proxy or '')}")
        if isinstance(exc, aiohttp.ClientConnectorError):
            reason = exc.os_error.strerror or exc.os_error.__class__.__name__
            return SiteDown(f"cannot reach {url}: {reason}")
        return NetworkError(f"{site} closed the connection before replying ({exc.__class__.__name__})")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

