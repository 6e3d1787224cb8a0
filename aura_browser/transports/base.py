"""The one interface every transport implements, and what a stream reports (`StreamStats`).

`Timeouts` (which they share) lives in `option_values.py`, beside the settings; it is named here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncGenerator, Protocol

from ..option_values import Timeouts, require_seconds

if TYPE_CHECKING:
    from ..profile import Profile

__all__ = ["StreamStats", "Timeouts", "Transport", "require_seconds"]


@dataclass
class StreamStats:
    """Filled in while a reply streams, for `ask --json` and batch records."""

    transport: str = ""
    ttfb: float | None = None  # seconds to the first chunk of text
    elapsed: float | None = None
    queue: float | None = None  # in-page only: seconds waiting for the page to have a free connection
    # The app trims old messages to fit the model's tokenLimit: how many it will drop, by our over-estimate.
    trimmed_messages: int = 0
    estimated_tokens: int | None = None  # the app's count of what it keeps, reply reserve included

    @property
    def queue_ms(self) -> float | None:
        return round(self.queue * 1000, 1) if self.queue is not None else None

    @property
    def ttfb_ms(self) -> float | None:
        return round(self.ttfb * 1000, 1) if self.ttfb is not None else None

    @property
    def elapsed_ms(self) -> float | None:
        return round(self.elapsed * 1000, 1) if self.elapsed is not None else None


class Transport(Protocol):
    """One way to send a chat request. It takes the profile per call, so concurrent streams can share it
    (and its connections) while one of them moves to a fresher profile."""

    @property
    def name(self) -> str: ...

    def stream(self, profile: Profile, body: dict[str, Any], stats: StreamStats | None = None) -> AsyncGenerator[str, None]:
        """Yield the reply's text as it arrives, sent with `profile`. Raises only aura_browser.errors types;
        `Blocked` only before any text."""
        ...

    async def aclose(self) -> None: ...
