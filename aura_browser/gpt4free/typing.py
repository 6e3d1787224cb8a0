"""The types of the gpt4free-style provider face, named as gpt4free named them (`g4f.typing`).

```python
from aura_browser.typing import Messages
messages: Messages = [{"role": "user", "content": "Hello, how are you?"}]
```
"""

from __future__ import annotations

from typing import AsyncIterator, Dict, Iterator, List, TypedDict


class Message(TypedDict):
    role: str  # "system", "user" or "assistant"
    content: str


Messages = List[Message]
Cookies = Dict[str, str]
AsyncResult = AsyncIterator[str]  # what `create_async_generator` returns: the reply's text chunks
CreateResult = Iterator[str]  # what the sync `create_completion` returns

__all__ = ["AsyncResult", "Cookies", "CreateResult", "Message", "Messages"]
