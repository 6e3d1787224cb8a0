"""Running the replica: `serve()` for an event loop, `ReplicaServer` for a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp import web

from .app import create_app
from .config import ReplicaConfig
from .state import ReplicaState, ReplicaStats
from .tls import parse_client_hello, peek_first_record, server_context

_SHUTDOWN_TIMEOUT = 2.0
_HANDSHAKE_TIMEOUT = 10.0
WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # what a client here connects to instead


class CannotListen(OSError):
    """The replica's host and port cannot be listened on: in use, privileged, or not an address of this host."""


async def serve(
    config: ReplicaConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run until cancelled (used by the `aura-browser replica` CLI command).

    `on_ready` is given the URL of the address listened on (`http://0.0.0.0:8765` for every interface).
    """
    await serve_state(ReplicaState(config), host, port, on_ready)


async def serve_state(state: ReplicaState, host: str, port: int, on_ready: Callable[[str], None] | None = None) -> None:
    """Like `serve`, for a caller that keeps the state (to read stats, release holds, revoke clearances)."""
    config = state.config
    if config.gate == "strict":
        config.tls = True
    listener = _listen(host, port)
    # The interactive gate's widget comes from a second listener, which the page names by another host name.
    widget_listener = _listen(host, 0)
    state.widget_port = widget_listener.getsockname()[1]
    runner = web.AppRunner(create_app(state, host), shutdown_timeout=_SHUTDOWN_TIMEOUT, handler_cancellation=True)
    accepting: asyncio.Task[None] | None = None
    try:
        await runner.setup()
        if config.tls:
            accepting = asyncio.create_task(_accept_tls(listener, runner, state, server_context()))
        else:
            await web.SockSite(runner, listener).start()
        await web.SockSite(runner, widget_listener, ssl_context=server_context() if config.tls else None).start()
        if on_ready is not None:
            on_ready(_url(host, listener.getsockname()[1], config.tls))
        await asyncio.Future()  # until cancelled
    finally:
        state.release()  # let held streams finish instead of waiting out the shutdown timeout
        if accepting is not None:
            accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await accepting
        await runner.cleanup()
        listener.close()
        widget_listener.close()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        raise CannotListen(exc.errno, exc.strerror or str(exc)) from None
    sock.setblocking(False)
    return sock


def _url(host: str, port: int, tls: bool) -> str:
    if ":" in host:
        host = f"[{host}]"
    return f"{'https' if tls else 'http'}://{host}:{port}"


async def _accept_tls(listener: socket.socket, runner: web.AppRunner, state: ReplicaState, ctx: ssl.SSLContext) -> None:
    """Accept connections ourselves so each ClientHello can be read before aiohttp's TLS layer consumes it."""
    loop = asyncio.get_running_loop()
    connections: set[asyncio.Task[None]] = set()
    try:
        while True:
            sock, _ = await loop.sock_accept(listener)
            task = asyncio.create_task(_hand_over(sock, runner, state, ctx))
            connections.add(task)
            task.add_done_callback(connections.discard)
    finally:
        for task in connections:
            task.cancel()


async def _hand_over(sock: socket.socket, runner: web.AppRunner, state: ReplicaState, ctx: ssl.SSLContext) -> None:
    loop = asyncio.get_running_loop()
    try:
        sock.setblocking(False)
        peer = tuple(sock.getpeername()[:2])
        state.remember_hello(peer, parse_client_hello(await peek_first_record(sock)))
        assert runner.server is not None
        await loop.connect_accepted_socket(runner.server, sock, ssl=ctx, ssl_handshake_timeout=_HANDSHAKE_TIMEOUT)
    except (OSError, ssl.SSLError, asyncio.TimeoutError):
        sock.close()  # not TLS, a failed handshake, or a peer that left
    except asyncio.CancelledError:
        sock.close()
        raise


class ReplicaServer:
    """The replica on a background thread with its own event loop. Use as a context manager."""

    def __init__(self, config: ReplicaConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config if config is not None else ReplicaConfig()
        self.host = host
        self.port = port
        self._state = ReplicaState(self.config)
        self._url: str | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def stats(self) -> ReplicaStats:
        return self._state.stats

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the replica is not running")
        return self._url

    def __enter__(self) -> ReplicaServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the replica is already running")
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="aura-replica", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join()
        self._thread = None
        self._url = None

    def release(self) -> None:
        """Let a stream paused by hold_after continue (or the next one pass its hold point)."""
        if self._loop is None:
            raise RuntimeError("the replica is not running")
        self._loop.call_soon_threadsafe(self._state.release)

    def revoke_clearances(self) -> None:
        """Rotate the HMAC secret: every cf_clearance issued so far becomes invalid."""
        self._state.revoke_clearances()

    def wait_for_chat(self, timeout: float, count: int = 1) -> bool:
        """Block until `count` /api/chat requests in total have arrived."""
        return self.stats.wait_until(lambda s: s.chat_requests >= count, timeout)

    def wait_for_hold(self, timeout: float) -> bool:
        """Block until a stream is paused by hold_after."""
        return self.stats.wait_until(lambda s: s.holding > 0, timeout)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()
            self._loop = None

    async def _main(self) -> None:
        self._task = asyncio.current_task()
        try:
            await serve_state(self._state, self.host, self.port, on_ready=self._on_ready)
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # reported to start(); after start it has nowhere else to go
            self._error = exc
        finally:
            self._ready.set()

    def _on_ready(self, url: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host in WILDCARDS:  # bound to every interface: reached here through loopback
            url = _url(WILDCARDS[host], parts.port or 0, parts.scheme == "https")
        self._url = url
        self._ready.set()
