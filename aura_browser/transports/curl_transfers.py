"""Streamed transfers on libcurl handles kept configured, for the impersonate transport.

curl_cffi's AsyncSession resets a handle before every request and applies every option again in Python (the
Chrome target, the proxy, TLS checks, cookies: dozens of setopt calls), then parses the reply's head in Python once
its first body byte is in. Measured at a chat request's size that was a quarter of its time to first byte (B8 in
docs/performance.md). Here a handle is configured once per `HandleConfig`, by curl_cffi's own `set_curl_options`,
so the fingerprint is exactly curl_cffi's, and kept: a request sets only its URL, body, headers and an empty cookie
store. The connections themselves live in the one multi handle, shared by every kept handle, as in AsyncSession.
"""

from __future__ import annotations

import asyncio
import functools
import os
from typing import Any, NamedTuple, cast

from curl_cffi import Curl, CurlECode, CurlOpt
from curl_cffi._wrapper import ffi, lib
from curl_cffi.aio import AsyncCurl
from curl_cffi.curl import CURL_WRITEFUNC_ERROR, CurlError
from curl_cffi.requests.exceptions import code2error
from curl_cffi.requests.utils import requote_uri, set_curl_options

MAX_TRANSFERS = 256  # at once; a request past them waits for one to end
MAX_IDLE_HANDLES = 32  # kept between requests, per configuration

_END = object()  # queued after a transfer's last piece of body


class HandleConfig(NamedTuple):
    """What a handle's requests share: a request with another configuration takes another handle."""

    target: str  # curl_cffi's impersonation target
    scheme: str  # of the site: through a proxy, an https site is tunnelled (CONNECT) and an http one is not
    proxy: str | None
    verify: bool  # check the site's certificate
    accept_encoding: str | None  # what libcurl offers and decodes; None: nothing


class Transfer:
    """One request on a kept handle: the lines of its reply's head, then the pieces of its body."""

    __slots__ = ("handle", "head_lines", "head", "queue", "written", "limit", "stopped", "_ended", "_failure")

    def __init__(self, handle: "KeptHandle", limit: int) -> None:
        self.handle = handle
        self.head_lines: list[bytes] = []
        self.head: asyncio.Future[None] = asyncio.get_running_loop().create_future()  # the head is complete
        self.queue: asyncio.Queue[Any] = asyncio.Queue()  # pieces of body, then an error or _END
        self.written = 0
        self.limit = limit  # bytes of body libcurl may hand over before it is told to stop
        self.stopped = False
        self._ended = False
        self._failure: BaseException | None = None  # raised after the bytes that came before it

    def on_header(self, line: bytes) -> int:
        self.head_lines.append(line)
        return len(line)

    def on_body(self, piece: bytes) -> Any:
        """libcurl's write function: queued without bound however slowly the reader reads, so past `limit` the
        piece is still queued (the reader counts it and raises ReplyTooLarge) and libcurl is told to stop."""
        if self.stopped:
            return CURL_WRITEFUNC_ERROR
        if not self.head.done():
            self.head.set_result(None)
        self.queue.put_nowait(piece)
        self.written += len(piece)
        return CURL_WRITEFUNC_ERROR if self.written > self.limit else len(piece)

    def ended(self, error: BaseException | None) -> None:
        if error is not None and not self.head.done() and not self.stopped:  # nothing came: the request failed
            self.head.set_exception(error)
            return
        if not self.head.done():
            self.head.set_result(None)
        self.queue.put_nowait(_END if error is None else error)

    def abandon(self) -> None:
        """The transfers are closed under it: what it was waiting for fails, as a broken connection."""
        if self.stopped:  # no one waits for it any more
            return
        self.stopped = True
        error = ConnectionAbortedError("the transport was closed")
        if not self.head.done():
            self.head.set_exception(error)
        else:
            self.queue.put_nowait(error)

    def status(self) -> tuple[int, str, dict[str, str]]:
        """(status, reason, headers by lower-case name) of the reply's head: its last one, after a proxy's answer
        to CONNECT or a 1xx."""
        status, reason = 0, ""
        headers: dict[str, str] = {}
        for raw in self.head_lines:
            line = _decode(raw).strip()
            if line.startswith("HTTP/"):
                parts = line.split(None, 2)
                status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
                reason = parts[2] if len(parts) > 2 else ""
                headers = {}
            elif line:
                name, colon, value = line.partition(":")
                if colon:
                    headers[name.strip().lower()] = value.strip()
        return status, reason, headers

    async def read(self) -> bytes:
        """Everything queued so far in one piece (libcurl hands over each TLS record on its own; reading them one by
        one would cost a trip through the event loop each); b"" at the end. A transfer error is raised once its
        earlier bytes are read."""
        if self._failure is not None:
            raise self._failure
        if self._ended:
            return b""
        items = [await self.queue.get()]
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        data = bytearray()
        for item in items:
            if item is _END:
                self._ended = True
                break
            if isinstance(item, BaseException):
                self._failure = item
                break
            data += item
        if not data and self._failure is not None:
            raise self._failure
        return bytes(data)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("iso-8859-1")


class KeptHandle:
    """A curl handle configured once for a `HandleConfig`; each request sets its URL, body and headers."""

    def __init__(self, config: HandleConfig, connect_timeout_ms: int, ca_bundle: str | bool) -> None:
        self.config = config
        self.curl = curl = Curl()
        self.transfer: Transfer | None = None
        set_curl_options(
            curl, "POST", f"{config.scheme}://configuring.invalid/",
            params_list=[None, None],
            data=b"",
            headers_list=[None, None],
            cookies_list=[None, None],
            timeout=None,  # first-byte and idle timeouts are the transport's; the connect timeout is below
            allow_redirects=False,  # a redirect would re-send the prompt elsewhere
            max_redirects=0,
            proxies_list=[None, None],
            proxy=config.proxy,
            trust_env=False,  # the profile decides the proxy, as for direct
            verify_list=[ca_bundle, config.verify],
            accept_encoding=config.accept_encoding,  # decode what the browser said it accepts
            impersonate=config.target,
            default_headers=False,  # the profile's headers, not curl_cffi's idea of Chrome's
            http_version="v2tls",  # as Chrome: HTTP/2 where TLS offers it (ALPN h2 first), else HTTP/1.1, no h2c
            stream=True,
            queue_class=asyncio.Queue,
            event_class=asyncio.Event,
            curl_options={CurlOpt.CONNECTTIMEOUT_MS: connect_timeout_ms},
        )
        # Set once: they pass each call on to the transfer under way.
        curl.setopt(CurlOpt.WRITEFUNCTION, self._on_body)
        curl.setopt(CurlOpt.HEADERFUNCTION, self._on_header)

    def begin(self, transfer: Transfer, url: str, data: bytes, header_lines: list[bytes]) -> None:
        self.transfer = transfer
        curl = self.curl
        curl.setopt(CurlOpt.URL, _quoted(url))
        curl.setopt(CurlOpt.POSTFIELDS, data)  # (curl_cffi keeps it alive until the next one)
        curl.setopt(CurlOpt.POSTFIELDSIZE, len(data))
        curl.setopt(CurlOpt.COOKIELIST, b"ALL")  # nothing an earlier reply set is sent: cookies are the profile's
        # curl_cffi appends to the header list it keeps on the handle: the last request's is replaced, then freed.
        previous, curl._headers = curl._headers, ffi.NULL
        curl.setopt(CurlOpt.HTTPHEADER, header_lines)
        if previous != ffi.NULL:
            lib.curl_slist_free_all(previous)

    def _on_header(self, line: bytes) -> int:
        transfer = self.transfer
        return transfer.on_header(line) if transfer is not None else CURL_WRITEFUNC_ERROR

    def _on_body(self, piece: bytes) -> Any:
        transfer = self.transfer
        return transfer.on_body(piece) if transfer is not None else CURL_WRITEFUNC_ERROR

    def close(self) -> None:
        self.curl.close()


@functools.lru_cache(maxsize=64)  # a client posts to one URL or a few
def _quoted(url: str) -> bytes:
    return requote_uri(url).encode()


def header_lines(headers: list[tuple[str, str]], has_body: bool) -> list[bytes]:
    """The request's headers as libcurl takes them, written as curl_cffi writes them: an empty value is sent as
    such, a body without a Content-Type says application/octet-stream, and no `Expect` is ever sent."""
    lines, named = [], set()
    for name, value in headers:
        lowered = name.lower()
        if lowered == "expect":
            continue
        named.add(lowered)
        lines.append(f"{name}: {value}".encode() if value else f"{name};".encode())
    if has_body and "content-type" not in named:
        lines.append(b"Content-Type: application/octet-stream")
    lines.append(b"Expect:")
    return lines


class CurlTransfers:
    """Streamed requests over one libcurl multi handle, on handles kept configured between requests. Made in the
    event loop that uses it."""

    def __init__(self, connect_timeout: float) -> None:
        self._connect_timeout_ms = int(connect_timeout * 1000)
        # As curl_cffi's sessions: certificates are checked against these bundles where the environment names one.
        self._ca_bundle: str | bool = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self._multi = AsyncCurl()
        self._slots = asyncio.Semaphore(MAX_TRANSFERS)
        self._idle: dict[HandleConfig, list[KeptHandle]] = {}
        self._busy: set[KeptHandle] = set()
        self._closed = False

    async def start(self, config: HandleConfig, url: str, data: bytes, lines: list[bytes], limit: int) -> Transfer:
        """Send the request; return once its reply's head has come (with the first piece of its body, or its end).
        A request that fails before that raises curl_cffi's RequestException for it (an OSError). Cancelled before
        that, its transfer is stopped."""
        await self._slots.acquire()
        try:
            handle = self._take(config)
            transfer = Transfer(handle, limit)
            handle.begin(transfer, url, data, lines)
            done = self._multi.add_handle(handle.curl)
        except BaseException:
            self._slots.release()
            raise
        self._busy.add(handle)
        done.add_done_callback(functools.partial(self._ended, handle, transfer))
        try:
            await transfer.head
        except asyncio.CancelledError:
            self.stop(transfer)
            raise
        return transfer

    def stop(self, transfer: Transfer) -> None:
        """End a transfer before its end: libcurl closes its connection (or its HTTP/2 stream)."""
        transfer.stopped = True
        handle = transfer.handle
        if handle.transfer is transfer and handle in self._busy:
            self._multi.remove_handle(handle.curl)  # its future is cancelled: _ended follows

    def _take(self, config: HandleConfig) -> KeptHandle:
        idle = self._idle.get(config)
        if idle:
            return idle.pop()
        return KeptHandle(config, self._connect_timeout_ms, self._ca_bundle)

    def _ended(self, handle: KeptHandle, transfer: Transfer, done: asyncio.Future[None]) -> None:
        error: BaseException | None = None
        if not done.cancelled() and (failure := done.exception()) is not None:
            error = _request_error(failure)
        transfer.ended(error)
        handle.transfer = None
        self._busy.discard(handle)
        self._slots.release()
        idle = self._idle.setdefault(handle.config, []) if not self._closed else None
        if idle is not None and len(idle) < MAX_IDLE_HANDLES:
            idle.append(handle)
        else:
            handle.close()

    async def aclose(self) -> None:
        """Close every connection; a reply still streaming fails as a broken connection."""
        self._closed = True
        for handle in self._busy:
            if handle.transfer is not None:
                handle.transfer.abandon()
        await self._multi.close()  # type: ignore[no-untyped-call]  # (curl_cffi leaves it unannotated)
        for handle in [*self._busy, *(h for idle in self._idle.values() for h in idle)]:
            handle.close()
        self._busy.clear()
        self._idle.clear()


def _request_error(failure: BaseException) -> BaseException:
    """A failed transfer as curl_cffi's requests API raises it: an OSError of the class its curl code means."""
    if isinstance(failure, CurlError) and not isinstance(failure, OSError):
        message, code = str(failure), cast(CurlECode, failure.code)
        error: BaseException = code2error(code, message)(message, code)
        return error
    return failure
