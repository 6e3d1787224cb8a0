"""The public bot detectors, BotD and fpscanner, on a loopback page, and their verdict on a driver's browser.

scripts/setup.sh installs them with npm into tests/node/node_modules; without Node they are missing, and
the tests that need them skip, saying so. Both drivers' tests use `detector_verdict(session)`.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from aiohttp import web

from aura_browser.drivers.base import BrowserSession

from tests.support.servers.loopback_app import serve_app

NODE_MODULES = Path(__file__).parents[1] / "node" / "node_modules"
SCRIPTS = {
    "/botd.js": NODE_MODULES / "@fingerprintjs" / "botd" / "dist" / "botd.esm.js",
    "/fpscanner.js": NODE_MODULES / "fpscanner" / "dist" / "fpScanner.es.js",
}
# What a person's browser on a GPU-less server shows too (issue 10): not a sign of automation.
ENVIRONMENT_HITS = frozenset({"hasUTCTimezone", "hasSwiftshaderRenderer", "hasMismatchWebGLInWorker"})
VERDICT_ID = "verdict"

_missing = [str(path) for path in SCRIPTS.values() if not path.is_file()]
needs_detectors = pytest.mark.skipif(
    bool(_missing),
    reason="BotD and fpscanner are not installed (scripts/setup.sh installs them with npm into tests/node; "
    f"Node.js/npm missing?): {', '.join(_missing)}",
)

_PAGE = """<!DOCTYPE html>
<html><head><title>detectors</title></head>
<body><pre id="%(id)s"></pre>
<script type="module">
import { load } from "/botd.js";
import FingerprintScanner from "/fpscanner.js";
const out = {};
try {
  out.botd = (await load()).detect();
} catch (e) { out.botd = {error: String(e)}; }
try {
  const fingerprint = await new FingerprintScanner().collectFingerprint({encrypt: false});
  out.fpscanner = Object.entries(fingerprint.fastBotDetectionDetails).filter(([, d]) => d.detected).map(([name]) => name);
} catch (e) { out.fpscanner = {error: String(e)}; }
document.getElementById("%(id)s").textContent = JSON.stringify(out);
</script>
</body></html>
""" % {"id": VERDICT_ID}


def detector_app() -> web.Application:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=_PAGE, content_type="text/html")

    def script(path: Path) -> Any:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=path.read_bytes(), content_type="text/javascript")

        return handler

    app = web.Application()
    app.router.add_get("/", page)
    for route, path in SCRIPTS.items():
        app.router.add_get(route, script(path))
    return app


@contextlib.asynccontextmanager
async def detector_site() -> AsyncIterator[str]:
    """The detectors' page on a free loopback port: yields its URL."""
    async with serve_app(detector_app()) as url:
        yield url + "/"


async def detector_verdict(session: BrowserSession, url: str) -> dict[str, Any]:
    """{"botd": {"bot": ...}, "fpscanner": [names of the rules that fired]} for the session's browser."""
    await session.visit(url)
    found = await session._wait_for(
        "() => { const e = document.getElementById(%r); return e && e.textContent || null; }" % VERDICT_ID, 60
    )
    return json.loads(found)


def automation_hits(verdict: dict[str, Any]) -> list[str]:
    """fpscanner's rules that fired, less the environment's."""
    return sorted(set(verdict["fpscanner"]) - ENVIRONMENT_HITS)


async def verdict_and_close(session: BrowserSession) -> dict[str, Any]:
    """The detectors' verdict on a new browser of `session`, which is closed after."""
    try:
        async with detector_site() as url:
            return await detector_verdict(session, url)
    finally:
        await session.close()
