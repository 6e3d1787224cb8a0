"""The documented import path of the gpt4free-style provider base class."""

from .gpt4free.base import AsyncGeneratorProvider

__all__ = ["AsyncGeneratorProvider"]
