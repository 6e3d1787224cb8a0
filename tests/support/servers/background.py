"""An asyncio loop on a background thread, for test servers that sync tests (and subprocesses) talk to."""

from __future__ import annotations

import asyncio
import threading
from contextlib import contextmanager
from typing import Any, Coroutine, Iterator, TypeVar

T = TypeVar("T")


@contextmanager
def background_loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-server", daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def call(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
    """Run `coroutine` on the background loop and wait for its result."""
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)
