"""The one line on stderr that says what a login is doing, redrawn in place and gone when it is done.

Drawn only on a terminal (a pipe or a file gets nothing), and not with -q, nor with -v (the log lines say it
then). A stage that waits (the challenge) shows its seconds, redrawn each second by a small thread that exists
only while such a stage runs.

Plain ANSI (carriage return, erase line), not `rich`: one line needs nothing more, rich's import would cost every
command that logs in, and `--help` must stay near click's own start (bench B5). doctor's table is plain text
that pipes and greps, and batch's progress bar stays tqdm's.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Iterator, TextIO

from .. import progress

CLEAR = "\r\x1b[2K"


class StatusLine:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.stage: str | None = None
        self.since = 0.0
        self.shown = False
        self._lock = threading.Lock()
        self._ticking: threading.Event | None = None

    def __call__(self, stage: str | None) -> None:
        with self._lock:
            if stage == self.stage:
                return
            self.stage, self.since = stage, time.monotonic()
            self._draw()
        self._tick(stage in progress.TIMED_STAGES)

    def _draw(self) -> None:
        try:
            if self.stage is None:
                if self.shown:
                    self.stream.write(CLEAR)
                    self.shown = False
            else:
                text = f"aura-browser: {self.stage}"
                if self.stage in progress.TIMED_STAGES:
                    text += f" {time.monotonic() - self.since:.0f} s"
                self.stream.write(f"{CLEAR}{text}...")
                self.shown = True
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: the command's own outcome says the rest
            pass

    def _tick(self, wanted: bool) -> None:
        if wanted and self._ticking is None:
            stop = self._ticking = threading.Event()

            def redraw() -> None:
                while not stop.wait(1.0):
                    with self._lock:
                        if self.stage in progress.TIMED_STAGES:
                            self._draw()

            threading.Thread(target=redraw, name="aura-status-line", daemon=True).start()
        elif not wanted and self._ticking is not None:
            self._ticking.set()
            self._ticking = None


@contextlib.contextmanager
def showing_progress(enabled: bool) -> Iterator[None]:
    """While the command runs, draw the login's stages on stderr when `enabled` and stderr is a terminal."""
    stream = sys.stderr
    if not enabled or not stream.isatty():
        yield
        return
    with progress.listening(StatusLine(stream)):
        yield
