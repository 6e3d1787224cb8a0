"""Running one browser test over both drivers: `@both_drivers` (or `pytestmark = both_drivers`); a WebDriver as
a user starts one, for the tests of adopting it.

It parametrises the `driver` fixture of conftest, which `make_client` passes to every client it makes.
"""

import os
import threading
from typing import Any

import pytest

DRIVERS = ("playwright", "selenium")
both_drivers = pytest.mark.parametrize("driver", DRIVERS)

# Tests of the default, stealthy mode need the private virtual display.
from aura_browser.drivers.display import xvfb_available  # noqa: E402

needs_xvfb = pytest.mark.skipif(not xvfb_available(), reason="Xvfb is not installed (scripts/setup.sh installs it)")


def start_users_webdriver(*, bidi: bool) -> Any:
    """A Selenium Chrome session as a user starts one (chromedriver launches Chromium itself, headless): the
    test's own, quit with `quit_users_webdriver`."""
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager downloads nothing
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from aura_browser.drivers.browser_path import find_chromium
    from aura_browser.drivers.selenium import find_chromedriver

    options = webdriver.ChromeOptions()
    options.binary_location = find_chromium()
    for arg in ("--headless=new", "--ignore-certificate-errors", *(["--no-sandbox"] if os.geteuid() == 0 else [])):
        options.add_argument(arg)
    options.accept_insecure_certs = True
    options.enable_bidi = bidi
    return webdriver.Chrome(service=Service(executable_path=find_chromedriver()), options=options)


def quit_users_webdriver(driver: Any) -> None:
    """driver.quit(), without Selenium's wait of up to 10 s for the reader thread of its BiDi socket: the socket
    is closed in a daemon thread instead."""
    bidi_socket = getattr(driver, "_websocket_connection", None)
    if bidi_socket is not None:
        driver._websocket_connection = None
        threading.Thread(target=bidi_socket.close, daemon=True, name="test-bidi-close").start()
    driver.quit()
