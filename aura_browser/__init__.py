"""aura-browser: talk to OpenChat UI deployments the way a browser does.

The public face is small: `AuraClient` (async) and, for code written for gpt4free's
provider, `Aura`. Neither Playwright nor Selenium is imported until a browser is needed.
"""

from __future__ import annotations

import typing as _typing

if _typing.TYPE_CHECKING:
    from .client import AuraClient
    from .errors import (
        AuraError,
        Blocked,
        BrowserError,
        ClientClosed,
        DeploymentDisabled,
        GateNotPassed,
        InvalidRequest,
        LoginRequired,
        NetworkError,
        NotThisApp,
        ProfileBusy,
        ProfileError,
        Redirected,
        ReplyTooLarge,
        ResponseTimeout,
        SiteDown,
        SiteError,
        StreamInterrupted,
        WrongEventLoop,
    )
    from .gpt4free.provider import Aura, get_args_from_browser, get_args_from_browser_async
    from .option_values import Timeouts
    from .profile import Profile
    from .settings import Settings
    from .transports.base import StreamStats

# The public API: these names, and the documented import paths `aura_browser.typing`, `.providers`, `.g4f`
# (gpt4free's) and `aura_browser.testing` (the pytest plugin). Every other module is internal: its names may change.
__all__ = [
    "Aura",
    "AuraClient",
    "AuraError",
    "Blocked",
    "BrowserError",
    "ClientClosed",
    "DeploymentDisabled",
    "GateNotPassed",
    "get_args_from_browser",
    "get_args_from_browser_async",
    "InvalidRequest",
    "LoginRequired",
    "NetworkError",
    "NotThisApp",
    "Profile",
    "ProfileBusy",
    "ProfileError",
    "Redirected",
    "ReplyTooLarge",
    "ResponseTimeout",
    "Settings",
    "SiteDown",
    "SiteError",
    "StreamInterrupted",
    "StreamStats",
    "Timeouts",
    "WrongEventLoop",
]
__version__ = "0.1.0"

# Imported when first asked for, so `import aura_browser` (and `aura-browser --help`) stays cheap: no aiohttp until
# used, and not even the errors for --help. Every public name not in this table is an error class of `errors`.
_LAZY = {
    "AuraClient": "client",
    "Aura": "gpt4free.provider",
    "get_args_from_browser": "gpt4free.provider",
    "get_args_from_browser_async": "gpt4free.provider",
    "Profile": "profile",
    "Settings": "settings",
    "StreamStats": "transports.base",
    "Timeouts": "option_values",
}


def __getattr__(name: str) -> _typing.Any:
    if name in __all__:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY.get(name, 'errors')}", __name__), name)
    raise AttributeError(f"module 'aura_browser' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
