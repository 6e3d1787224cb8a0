"""Running the pytest suites shipped in aura_browser.testing as users run them: in a folder of their own,
with no pytest config of ours, in a subprocess."""

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Mapping

from tests.support.tiers import SUBPROCESS, needs

SMOKE_CHECKS = 4  # aura_browser/testing/test_live_smoke.py
CONTRACT_CHECKS = 10  # aura_browser/testing/test_contract.py, less its heavy check (--aura-heavy)
HEAVY_CHECKS = 1


def outside_ci(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment without CI markers: on CI, pytest repeats each failure's message untruncated in
    its short summary, and these tests count how often each message appears."""
    return {name: value for name, value in environ.items() if name not in ("CI", "BUILD_NUMBER")}


@needs(SUBPROCESS)
async def run_smoke(folder: Path, *args: str, env: dict[str, str] | None = None,
                    module: str = "aura_browser.testing.test_live_smoke") -> tuple[int, str]:
    """Run the smoke suite in a subprocess (without blocking this loop: a server in it may have to answer).
    The contract suite ships beside it (tests/test_contract_suite.py runs that one)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", module, *args,
        cwd=folder, env={**outside_ci(os.environ), "AURA_PROFILE_DIR": str(folder / "profiles"), **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=240)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    return process.returncode, output.decode("utf-8", "replace")


def outcomes(output: str) -> dict[str, int]:
    summary = output.strip().splitlines()[-1]
    return {word: int(count) for count, word in re.findall(r"(\d+) (passed|failed|skipped|deselected|error)", summary)}
