"""A conversation as OpenChat UI keeps one: its messages, settings, and the page's saved form.

The interactive session around it (`aura-browser chat`) is `aura_browser.cli.chat_session`.

The saved form is the page's own: localStorage `conversationHistory` is a list of
{id, name, messages, model, prompt, temperature, folderId}, and `/save` writes such a list.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..errors import FileUnusable
from ..wire.api import (
    APP_SYSTEM_PROMPT,
    APP_TEMPERATURE,
    DEFAULT_MAX_TOKENS,
    DEFAULT_MODEL,
    DEFAULT_TEMPERATURE,
    model_object,
)

if TYPE_CHECKING:
    from ..client import AuraClient

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
