"""The replica's botcheck gate: which checks a browser failed, and the environment of a server it runs on."""

from __future__ import annotations

import os


def server_env() -> dict[str, str]:
    """A server's environment: no display, no mode forced."""
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "AURA_HEADLESS")}


def failing(replica) -> dict[str, str]:
    return {row["id"]: row["value"] for row in replica.stats.last_botcheck if not row["pass"]}
