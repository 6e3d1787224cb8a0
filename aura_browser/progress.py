"""What a login is doing now, for whoever shows it: the drivers and the client report stages, the CLI draws them.

A driver calls `report(STAGE)` as it goes; `report(None)` says the work is done. Nothing is shown unless a
listener is installed (`listening`): the CLI's status line on a terminal. Reporting costs nothing otherwise.
The listener is process-wide, not per task: the one CLI command shows the one login it runs, also when a driver
reports from a worker thread.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

STARTING_BROWSER = "starting the browser"
OPENING_SITE = "opening the site"
WAITING_FOR_CHALLENGE = "waiting out the challenge"  # shown with the seconds waited so far
CLICKING_CHECKBOX = "clicking the checkbox"  # a driver that clicks the interactive challenge's checkbox
READING_SESSION = "reading the session"
SAVED = "saved the profile"
TIMED_STAGES = frozenset({WAITING_FOR_CHALLENGE, CLICKING_CHECKBOX})

Listener = Callable[[str | None], None]
_listener: Listener | None = None


def report(stage: str | None) -> None:
    """Say what the login is doing now (one of the stages above); None: it is done."""
    if _listener is not None:
        _listener(stage)


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send the stages reported meanwhile to `listener`, then `None` once at the end."""
    global _listener
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous
        listener(None)
