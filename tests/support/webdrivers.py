"""A Selenium WebDriver as a user starts one (chromedriver launches Chromium itself, headless), for the tests that
hand it to aura-browser (`webdriver=`), and for the controls that show what a plain chromedriver session gives away."""

from __future__ import annotations

import os
import threading
from typing import Any

from tests.support.tiers import BROWSER, needs


@needs(BROWSER)
def start_users_webdriver(*, bidi: bool) -> Any:
    """The test's own Chrome WebDriver (with a BiDi socket when `bidi`); quit it with `quit_users_webdriver`."""
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
