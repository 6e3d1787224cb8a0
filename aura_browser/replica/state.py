"""Runtime state shared by the app (event-loop thread) and whoever steers it (tests, admin endpoints)."""

from __future__ import annotations

import asyncio
import os
import random
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .config import ReplicaConfig
from .fingerprint import ja3, ja4
from .tls import ClientHello

PeerKey = tuple[Any, ...]

_MAX_HELLOS = 4096


@dataclass
class ReplicaStats:
    """Counters and the last /api/chat request. Written on the loop thread, safe to read from any thread."""

    challenges_served: int = 0
    clearances_issued: int = 0
    chat_requests: int = 0
    chat_completed: int = 0
    tls_blocked: int = 0
    models_requests: int = 0
    tls_hellos: int = 0  # TLS connections whose ClientHello was peeked
    tls_grease_hellos: int = 0  # ... of which carried GREASE (a browser)
    tls_fingerprints: list[tuple[str, str]] = field(default_factory=list)  # (JA3, JA4) of the last 64 hellos
    holding: int = 0  # /api/chat streams paused by hold_after right now
    faults_drop: int = 0  # random faults injected (fault_rate): connection dropped mid-reply
    faults_error: int = 0  # ... answered 500 Error
    faults_stall: int = 0  # ... reply paused for stall_seconds
    last_chat_body: dict[str, Any] | None = None  # None also when the body was not JSON
    largest_chat_body: int = 0  # bytes of the largest /api/chat body so far
    last_upstream: dict[str, Any] | None = None  # what the app would forward to its upstream for the last chat
    last_chat_headers: dict[str, str] = field(default_factory=dict)  # header names lower-cased
    last_chat_header_names: list[str] = field(default_factory=list)  # as sent: the client's order and case
    chat_cookies: list[dict[str, str]] = field(default_factory=list)  # cookies of each /api/chat request
    issued_cookie_values: list[str] = field(default_factory=list)  # every cf_clearance and __cf_bm value set
    botcheck_passed: int = 0  # browsers the botcheck gate let through
    botcheck_blocked: int = 0  # ... and blocked
    last_botcheck: list[dict[str, Any]] = field(default_factory=list)  # the rows of the last botcheck answer
    interactive_passed: int = 0  # clicks the interactive widget accepted
    interactive_failed: int = 0  # ... and refused
    last_interactive: list[dict[str, Any]] = field(default_factory=list)  # the rows of the last click judged
    changed: threading.Condition = field(default_factory=threading.Condition, repr=False, compare=False)

    def bump(self, name: str, by: int = 1) -> None:
        with self.changed:
            setattr(self, name, getattr(self, name) + by)
            self.changed.notify_all()

    def record_chat(self, body: dict[str, Any] | None, headers: dict[str, str], cookies: dict[str, str],
                    header_names: list[str] | None = None, size: int = 0) -> None:
        with self.changed:
            self.last_chat_body = body
            self.largest_chat_body = max(self.largest_chat_body, size)
            self.last_chat_headers = headers
            self.last_chat_header_names = header_names or []
            self.chat_cookies.append(cookies)
            self.chat_requests += 1
            self.changed.notify_all()

    def record_upstream(self, upstream: dict[str, Any]) -> None:
        with self.changed:
            self.last_upstream = upstream
            self.changed.notify_all()

    def record_fingerprint(self, ja3: str, ja4: str) -> None:
        with self.changed:
            self.tls_fingerprints = [*self.tls_fingerprints[-63:], (ja3, ja4)]
            self.changed.notify_all()

    def record_botcheck(self, rows: list[dict[str, Any]]) -> None:
        with self.changed:
            self.last_botcheck = rows
            self.changed.notify_all()

    def record_interactive(self, rows: list[dict[str, Any]]) -> None:
        with self.changed:
            self.last_interactive = rows
            self.changed.notify_all()

    def record_issued(self, *values: str) -> None:
        with self.changed:
            self.issued_cookie_values.extend(values)
            self.changed.notify_all()

    def wait_until(self, predicate: Callable[[ReplicaStats], bool], timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self), timeout)

    def to_dict(self) -> dict[str, Any]:
        with self.changed:
            return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "changed"}


class ReplicaState:
    """Everything one running replica holds besides its config: stats, secrets, TLS verdicts, the hold latch."""

    def __init__(self, config: ReplicaConfig) -> None:
        self.config = config
        self.stats = ReplicaStats()
        self.clearance_secret = os.urandom(32)
        self.nonce_secret = os.urandom(32)
        self.widget_port = 0  # the second listener's, which serves the interactive gate's widget
        self.hellos: OrderedDict[PeerKey, ClientHello | None] = OrderedDict()
        self._latch: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._fault_rng: tuple[int | None, random.Random] | None = None

    def take_fault_turn(self) -> bool:
        """Whether this /api/chat request gets the configured faults; spends one of `faults_left`."""
        left = self.config.faults_left
        if left is None:
            return True
        if left <= 0:
            return False
        self.config.faults_left = left - 1
        return True

    def random_fault(self) -> tuple[str, float] | None:
        """With probability `fault_rate`: ("drop" | "error" | "stall", where in the reply, 0..1); else None."""
        if self.config.fault_rate <= 0:
            return None
        seed = self.config.fault_seed
        if self._fault_rng is None or self._fault_rng[0] != seed:
            self._fault_rng = (seed, random.Random(seed))
        rng = self._fault_rng[1]
        if rng.random() >= self.config.fault_rate:
            return None
        kind = rng.choice(("drop", "error", "stall"))
        self.stats.bump(f"faults_{kind}")
        return kind, rng.random()

    def revoke_clearances(self) -> None:
        # A single attribute assignment, so it is safe from any thread and takes effect on the next request.
        self.clearance_secret = os.urandom(32)

    def remember_hello(self, peer: PeerKey, hello: ClientHello | None) -> None:
        self.hellos[peer] = hello
        self.hellos.move_to_end(peer)
        while len(self.hellos) > _MAX_HELLOS:
            self.hellos.popitem(last=False)
        self.stats.bump("tls_hellos")
        if hello is not None:
            self.stats.record_fingerprint(ja3(hello), ja4(hello))
        if hello is not None and hello.grease:
            self.stats.bump("tls_grease_hellos")

    def hello_for(self, peer: PeerKey | None) -> ClientHello | None:
        return self.hellos.get(peer) if peer is not None else None

    # The hold latch lives on the loop; release() is sticky, so a release that comes before the stream
    # reaches its hold point is not lost.
    @property
    def released(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if self._latch is None or self._latch[0] is not loop:  # a restarted server runs on a new loop
            self._latch = (loop, asyncio.Event())
        return self._latch[1]

    def release(self) -> None:
        """Let streams paused by hold_after continue. Call on the loop thread."""
        self.released.set()

    async def hold(self) -> None:
        self.stats.bump("holding")
        try:
            await self.released.wait()
            self.released.clear()
        finally:
            self.stats.bump("holding", -1)


STATE = web.AppKey("replica_state", ReplicaState)
