"""Running async code from sync code: every way aura-browser does it, one policy per kind of caller.

| policy                         | for                                    | when this thread already runs a loop  |
|--------------------------------|----------------------------------------|---------------------------------------|
| `run_command(main)`            | a CLI command, on the main thread      | not expected (a command starts none)  |
| `SessionLoop`                  | an interactive session (`chat`)        | not expected                          |
| `run_in_private_loop(main)`    | the sync library face (gpt4free's)     | runs in a worker thread, caller waits |
| `iterate_in_private_loop(it)`  | sync iteration over an async stream    | refused: `WrongEventLoop`             |
| `run_in_worker_thread(main)`   | test helpers beside foreign loops      | always a worker thread                |

The two command policies turn signals into cancellation, so every `finally` on the way out closes its browser:
Ctrl-C becomes KeyboardInterrupt (exit 130), SIGTERM and SIGHUP become `Terminated` (exit 143, 129).
An iterator is refused rather than moved to a thread: each item would block the caller's loop while it waits.

asyncio is imported inside the functions: `aura-browser --help` imports this module and should not pay for it.
"""

from __future__ import annotations

import contextlib
import signal
from typing import TYPE_CHECKING, Any, AsyncIterator, Coroutine, Iterable, Iterator, TypeVar

from .errors import WrongEventLoop

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")
_END = object()

# Signals that end a command the way SIGTERM does.
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Terminated(BaseException):
    """SIGTERM or SIGHUP (the terminal closed) arrived; like KeyboardInterrupt, not an error of the program's own."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signum)
        self.signum = signum  # the exit code is 128 + signum: 143 for SIGTERM, 129 for SIGHUP

    @property
    def word(self) -> str:
        return "hung up" if self.signum == signal.SIGHUP else "terminated"


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated(signum)


async def _cancelled_by(signums: Iterable[int], work: Coroutine[Any, Any, T], received: list[int]) -> T:
    """Await `work`; each of `signums` cancels it and is appended to `received`."""
    import asyncio

    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    signums = tuple(signums)

    def on_signal(signum: int) -> None:
        received.append(signum)
        task.cancel()

    for signum in signums:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        return await work
    finally:
        for signum in signums:
            loop.remove_signal_handler(signum)  # SIGINT gets Python's KeyboardInterrupt handler back


def _ending_signal(received: list[int]) -> int | None:
    return next((signum for signum in received if signum in ENDING_SIGNALS), None)


def run_command(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, plus SIGTERM and SIGHUP handled like Ctrl-C: the task is cancelled and cleans up, then
    KeyboardInterrupt (Ctrl-C) or Terminated is raised."""
    import asyncio

    received: list[int] = []
    try:
        return asyncio.run(_cancelled_by(ENDING_SIGNALS, main, received))
    except asyncio.CancelledError:
        signum = _ending_signal(received)
        if signum is not None:
            raise Terminated(signum) from None
        raise KeyboardInterrupt() from None


class SessionLoop:
    """One event loop for the whole life of an interactive session (`aura-browser chat`): its client stays open
    on it from one reply to the next.

    Inside `ending_signals_raise()` (the session waiting at its prompt), SIGTERM and SIGHUP raise Terminated
    where the session is. During `run_interruptible`, Ctrl-C cancels that work only (asyncio.CancelledError),
    and SIGTERM or SIGHUP cancel it and then raise Terminated.
    """

    def __init__(self) -> None:
        import asyncio

        self.loop: asyncio.AbstractEventLoop = asyncio.new_event_loop()

    @contextlib.contextmanager
    def ending_signals_raise(self) -> Iterator[None]:
        previous = {signum: signal.signal(signum, _raise_terminated) for signum in ENDING_SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def run_interruptible(self, work: Coroutine[Any, Any, T]) -> T:
        import asyncio

        received: list[int] = []
        around = {signum: signal.getsignal(signum) for signum in ENDING_SIGNALS}
        try:
            return self.loop.run_until_complete(_cancelled_by((signal.SIGINT, *ENDING_SIGNALS), work, received))
        except asyncio.CancelledError:
            signum = _ending_signal(received)
            if signum is not None:
                raise Terminated(signum) from None
            raise
        finally:
            for signum, handler in around.items():
                signal.signal(signum, handler)

    def close(self, last: Coroutine[Any, Any, Any] | None = None) -> None:
        """Run `last` (closing the client), then close the loop."""
        try:
            if last is not None:
                self.loop.run_until_complete(last)
        finally:
            self.loop.close()


def refuse_running_loop(what: str, instead: str) -> None:
    """Raise WrongEventLoop when called from a thread whose event loop is running."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise WrongEventLoop(f"{what} cannot be called from inside a running event loop; use {instead}")


async def _next(chunks: AsyncIterator[T]) -> Any:
    try:
        return await anext(chunks)
    except StopAsyncIteration:
        return _END


async def _close(chunks: AsyncIterator[Any]) -> None:
    close = getattr(chunks, "aclose", None)
    if close is not None:
        await close()


def iterate_in_private_loop(chunks: AsyncIterator[T], *, what: str, instead: str) -> Iterator[T]:
    """Yield the items of an async iterator as they arrive, driving it on a private loop.

    Leaving early (break, an exception, Ctrl-C, the generator being closed) closes the async
    iterator on that loop first, so its `finally` blocks run (they close browsers), then the loop.
    """
    import asyncio

    refuse_running_loop(what, instead)
    with asyncio.Runner() as runner:
        try:
            while True:
                item = runner.run(_next(chunks))
                if item is _END:
                    return
                yield item
        finally:
            runner.run(_close(chunks))


def run_in_worker_thread(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh loop in a worker thread, and wait for it: it never meets a loop of the caller's
    (pytest-asyncio's, pytest-playwright's sync browser, an application's)."""
    import asyncio
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="aura-sync") as pool:
        return pool.submit(asyncio.run, main).result()


def run_in_private_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code.

    From a thread with a running loop, it runs on a private loop in a worker thread and blocks
    the caller until done (so code that called the sync function from async code keeps working).
    """
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main)
    return run_in_worker_thread(main)
