"""The documented import path of the gpt4free plug-in (`from aura_browser.g4f import Aura`; needs the `g4f` extra)."""

from .gpt4free.plugin import Aura

__all__ = ["Aura"]
