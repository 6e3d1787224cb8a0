"""The rules of a reply, the same for every transport: the one retry of a 429, the first-byte and idle timeouts, the
reply cap, how much of a reply that is not text is read to judge it.

What a reply that is not a text stream means is `wire/replies.py`'s.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Awaitable, Callable, Mapping, NamedTuple

from ..environment import DEFAULT_MAX_REPLY_BYTES
from ..errors import NetworkError, ReplyTooLarge, ResponseTimeout, StreamInterrupted
from ..origin import origin_of
from ..wire.replies import retry_after
from .base import Timeouts

MAX_RETRY_AFTER = 30.0  # a 429 asking for a longer wait is not retried: the error says how long instead
ERROR_BODY_LIMIT = 65536  # bytes of a reply that is not a text stream read to judge it (a gate's page, an error)


def retry_delay(status: int, headers: Mapping[str, str], timeouts: Timeouts) -> float | None:
    """How long to wait before the one retry of a reply that came before any text; None: do not retry.

    A wait longer than MAX_RETRY_AFTER, or than the first-byte timeout the caller allows, fails at once.
    """
    if status != 429:
        return None
    wait = retry_after(headers)
    return wait if wait <= min(MAX_RETRY_AFTER, timeouts.first_byte) else None


class ErrorReply(NamedTuple):
    """A reply that is not a text stream, read (up to a limit) so that it can be judged."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: str


async def read_error_body(read: Callable[[], Awaitable[bytes]], limit: int = ERROR_BODY_LIMIT) -> bytes:
    """The start of a reply that is not a text stream: read up to `limit` bytes or its end, whichever comes
    first, since a gate's page may send its `<title>` after its first bytes. (`read` gives b"" at the end.)"""
    raw = bytearray()
    while len(raw) < limit:
        data = await read()
        if not data:
            break
        raw += data
    return bytes(raw[:limit])


def silence_error(url: str, timeouts: Timeouts, received: list[str]) -> NetworkError:
    """A timeout while waiting for the reply: no first byte yet, or a stall after part of it arrived."""
    if not received:
        return ResponseTimeout(f"no reply from {url} within {timeouts.first_byte:g}s")
    return StreamInterrupted(f"the reply stalled: nothing for {timeouts.idle:g}s", "".join(received))


class ReplyBudget:
    """What one reply may take in memory: its bytes (as decoded text: decompressed, UTF-8) are counted as they
    arrive, and past `limit` the reply fails with ReplyTooLarge, holding the text that came before."""

    def __init__(self, url: str, limit: int = DEFAULT_MAX_REPLY_BYTES) -> None:
        self.url = url
        self.limit = limit
        self.used = 0

    @property
    def room(self) -> int:
        """Bytes the reply may still bring."""
        return self.limit - self.used

    def spend(self, size: int, received: list[str]) -> None:
        self.used += size
        if self.used > self.limit:
            raise self.exceeded(received)

    def exceeded(self, received: list[str]) -> ReplyTooLarge:
        return ReplyTooLarge(
            f"the reply from {origin_of(self.url)} passed {self.limit} bytes, the most kept of one reply "
            "(--max-reply-bytes, AURA_MAX_REPLY_BYTES); the rest was not read", "".join(received))


class SilenceWatch:
    """The one timer of a transport's replies: their first-byte and idle timeouts, for every reply under way.

    The timer is set for the earliest moment a wait under way could run out; when it fires it looks at each: a wait
    that has lasted its timeout is ended (`Silence._fire`), and the timer is set again for the earliest of the
    others. A reply's wait so costs a clock reading; a timer is added to the event loop's heap only when a wait could
    run out before the timer fires, which one reply after another never does. (A timer per wait, then one per reply,
    was most of a stream's own CPU with a hundred streams at once, and a tenth of what a direct request added to its
    first byte: B4 and B1 in docs/performance.md.)
    """

    def __init__(self) -> None:
        self.loop = loop = asyncio.get_running_loop()
        # The loop's clock, read at every wait: asyncio's own is time.monotonic, called without a frame of Python.
        self.clock = time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
        self.watched: set[Silence] = set()
        self.due = math.inf  # when the timer fires
        self._timer: asyncio.TimerHandle | None = None

    def set(self, due: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.due = due
        self._timer = self.loop.call_at(due, self._look)

    def _look(self) -> None:
        self._timer, self.due = None, math.inf
        now, earliest = self.clock(), math.inf
        for silence in list(self.watched):
            if silence.since is None:  # between waits: its next one sets the timer again if it must
                continue
            due = silence.since + silence.timeout
            if due <= now:
                silence._fire()
            elif due < earliest:
                earliest = due
        if earliest < math.inf:
            self.set(earliest)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self.due = None, math.inf


class Silence:
    """The first-byte and idle timeouts of one reply: the wait for its head, then each read, kept by its
    transport's `SilenceWatch`.

    A wait is bracketed by `waiting()` and `woke()`. A wait that has lasted its timeout cancels the reading task,
    which `expired()` then tells apart from any other cancellation. Time outside a wait (the caller handling a chunk)
    does not count. `stop()` once the reply is done with.
    """

    def __init__(self, timeouts: Timeouts, watch: SilenceWatch) -> None:
        self._watch = watch
        self.timeout = timeouts.first_byte  # of the next wait; the caller sets the idle one once text came
        self.since: float | None = None  # when the wait under way began; None between waits
        self._task: asyncio.Task[object] | None = None
        self._cancelling = 0  # the task's cancellations before the wait: ours is one more
        self._fired = False
        watch.watched.add(self)

    def waiting(self) -> None:
        watch = self._watch
        self.since = now = watch.clock()
        task = self._task = asyncio.current_task()
        assert task is not None
        self._cancelling = task.cancelling()
        if now + self.timeout < watch.due:
            watch.set(now + self.timeout)

    def woke(self) -> None:
        self.since = None
        if self._fired:  # the read ended as the timer fired, and kept its cancellation from the caller
            self.expired()

    def expired(self) -> bool:
        """After a CancelledError in a read: whether it was this timeout's alone (then it is consumed)."""
        if not self._fired:
            return False
        self._fired = False
        assert self._task is not None
        return self._task.uncancel() <= self._cancelling

    def _fire(self) -> None:
        assert self._task is not None
        self._fired = True
        self.since = None
        self._task.cancel()

    def stop(self) -> None:
        self._watch.watched.discard(self)
