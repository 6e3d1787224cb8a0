"""The documented import path of the gpt4free-style type names (`from aura_browser.typing import Messages`)."""

from .gpt4free.typing import AsyncResult, Cookies, CreateResult, Message, Messages

__all__ = ["AsyncResult", "Cookies", "CreateResult", "Message", "Messages"]
