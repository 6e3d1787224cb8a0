"""The one interface every transport implements, and the timeouts they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator, Protocol


@dataclass(frozen=True)
class Timeouts:
    """Seconds. `first_byte` runs from sending the request; `idle` between two chunks."""

    connect: float = 15.0
    first_byte: float = 60.0
    idle: float = 60.0


@dataclass
class StreamStats:
    """Filled in while a reply streams, for `ask --json` and batch records."""

    transport: str = ""
    ttfb: float | None = None  # seconds to the first chunk of text
    elapsed: float | None = None
    # The app trims old messages to fit the model's tokenLimit: how many it will drop, by our over-estimate.
    trimmed_messages: int = 0
    estimated_tokens: int | None = None  # the app's count of what it keeps, reply reserve included

    @property
    def ttfb_ms(self) -> float | None:
        return round(self.ttfb * 1000, 1) if self.ttfb is not None else None

    @property
    def elapsed_ms(self) -> float | None:
        return round(self.elapsed * 1000, 1) if self.elapsed is not None else None


class Transport(Protocol):
    name: str

    def stream(self, body: dict[str, Any]) -> AsyncIterator[str]:
        """Yield the reply's text as it arrives. Raises only aura_browser.errors types."""
        ...

    async def aclose(self) -> None: ...
