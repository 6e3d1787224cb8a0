"""The gpt4free plug-in: `Aura`, a provider that gpt4free's own client drives.

gpt4free deleted its Aura provider in 2025; this restores it on top of aura-browser.
Install with `pip install 'aura-browser[g4f]'`, then:

```python
from g4f.client import AsyncClient
from aura_browser.g4f import Aura

reply = await AsyncClient().chat.completions.create(model="openchat_3.6", messages=messages, provider=Aura)
print(reply.choices[0].message.content)
```
"""

from __future__ import annotations

try:
    from g4f.providers.base_provider import AsyncGeneratorProvider, ProviderModelMixin
except ImportError as exc:  # the extra is not installed
    raise ImportError("aura_browser.g4f needs gpt4free: pip install 'aura-browser[g4f]'") from exc

from .provider import AuraTraits


class Aura(AuraTraits, AsyncGeneratorProvider, ProviderModelMixin):
    """OpenChat UI (openchat.team and its replicas) through aura-browser: same profile, transports and AURA_* variables."""

    label = "OpenChat Aura (aura-browser)"
