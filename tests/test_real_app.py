"""The shipped suites and a CLI round trip against a running OpenChat UI (the real app, not the replica).

Opt-in: set AURA_TEST_REAL_APP_URL to a deployment you run yourself, on loopback with a model upstream of your
own (an echoing one will do). This repository neither ships the app nor builds it; the tests skip without it.
They send nothing heavy (the contract suite's --aura-heavy check stays skipped).
"""

from __future__ import annotations

import os

import pytest

from tests.support.cli import err, out, run_cli
from tests.support.shipped_suites import CONTRACT_CHECKS, HEAVY_CHECKS, SMOKE_CHECKS, outcomes, run_smoke
from tests.support.token_corpus import english_question

REAL_APP = os.environ.get("AURA_TEST_REAL_APP_URL", "")

pytestmark = pytest.mark.skipif(
    not REAL_APP, reason="AURA_TEST_REAL_APP_URL is not set: no running OpenChat UI to test against")


async def test_the_contract_suite_passes_on_the_real_app(tmp_path):
    code, output = await run_smoke(tmp_path, "--aura-live", "--base-url", REAL_APP, "-rA",
                                   module="aura_browser.testing.test_contract")
    assert code == 0, output
    assert outcomes(output) == {"passed": CONTRACT_CHECKS, "skipped": HEAVY_CHECKS}, output


async def test_the_smoke_suite_passes_on_the_real_app(tmp_path):
    code, output = await run_smoke(tmp_path, "--aura-live", "--base-url", REAL_APP, "-rA")
    assert code == 0, output
    assert outcomes(output) == {"passed": SMOKE_CHECKS}, output


def test_ask_and_a_4594_token_english_question_go_through_the_real_app(profile_dir):
    env = {"AURA_PROFILE_DIR": str(profile_dir)}
    short = run_cli("ask", "--base-url", REAL_APP, "Reply with one word: ok", env=env)
    assert short.returncode == 0 and out(short).strip(), err(short)
    long = run_cli("ask", "--base-url", REAL_APP, "-", input=english_question().encode(), env=env)
    assert long.returncode == 0 and out(long).strip(), err(long)
