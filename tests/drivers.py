"""Running one browser test over both drivers: `@both_drivers` (or `pytestmark = both_drivers`).

It parametrises the `driver` fixture of conftest, which `make_client` passes to every client it makes.
"""

import pytest

DRIVERS = ("playwright", "selenium")
both_drivers = pytest.mark.parametrize("driver", DRIVERS)
