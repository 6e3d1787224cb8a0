"""The one interface every transport implements, and the timeouts they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncGenerator, Protocol

from ..environment import MIN_TIMEOUT, seconds_problem
from ..errors import InvalidRequest

if TYPE_CHECKING:
    from ..profile import Profile


def require_seconds(value: Any, what: str, minimum: float = MIN_TIMEOUT) -> None:
    """A timeout must be a finite number of at least `minimum` seconds."""
    problem = seconds_problem(value, minimum)
    if problem:
        raise InvalidRequest(f"{what} {problem}")


@dataclass(frozen=True)
class Timeouts:
    """Seconds. `first_byte` runs from sending the request; `idle` between two chunks."""

    connect: float = 15.0
    first_byte: float = 60.0
    idle: float = 60.0

    def __post_init__(self) -> None:
        for name in ("connect", "first_byte", "idle"):
            require_seconds(getattr(self, name), f"Timeouts.{name}")


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
