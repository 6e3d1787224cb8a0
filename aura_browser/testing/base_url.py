"""The `base_url` fixture, for a pytest run that has neither pytest-base-url nor pytest-playwright's own.

Registered as a plugin by aura_browser.testing.plugin only then. A module-level fixture: a session fixture
written as an instance method is deprecated in pytest (PytestRemovedIn10Warning).
"""

from __future__ import annotations

import pytest

from .plugin import site_base_url


@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config) -> str | None:
    return site_base_url(pytestconfig)
