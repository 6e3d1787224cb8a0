"""--aura-browser-context: pytest-playwright's fixtures of the same names, given the saved profile.

Registered as a plugin (after pytest-playwright) only when the option is given. Module-level fixtures: a
session fixture written as an instance method is deprecated in pytest (PytestRemovedIn10Warning).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from ..environment import env_name


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any], aura_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, **aura_context_args}


@pytest.fixture(scope="session")
def browser_type_launch_args(pytestconfig: pytest.Config, browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    from .context import launch_args
    from .live import explained

    browser = pytestconfig.getoption("aura_browser") or os.environ.get(env_name("browser")) or None
    with explained("find the Chromium for pytest-playwright"):
        return launch_args(browser_type_launch_args, browser)
