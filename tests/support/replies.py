"""What the replica answers, to compare a reply with."""

from __future__ import annotations

from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages


def answer(prompt: str, system: str = "") -> str:
    return reply_text(as_messages(prompt), system)
