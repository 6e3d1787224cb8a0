"""`AsyncGeneratorProvider`: the small base class of gpt4free-style providers.

A provider is a class, used through classmethods, never instantiated. It implements one async
generator, `create_async_generator`; the sync `create_completion` is built on it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..sync import iterate_in_private_loop, refuse_running_loop
from .typing import AsyncResult, CreateResult, Messages


class AsyncGeneratorProvider:
    """Base class: subclasses implement `create_async_generator` and set the attributes below."""

    url: ClassVar[str] = ""
    working: ClassVar[bool] = False
    supports_stream: ClassVar[bool] = True
    supports_system_message: ClassVar[bool] = False
    supports_message_history: ClassVar[bool] = False
    default_model: ClassVar[str] = ""
    models: ClassVar[list[str]] = []

    @classmethod
    async def create_async_generator(cls, model: str, messages: Messages, **kwargs: Any) -> AsyncResult:
        """Yield the reply to `messages` as str chunks, as they arrive."""
        raise NotImplementedError(f"{cls.__name__} does not implement create_async_generator")
        yield  # pragma: no cover - makes this an async generator, like the overrides

    @classmethod
    def create_completion(cls, model: str, messages: Messages, stream: bool = True, **kwargs: Any) -> CreateResult:
        """The sync face of `create_async_generator`: a generator of the same str chunks.

        `stream=False` yields the whole reply as one str. The async generator runs on a private
        event loop in this thread; chunks are yielded as they arrive, and leaving the loop early
        closes the async generator (and any browser it opened).

        It cannot be called from inside a running event loop (it raises WrongEventLoop there):
        from async code, iterate `create_async_generator` instead.
        """
        where = f"{cls.__name__}.create_completion"
        instead = f"'async for chunk in {cls.__name__}.create_async_generator(...)'"
        refuse_running_loop(where, instead)  # now, not at the first next()
        chunks = iterate_in_private_loop(cls.create_async_generator(model, messages, **kwargs), what=where, instead=instead)
        return chunks if stream else _joined(chunks)


def _joined(chunks: CreateResult) -> CreateResult:
    yield "".join(chunks)
