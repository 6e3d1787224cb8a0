"""Running `aura-browser` as a real subprocess, and checking how the run ended."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from typing import Iterator

from tests.support.tiers import SUBPROCESS, needs

# The suite's impersonate tier shows a Firefox fingerprint (see conftest.py); a CLI run that tests the tier
# itself passes this in its env.
CHROME_IMPERSONATION = {"AURA_IMPERSONATE": ""}  # empty: the Chrome target nearest the profile's Chrome

SECRET = "s3cret-key-for-tests"  # the API key tests give `serve`: no run may print it


@needs(SUBPROCESS)
def run_cli(*args: str, input: bytes | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """Run `aura-browser ARGS` as a real subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "aura_browser", *args],
        input=input, capture_output=True, env=full_env, timeout=timeout,
    )


def out(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stdout.decode("utf-8")


def err(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stderr.decode("utf-8")


def assert_one_line_error(result: subprocess.CompletedProcess[bytes], code: int, *phrases: str) -> str:
    """The run exited `code` with exactly one line on stderr, holding every phrase, and no traceback."""
    stderr = err(result)
    assert result.returncode == code, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("aura-browser: "), stderr
    for phrase in phrases:
        assert phrase in lines[0], stderr
    assert "Traceback" not in stderr
    return lines[0]


@needs(SUBPROCESS)
@contextlib.contextmanager
def cli_process(*args: str, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`aura-browser ARGS` running in the background, for a test to act on mid-run; killed if left running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aura_browser", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env},
    )
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def finish(process: subprocess.Popen[bytes], printed_before: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Wait for the run to end; its result, with what the test already read from stdout put back in front."""
    try:
        rest, stderr = process.communicate(timeout=30)
    finally:
        process.kill()  # a no-op once it has exited; a run that hangs must not outlive the test
    return subprocess.CompletedProcess(process.args, process.returncode, printed_before + rest, stderr)
