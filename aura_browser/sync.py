"""The thin sync face over the async core: run it on a private event loop, one per call.

Only for callers that have no event loop of their own running in this thread; from async
code, use the async API itself (a loop cannot wait on itself).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, AsyncIterator, Coroutine, Iterator, TypeVar

from .errors import WrongEventLoop

T = TypeVar("T")
_END = object()


def refuse_running_loop(what: str, instead: str) -> None:
    """Raise WrongEventLoop when called from a thread whose event loop is running."""
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


def run_in_private_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code.

    From a thread with a running loop, it runs on a private loop in a worker thread and blocks
    the caller until done (so code that called the sync function from async code keeps working).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="aura-sync") as pool:
        return pool.submit(asyncio.run, main).result()
