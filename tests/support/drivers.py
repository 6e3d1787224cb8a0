"""Running one browser test over both drivers: `@both_drivers` (or `pytestmark = both_drivers`).

It parametrises the `driver` fixture of conftest, which `make_client` passes to every client it makes.
"""

import pytest

DRIVERS = ("playwright", "selenium")
both_drivers = pytest.mark.parametrize("driver", DRIVERS)

# Tests of the default, stealthy mode need the private virtual display.
from aura_browser.drivers.browser_mode import xvfb_available  # noqa: E402

needs_xvfb = pytest.mark.skipif(not xvfb_available(), reason="Xvfb is not installed (scripts/setup.sh installs it)")
