"""A conversation as OpenChat UI keeps one, and the interactive session (`aura-browser chat`) around it.

The saved form is the page's own: localStorage `conversationHistory` is a list of
{id, name, messages, model, prompt, temperature, folderId}, and `/save` writes such a list.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .wire.api import APP_SYSTEM_PROMPT, APP_TEMPERATURE, DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_TEMPERATURE, model_object
from .errors import AuraError, FileUnusable, OutputError, StreamInterrupted, exit_code_for
from .run import ENDING_SIGNALS, Terminated

if TYPE_CHECKING:
    from .client import AuraClient

NEW_NAME = "New Conversation"  # what the page calls a conversation before its first message
NAME_LENGTH = 30  # the page names a conversation after the first 30 characters of its first message, then "..."


@dataclass
class Conversation:
    system: str = ""
    model: str = DEFAULT_MODEL
    temperature: float | None = DEFAULT_TEMPERATURE
    max_tokens: int = DEFAULT_MAX_TOKENS
    messages: list[dict[str, str]] = field(default_factory=list)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    name: str = NEW_NAME

    def request(self, text: str) -> list[dict[str, str]]:
        """What to send for the next user message: the system prompt, the history, the message."""
        system = [{"role": "system", "content": self.system}] if self.system else []
        return system + self.messages + [{"role": "user", "content": text}]

    def add_exchange(self, text: str, reply: str) -> None:
        if not self.messages:
            self.name = text[:NAME_LENGTH] + "..." if len(text) > NAME_LENGTH else text
        self.messages += [{"role": "user", "content": text}, {"role": "assistant", "content": reply}]

    def reset(self) -> None:
        """Start over as the page's "New chat" does: a new id, no messages. The system prompt stays."""
        self.messages = []
        self.id = str(uuid.uuid4())
        self.name = NEW_NAME

    def to_site(self) -> dict[str, Any]:
        """One entry of the page's `conversationHistory`."""
        return {
            "id": self.id,
            "name": self.name,
            "messages": [dict(m) for m in self.messages],
            "model": model_object(self.model, self.max_tokens),
            # An empty prompt is the app's own default, and the page shows (and imports) it as such.
            "prompt": self.system or APP_SYSTEM_PROMPT,
            "temperature": APP_TEMPERATURE if self.temperature is None else self.temperature,
            "folderId": None,
        }

    def save(self, path: Path) -> None:
        """Write `[conversation]`, the shape of localStorage `conversationHistory`; a new file is 0600, as it holds
        the whole conversation."""
        text = json.dumps([self.to_site()], ensure_ascii=False, indent=2) + "\n"
        try:
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
                out.write(text)
        except OSError as exc:
            raise FileUnusable(f"cannot write {path}: {exc.strerror or exc}") from None
        except ValueError:  # a NUL in the name
            raise FileUnusable(f"cannot write {str(path)!r}: a file name cannot hold a NUL character") from None

    async def send(self, client: AuraClient, text: str, on_chunk: Callable[[str], None]) -> str:
        """Stream the reply to `text`. What arrived is kept in the history even when the reply is cut
        short (Ctrl-C, a dropped connection), as the page keeps it on "Stop Generating"."""
        parts: list[str] = []
        try:
            async for chunk in client.stream(self.request(text), model=self.model, temperature=self.temperature,
                                             max_tokens=self.max_tokens):
                parts.append(chunk)
                on_chunk(chunk)
        finally:
            if parts:  # an unanswered message is left out, so asking again does not send it twice
                self.add_exchange(text, "".join(parts))
        return "".join(parts)


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
        self.loop = asyncio.new_event_loop()
        self._terminated_by: int | None = None
        self.failure_code = 0  # the exit code `ask` would give for the last reply that failed; 0: none did

    def run(self) -> None:
        previous = {signum: signal.signal(signum, self._raise_terminated) for signum in ENDING_SIGNALS}
        try:
            while self.step():
                pass
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            try:
                self.loop.run_until_complete(self.client.close())
            finally:
                self.loop.close()

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
            self.loop.run_until_complete(self._interruptible(self.conversation.send(self.client, text, show)))
        except asyncio.CancelledError:
            self._end_line(printed)
            if self._terminated_by is not None:
                raise Terminated(self._terminated_by) from None
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

    async def _interruptible(self, work: Any) -> Any:
        """Run `work` with SIGINT (and SIGTERM) cancelling it instead of ending the program."""
        task = asyncio.ensure_future(work)

        def on_ending(signum: int) -> None:
            self._terminated_by = signum
            task.cancel()

        self.loop.add_signal_handler(signal.SIGINT, task.cancel)
        for signum in ENDING_SIGNALS:
            self.loop.add_signal_handler(signum, on_ending, signum)
        try:
            return await task
        finally:
            self.loop.remove_signal_handler(signal.SIGINT)  # restores Python's KeyboardInterrupt handler
            for signum in ENDING_SIGNALS:
                self.loop.remove_signal_handler(signum)
                signal.signal(signum, self._raise_terminated)

    def _end_line(self, printed: list[str]) -> None:
        if printed and not printed[-1].endswith("\n"):
            self.write("\n")

    def _raise_terminated(self, signum: int, frame: Any) -> None:
        raise Terminated(signum)
