"""Running a coroutine from a command: Ctrl-C and SIGTERM cancel it, so every `finally` closes its browser."""

from __future__ import annotations

from typing import Any, Coroutine, TypeVar

T = TypeVar("T")


class Terminated(BaseException):
    """SIGTERM arrived; like KeyboardInterrupt, it is not an error of the program's own."""


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, plus SIGTERM handled like Ctrl-C: the task is cancelled and cleans up."""
    import asyncio  # here, not at the top: `aura-browser --help` should not pay for it
    import signal

    terminated = False

    async def guarded() -> T:
        nonlocal terminated
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def on_sigterm() -> None:
            nonlocal terminated
            terminated = True
            task.cancel()

        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        try:
            return await main
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError:
        if terminated:
            raise Terminated() from None
        raise KeyboardInterrupt() from None
