"""The read-send-print loop of `aura-browser chat`, around a `Conversation`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..errors import AuraError, FileUnusable, OutputError, StreamInterrupted, exit_code_for
from ..sync import SessionLoop, Terminated
from ..tools.conversation import Conversation

if TYPE_CHECKING:
    from ..client import AuraClient


HELP = "/system TEXT (no TEXT: none), /reset, /save FILE, /exit. Ctrl-C stops a reply; Ctrl-D leaves."


class ChatSession:
    """The read-send-print loop of `aura-browser chat`, on one client and one event loop for its whole life.

    Ctrl-C during a reply cancels that reply only; Ctrl-C at the prompt drops the line typed so far.
    SIGTERM or SIGHUP ends the session (Terminated) after the reply in flight is cancelled and the browser closed.
    """

    def __init__(self, client: AuraClient, conversation: Conversation, *, read_line: Callable[[], str],
                 write: Callable[[str], None], note: Callable[[str], None]) -> None:
        self.client = client
        self.conversation = conversation
        self.read_line = read_line  # raises EOFError at the end, KeyboardInterrupt on Ctrl-C
        self.write = write  # reply text (stdout)
        self.note = note  # everything else (stderr)
        self.loop = SessionLoop()
        self.failure_code = 0  # the exit code `ask` would give for the last reply that failed; 0: none did

    def run(self) -> None:
        try:
            with self.loop.ending_signals_raise():
                while self.step():
                    pass
        finally:
            self.loop.close(self.client.close())

    def step(self) -> bool:
        """Read one line and act on it; False when the session is over."""
        try:
            line = self.read_line()
        except EOFError:
            return False
        except KeyboardInterrupt:
            self.note("")  # the typed line is dropped; the session goes on
            return True
        text = line.strip()
        if not text:
            return True
        if text.startswith("/") and not text.startswith("//"):
            return self.command(text)
        self.reply(text[1:] if text.startswith("//") else text)  # "//x" sends "/x"
        return True

    def command(self, text: str) -> bool:
        name, _, argument = text.partition(" ")
        argument = argument.strip()
        if name in ("/exit", "/quit"):
            return False
        if name == "/system":
            self.conversation.system = argument
            self.note(f"system prompt: {argument}" if argument else "system prompt cleared")
        elif name == "/reset":
            self.conversation.reset()
            self.note("conversation reset")
        elif name == "/save":
            if not argument:
                self.note("aura-browser: /save needs a FILE")
            else:
                path = Path(argument).expanduser()
                try:
                    self.conversation.save(path)
                    self.note(f"saved {len(self.conversation.messages)} messages to {path}")
                except FileUnusable as exc:
                    self.note(f"aura-browser: error: {exc}")
        elif name == "/help":
            self.note(HELP)
        else:
            self.note(f"aura-browser: unknown command {name}; {HELP}")
        return True

    def reply(self, text: str) -> None:
        printed: list[str] = []

        def show(chunk: str) -> None:
            printed.append(chunk)
            self.write(chunk)

        try:
            self.loop.run_interruptible(self.conversation.send(self.client, text, show))
        except Terminated:
            self._end_line(printed)
            raise
        except asyncio.CancelledError:  # Ctrl-C: this reply only
            self._end_line(printed)
            self.note("[reply stopped]")
            self.failure_code = 130
            return
        except OutputError:
            raise  # stdout is closed, full or gone: the session cannot go on
        except AuraError as exc:
            self._end_line(printed)
            kept = " (what arrived is kept)" if isinstance(exc, StreamInterrupted) else ""
            self.note(f"aura-browser: error: {exc}{kept}")
            self.failure_code = exit_code_for(exc)
            return
        self._end_line(printed)

    def _end_line(self, printed: list[str]) -> None:
        if printed and not printed[-1].endswith("\n"):
            self.write("\n")
