"""Answering a page's alert(), confirm() and prompt() as a person does: after a moment, with OK.

A program answers at once: Playwright dismisses a dialog nobody listens for within 10 ms (confirm() returns
false), and chromedriver dismisses it and fails the command it was running. Gates measure it: a public
detector flags an answer under 30 ms. A person reads the box first, then clicks OK (a prompt keeps its
default text): half a second to two seconds, never the same twice.
"""

from __future__ import annotations

import math
import random

ANSWER_DELAY = (0.5, 2.0)  # seconds: the shortest and the longest a person takes to answer a dialog
_TYPICAL = 0.9  # seconds: the usual answer; the delays spread around it (log-normal) within ANSWER_DELAY


def answer_delay() -> float:
    """Seconds to wait before answering a dialog: a person's reading time, jittered."""
    low, high = ANSWER_DELAY
    return min(high, max(low, random.lognormvariate(math.log(_TYPICAL), 0.35)))
