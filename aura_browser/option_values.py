"""The values of options that `Settings` holds and the layers below it use too: `Timeouts`, the transport names
and the tiers `auto` climbs. Here, not in `transports/`, so that `settings.py` needs nothing of the transports."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from .errors import InvalidRequest

TransportName = Literal["auto", "direct", "impersonate", "page"]
# The tiers `auto` climbs, cheapest first; the last one needs a browser.
TIERS: tuple[str, ...] = ("direct", "impersonate", "page")


def require_seconds(value: Any, what: str) -> None:
    """A timeout must be a positive, finite number (NaN passes every comparison, so it is named here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InvalidRequest(f"{what} must be a positive number of seconds, not {value!r}")


@dataclass(frozen=True)
class Timeouts:
    """Seconds. `first_byte` runs from sending the request; `idle` between two chunks."""

    connect: float = 15.0
    first_byte: float = 60.0
    idle: float = 60.0

    def __post_init__(self) -> None:
        for name in ("connect", "first_byte", "idle"):
            require_seconds(getattr(self, name), f"Timeouts.{name}")
