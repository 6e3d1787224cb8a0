"""Running the repository's scripts (scripts/bench.py, scripts/soak.py) as the user does: minutes each."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.tiers import BROWSER, SLOW, SUBPROCESS, needs

SCRIPTS = Path(__file__).resolve().parent.parent.parent / "scripts"


@needs(SLOW, SUBPROCESS, BROWSER)
def run_script(name: str, *args: str, timeout: float, env: dict[str, str] | None = None,
               text: bool = False) -> subprocess.CompletedProcess:
    """`python scripts/NAME ARGS`, its output captured."""
    return subprocess.run([sys.executable, str(SCRIPTS / name), *args], capture_output=True, text=text,
                          timeout=timeout, env={**os.environ, **(env or {})})
