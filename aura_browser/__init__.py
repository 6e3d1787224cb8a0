"""aura-browser: talk to OpenChat UI deployments the way a browser does.

The public face is small: `AuraClient` (async) and, for code written for gpt4free's
provider, `Aura`. Neither Playwright nor Selenium is imported until a browser is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    ResponseTimeout,
    SiteDown,
    SiteError,
    StreamInterrupted,
)

if TYPE_CHECKING:
    from .client import AuraClient
    from .gpt4free.provider import Aura, get_args_from_browser, get_args_from_browser_async
    from .settings import Settings
    from .transports.base import Timeouts

__all__ = [
    "Aura",
    "AuraClient",
    "get_args_from_browser",
    "get_args_from_browser_async",
    "Settings",
    "Timeouts",
    "AuraError",
    "Blocked",
    "BrowserError",
    "ClientClosed",
    "DeploymentDisabled",
    "GateNotPassed",
    "InvalidRequest",
    "LoginRequired",
    "NetworkError",
    "NotThisApp",
    "ProfileBusy",
    "ProfileError",
    "ResponseTimeout",
    "SiteDown",
    "SiteError",
    "StreamInterrupted",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Lazy, so `import aura_browser` (and `aura-browser --help`) stays cheap: no aiohttp until used.
    if name == "AuraClient":
        from .client import AuraClient

        return AuraClient
    if name in ("Aura", "get_args_from_browser", "get_args_from_browser_async"):
        from .gpt4free import provider

        return getattr(provider, name)
    if name == "Settings":
        from .settings import Settings

        return Settings
    if name == "Timeouts":
        from .transports.base import Timeouts

        return Timeouts
    raise AttributeError(f"module 'aura_browser' has no attribute {name!r}")
