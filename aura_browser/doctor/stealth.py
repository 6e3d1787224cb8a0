"""Would a gate see a program? The replica's botcheck checks, run in the browser `login` would use.

`aura-browser doctor --stealth` prints this report; scripts/bench.py counts its failing rows (B9). The
replica runs on a free loopback port and its report page (aura_browser/replica/botcheck.py) runs
issue 10's checks 4 to 12 and issue 19's 13 to 15 (activation, focus, dialogs) in a browser started exactly
as a login starts it: same driver, flags, mode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..drivers.base import LaunchOptions
from ..drivers.browser_mode import choose_mode
from ..errors import BrowserError, InvalidRequest

REPORT_TIMEOUT = 60.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class StealthReport:
    driver: str
    mode: str  # "headless", "headed", "headed on a virtual display"
    browser_version: str
    rows: list[dict[str, Any]] = field(default_factory=list)  # {"id", "name", "pass", "value"}

    @property
    def failing(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if not row["pass"]]

    def to_dict(self) -> dict[str, Any]:
        return {"driver": self.driver, "mode": self.mode, "browser_version": self.browser_version,
                "passed": not self.failing, "checks": self.rows}


async def stealth_report(driver: str, options: LaunchOptions) -> StealthReport:
    """Start the replica and a browser as `login` would, and return what the botcheck page saw."""
    if options.browser_ws or options.cdp_url:
        raise InvalidRequest("doctor --stealth checks a browser started here or on a loopback --remote-webdriver; "
                             "another remote browser cannot reach its loopback replica")
    if options.remote_webdriver and urlsplit(options.remote_webdriver).hostname not in LOOPBACK:
        raise InvalidRequest("doctor --stealth needs a --remote-webdriver on this machine (127.0.0.1, localhost): "
                             "a browser elsewhere cannot reach its loopback replica")
    from ..drivers import new_session
    from ..replica import ReplicaConfig, ReplicaServer
    from ..replica.botcheck import REPORT_PATH, RESULTS_ID

    results_js = "() => { const e = document.getElementById(%r); return e && e.textContent || null; }" % RESULTS_ID
    with ReplicaServer(ReplicaConfig(gate="botcheck")) as replica:
        session = new_session(driver, replica.url, options)
        try:
            await session.visit(replica.url + REPORT_PATH)
            try:
                found = await session._wait_for(results_js, REPORT_TIMEOUT)
            except TimeoutError:
                raise BrowserError(f"the botcheck page did not finish its checks within {REPORT_TIMEOUT:g}s") from None
            session_version = session.browser_version
            mode = getattr(session, "mode", "") or choose_mode(options.headless).describe()  # a remote one says
        finally:
            await session.close()
    rows = json.loads(found)["results"]
    return StealthReport(driver, mode, session_version, rows)
