"""What `aura_browser` exports is its public API, written down once in `__all__` (as httpx's test of its exports)."""

from __future__ import annotations

import types

import aura_browser
import aura_browser.errors


def test_all_is_the_sorted_list_of_every_public_name():
    assert aura_browser.__all__ == sorted(aura_browser.__all__, key=str.casefold)
    loaded = {name for name, value in vars(aura_browser).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"}
    assert loaded <= set(aura_browser.__all__), loaded - set(aura_browser.__all__)


def test_every_exported_name_resolves_to_the_package_own_object():
    for name in aura_browser.__all__:
        value = getattr(aura_browser, name)
        assert value.__module__.startswith("aura_browser."), (name, value.__module__)
        assert value.__name__ == name


# The tools' own errors (a batch's or serve's files and port, the CLI's output), never raised by the client.
TOOL_ERRORS = {"FileUnusable", "CannotListen", "OutputError"}


def test_what_the_client_returns_and_raises_is_exported():
    errors = {name for name, value in vars(aura_browser.errors).items()
              if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == "aura_browser.errors"}
    assert errors - TOOL_ERRORS <= set(aura_browser.__all__), errors - TOOL_ERRORS - set(aura_browser.__all__)
    assert {"AuraClient", "Settings", "Timeouts", "Profile", "StreamStats", "WrongEventLoop"} <= set(aura_browser.__all__)
    assert set(aura_browser.__all__) <= set(dir(aura_browser))
