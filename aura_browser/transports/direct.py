"""The direct transport: replay POST /api/chat with aiohttp, as the profile's browser would send it."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, NamedTuple

import aiohttp

from ..errors import InvalidRequest, NetworkError
from ..origin import join, origin_of, proxy_credentials, proxy_server
from ..profile import Profile
from ..wire.replies import proxy_refused
from . import replay
from .replay import ReplayTransport, Reply
from .replies import read_error_body, silence_error

log = logging.getLogger("aura_browser.direct")

# Headers aiohttp would add on its own.
SKIPPED_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


class PlainReply(NamedTuple):
    """A whole reply that is not a chat stream: what `DirectTransport.fetch` returns."""

    url: str
    status: int
    reason: str
    headers: dict[str, str]  # lower-case names
    text: str


class DirectTransport(ReplayTransport):
    """Shared by concurrent streams: one aiohttp session, whichever profile (and proxy) each request sends."""

    name = "direct"
    broken = aiohttp.ClientError
    _session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeouts.connect),
                # Cookies come from the profile, per request and per origin; nothing the site sets is kept.
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=SKIPPED_AUTO_HEADERS,  # the replay sends the browser's, or none
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

    async def _send(self, profile: Profile, url: str, data: bytes, headers: list[tuple[str, str]]) -> Reply:
        response = await self._client().post(
            url,
            data=data,
            headers=headers,
            **self._proxy(profile.proxy),
            ssl=False if self.insecure else True,
            allow_redirects=False,  # a redirect would re-send the prompt elsewhere
        )
        return Reply(response.status, response.reason or "", response.headers, response.content.readany, response)

    async def _end(self, reply: Reply, complete: bool) -> None:
        if complete:
            reply.response.release()
        else:
            reply.response.close()

    async def fetch(self, profile: Profile, method: str, path: str, data: bytes | None = None) -> PlainReply:
        """One whole request with the profile (the page, api/models), for probes; at most 64 KiB of its body.

        Only a GET follows redirects: a POST's body (api/models': the page's key) must not go elsewhere.
        """
        url = join(profile.base_url, path)
        try:
            async with asyncio.timeout(self.timeouts.first_byte):
                async with self._client().request(
                    method, url, data=data, headers=self._headers(profile, url, data),
                    **self._proxy(profile.proxy),
                    ssl=False if self.insecure else True, allow_redirects=method == "GET",
                ) as response:
                    raw = await read_error_body(response.content.readany)
                    headers = {name.lower(): value for name, value in response.headers.items()}
                    return PlainReply(url, response.status, response.reason or "", headers, raw.decode("utf-8", "replace"))
        except asyncio.TimeoutError:
            raise silence_error(url, self.timeouts, []) from None
        except aiohttp.ClientError as exc:
            raise self._unreached(url, profile.proxy, exc) from None

    def _unreached(self, url: str, proxy: str | None, exc: BaseException) -> NetworkError:
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            return replay.untrusted_certificate(url)
        if isinstance(exc, aiohttp.ClientSSLError):
            return replay.failed_handshake(url)
        if isinstance(exc, aiohttp.ClientProxyConnectionError):
            return replay.unreachable_proxy(proxy)
        if isinstance(exc, aiohttp.ClientHttpProxyError) and exc.status == 407:  # it refused to open a tunnel
            return proxy_refused()
        if isinstance(exc, aiohttp.ClientConnectorError):
            return replay.unreachable(url, exc.os_error.strerror or exc.os_error.__class__.__name__)
        too_long = re.match(r"Got more than (\d+) bytes", exc.message) if isinstance(exc, aiohttp.ClientResponseError) else None
        if too_long:  # aiohttp reads a header line of at most 8190 bytes
            return NetworkError(f"{origin_of(url)} answered with a response header longer than {too_long.group(1)} bytes, "
                                "which is not a reply of an OpenChat UI site")
        return replay.closed_before_reply(url, exc.__class__.__name__)

    async def _close_client(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
