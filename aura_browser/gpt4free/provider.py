"""The gpt4free-style face: `Aura.create_async_generator(...)` and `get_args_from_browser(...)`.

Code written for gpt4free's `Aura` provider keeps working with only its import line changed:

```python
from aura_browser import Aura
from aura_browser.typing import Messages
messages: Messages = [{"role": "user", "content": "Hello, how are you?"}]
async for chunk in Aura.create_async_generator(model="openchat_3.6", messages=messages):
    print(chunk)
```

It goes through the same AuraClient, profile and transports as the CLI, and reads the same
AURA_* variables (see `environment.py`).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from .. import drivers
from ..client import AuraClient
from ..drivers.base import BrowserSession
from ..environment import DEFAULT_LOGIN_TIMEOUT, SITE_ENV, base_url_from_env, site_options_from_env
from ..errors import AuraError, WrongEventLoop
from ..settings import FROM_SETTINGS, Settings, timeouts_for
from ..sync import run_in_private_loop
from ..wire.api import DEFAULT_MODEL, model_ids
from .base import AsyncGeneratorProvider
from .typing import AsyncResult, CreateResult, Messages

log = logging.getLogger("aura_browser")

# Keyword arguments that are Settings: the site options of the AURA_* table, the transport, and
# `timeout` (seconds of silence allowed).
CLIENT_KWARGS = frozenset({*SITE_ENV, "transport", "timeout"})


class BaseUrl:
    """`Aura.url`: AURA_BASE_URL when set, else https://openchat.team; assigning `Aura.url = ...` overrides both."""

    def __get__(self, instance: object, owner: type) -> str:
        return base_url_from_env()


class SiteModels:
    """`Aura.models`: the model ids the saved profile's site listed at its last look (login, serve's /v1/models),
    else the static list. Reading it touches no network."""

    def __get__(self, instance: object, owner: type) -> list[str]:
        site = site_options_from_env()
        try:
            settings = Settings(owner.url, profile=site.get("profile"), profile_dir=site.get("profile_dir"))  # type: ignore[attr-defined]
            profile = settings.store().load(settings.profile_name)
            ours = profile is not None and profile.origin == settings.origin
        except AuraError:  # a broken profile or URL: the static list
            return model_ids(None)
        return model_ids(profile.models if ours and profile is not None else None)


def provider_settings(provider_url: str, proxy: str | None, kwargs: dict[str, Any]) -> Settings:
    """The settings of one call: explicit kwargs first, then the AURA_* variables, then the defaults."""
    ignored = sorted(set(kwargs) - CLIENT_KWARGS)
    if ignored:  # gpt4free passes its own (stream, api_key, ...); they mean nothing here
        log.debug("ignoring keyword arguments: %s", ", ".join(ignored))
    explicit = {k: v for k, v in kwargs.items() if k in CLIENT_KWARGS and v is not None}
    timeout = explicit.pop("timeout", None)
    if timeout is not None:
        explicit["timeouts"] = timeouts_for(float(timeout))
    return Settings.from_env(**{"base_url": provider_url, **explicit, "proxy": proxy})


async def stream_reply(
    cls: Any,  # the provider class (ours, or the gpt4free plug-in's): its `url` and `default_model`
    /,
    model: str,
    messages: Messages,
    proxy: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    webdriver: Any = None,
    **kwargs: Any,
) -> AsyncResult:
    """Yield the reply to `messages` as str chunks, as they arrive.

    `webdriver`: a running Selenium WebDriver or Playwright (async API) Page of your own. When a
    profile is needed (none saved, expired, or blocked) it is captured from it, and the in-page
    fallback runs in it. It is never closed.
    Other keyword arguments: `profile`, `profile_dir`, `base_url`, `browser`, `driver`, `insecure`,
    `browser_ws`, `cdp_url`, `remote_webdriver`, `transport` ("auto", "direct", "impersonate", "page"), `timeout`
    (seconds of silence allowed). `temperature` and `max_tokens` left None are the settings' (AURA_TEMPERATURE,
    AURA_MAX_TOKENS, else 0.5 and 8192).
    """
    settings = provider_settings(cls.url, proxy, kwargs)
    async with AuraClient(settings=settings, webdriver=webdriver) as client:
        async for chunk in client.stream(
            messages,
            model=model or cls.default_model,
            temperature=FROM_SETTINGS if temperature is None else temperature,
            max_tokens=FROM_SETTINGS if max_tokens is None else max_tokens,
        ):
            yield chunk


def refuse_async_page(webdriver: Any, what: str, instead: str) -> None:
    """A Playwright async-API Page belongs to its caller's event loop, which a sync call cannot drive."""
    if type(webdriver).__module__.startswith("playwright.async_api"):
        raise WrongEventLoop(f"{what} cannot drive a Playwright async-API Page; use {instead}")


class AuraTraits:
    """What both `Aura` classes (this one and `aura_browser.g4f`'s) tell gpt4free, and their one generator."""

    url = BaseUrl()
    working = True
    supports_stream = True
    supports_system_message = True
    supports_message_history = True
    default_model = DEFAULT_MODEL
    models = SiteModels()

    create_async_generator = classmethod(stream_reply)


class Aura(AuraTraits, AsyncGeneratorProvider):
    """OpenChat UI (openchat.team and its replicas), as gpt4free's `Aura` provider offered it."""

    @classmethod
    def create_completion(cls, model: str, messages: Messages, stream: bool = True, **kwargs: Any) -> CreateResult:
        refuse_async_page(kwargs.get("webdriver"), f"{cls.__name__}.create_completion",
                          f"'async for chunk in {cls.__name__}.create_async_generator(..., webdriver=page)'")
        return super().create_completion(model, messages, stream, **kwargs)


async def get_args_from_browser_async(
    url: str, webdriver: Any = None, proxy: str | None = None, timeout: float = DEFAULT_LOGIN_TIMEOUT, **kwargs: Any
) -> dict[str, Any]:
    """`get_args_from_browser` for async code, and the way to pass a Playwright async-API Page.

    The other site options (`browser`, `driver`, `insecure`, `browser_ws`, `cdp_url`, `remote_webdriver`) may be
    given as keyword arguments; otherwise their AURA_* variables apply (and AURA_PROXY when `proxy` is None).
    """
    site = {k: v for k, v in kwargs.items() if k in SITE_ENV and k != "base_url"}
    settings = Settings.from_env(**{**site, "base_url": url, "proxy": proxy, "login_timeout": timeout})
    base_url = settings.base_url
    options = dataclasses.replace(settings.launch_options(), screenshot_path=None)  # no profile is saved here
    session: BrowserSession = (
        drivers.adopt(webdriver, base_url, options)
        if webdriver is not None
        else drivers.new_session(settings.chosen_driver(), base_url, options)
    )
    try:
        await session.open(None)
        profile = await session.capture()
    finally:
        await session.close()
    return {"cookies": profile.cookies_for(base_url + "/"), "headers": {"user-agent": profile.user_agent, **profile.headers}}


def get_args_from_browser(url: str, webdriver: Any = None, proxy: str | None = None, timeout: float = DEFAULT_LOGIN_TIMEOUT) -> dict[str, Any]:
    """Open `url` in a browser (or in `webdriver`), pass its gate, and return what aiohttp needs to pass too.

    ```python
    args = get_args_from_browser("https://openchat.team")
    async with aiohttp.ClientSession(**args) as session: ...
    ```
    `{"cookies": {name: value}, "headers": {"user-agent": ..., <the headers the browser really sent>}}`:
    the client hints (sec-ch-ua*) are the browser's own, so they match its user agent.
    """
    refuse_async_page(webdriver, "get_args_from_browser", "'await get_args_from_browser_async(url, webdriver=page)'")
    return run_in_private_loop(get_args_from_browser_async(url, webdriver, proxy, timeout))
