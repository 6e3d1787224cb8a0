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

from .provider import Aura as AuraProvider
from .provider import BaseUrl, SiteModels


class Aura(AsyncGeneratorProvider, ProviderModelMixin):
    """OpenChat UI (openchat.team and its replicas) through aura-browser: same profile, transports and AURA_* variables."""

    label = "OpenChat Aura (aura-browser)"
    url = BaseUrl()  # type: ignore[assignment]
    working = True
    supports_stream = True
    supports_system_message = True
    supports_message_history = True
    default_model = AuraProvider.default_model
    models = SiteModels()  # type: ignore[assignment]

    # The same function as aura_browser.Aura's, bound to this class: `cls.url` and `cls.default_model` are ours.
    create_async_generator = classmethod(AuraProvider.create_async_generator.__func__)  # type: ignore[attr-defined]
