"""Running a coroutine from a command: Ctrl-C, SIGTERM and SIGHUP cancel it, so every `finally` closes its browser."""

from __future__ import annotations

import signal
from typing import Any, Coroutine, TypeVar

T = TypeVar("T")


class Terminated(BaseException):
    """SIGTERM or SIGHUP (the terminal closed) arrived; like KeyboardInterrupt, not an error of the program's own."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signum)
        self.signum = signum  # the exit code is 128 + signum: 143 for SIGTERM, 129 for SIGHUP

    @property
    def word(self) -> str:
        return "hung up" if self.signum == signal.SIGHUP else "terminated"


# Signals that end a command the way SIGTERM does.
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, plus SIGTERM and SIGHUP handled like Ctrl-C: the task is cancelled and cleans up."""
    import asyncio  # here, not at the top: `aura-browser --help` should not pay for it

    terminated_by: int | None = None

    async def guarded() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def on_signal(signum: int) -> None:
            nonlocal terminated_by
            terminated_by = terminated_by or signum
            task.cancel()

        for signum in ENDING_SIGNALS:
            loop.add_signal_handler(signum, on_signal, signum)
        try:
            return await main
        finally:
            for signum in ENDING_SIGNALS:
                loop.remove_signal_handler(signum)

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError:
        if terminated_by is not None:
            raise Terminated(terminated_by) from None
        raise KeyboardInterrupt() from None
