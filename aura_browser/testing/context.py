"""pytest-playwright's browser context from a saved profile, so its `page` starts already through the gate.

The gate's cookie is bound to the user agent (and the address) it was issued to, so the context gets the
profile's cookies and localStorage together with its user agent, the request headers that are the same on
every request, and its proxy. The browser should be the one that captured the profile (same major version),
or the client hints it sends contradict that user agent: `launch_args` points pytest-playwright at it.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..profile import Profile

# Of the captured headers, those a browser sends alike on every request (not sec-fetch-*, origin or referer,
# which belong to the one fetch they were captured from).
CONTEXT_HEADERS = ("accept-language", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform")


def context_args(profile: Profile, *, insecure: bool = False) -> dict[str, Any]:
    """Keyword arguments for Playwright's `browser.new_context()` (pytest-playwright's `browser_context_args`)."""
    from ..drivers.playwright import playwright_proxy

    args: dict[str, Any] = {"storage_state": profile.storage_state, "user_agent": profile.user_agent}
    headers = {name: value for name, value in profile.headers.items() if name in CONTEXT_HEADERS}
    if headers:
        args["extra_http_headers"] = headers
    if profile.proxy:
        args["proxy"] = playwright_proxy(profile.proxy)
    if insecure:
        args["ignore_https_errors"] = True
    return args


def launch_args(given: Mapping[str, Any], browser: str | None) -> dict[str, Any]:
    """pytest-playwright's `browser_type_launch_args`, with aura-browser's Chromium unless a browser was chosen."""
    from ..drivers.browser_path import find_chromium

    if "channel" in given or "executable_path" in given:
        return dict(given)
    return {**given, "executable_path": find_chromium(browser)}
