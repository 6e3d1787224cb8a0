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

# The one rule of every timeout, for the CLI, Settings (and its AURA_* variables) and the Python API alike.
MIN_TIMEOUT = 0.1  # seconds: the connect, first-byte and idle timeouts
MIN_LOGIN_TIMEOUT = 1.0  # seconds: a login's
DEFAULT_TIMEOUT = 60.0  # seconds of silence a reply may keep: to its first byte, and between two chunks
DEFAULT_CONNECT_TIMEOUT = 15.0  # seconds to connect


def seconds_problem(value: Any, minimum: float = MIN_TIMEOUT) -> str | None:
    """Why `value` is not a timeout of at least `minimum` seconds, or None when it is one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < minimum:
        # NaN passes every comparison, so finiteness is checked first
        return f"must be a positive number of seconds, not {value!r} (the least allowed is {minimum:g})"
    return None


def require_seconds(value: Any, what: str, minimum: float = MIN_TIMEOUT) -> None:
    """A timeout must be a finite number of at least `minimum` seconds (`seconds_problem`)."""
    problem = seconds_problem(value, minimum)
    if problem:
        raise InvalidRequest(f"{what} {problem}")


@dataclass(frozen=True)
class Timeouts:
    """Seconds. `first_byte` runs from sending the request; `idle` between two chunks."""

    connect: float = DEFAULT_CONNECT_TIMEOUT
    first_byte: float = DEFAULT_TIMEOUT
    idle: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        for name in ("connect", "first_byte", "idle"):
            require_seconds(getattr(self, name), f"Timeouts.{name}")
