"""The shipped contract suite (aura_browser/testing/test_contract.py), run as a user runs it, against the replica:
it must pass there, and fail where the replica is made to break the contract."""

from __future__ import annotations

import re

from tests.support.shipped_suites import CONTRACT_CHECKS, HEAVY_CHECKS, outcomes, run_smoke

CONTRACT = "aura_browser.testing.test_contract"


async def test_the_contract_holds_on_the_replica_behind_its_gate(make_replica, tmp_path):
    replica = make_replica(gate="challenge")
    code, output = await run_smoke(tmp_path, "--aura-live", "--base-url", replica.url, module=CONTRACT)
    assert code == 0, output
    assert outcomes(output) == {"passed": CONTRACT_CHECKS, "skipped": HEAVY_CHECKS}  # nothing heavy unasked
    assert 0 < replica.stats.largest_chat_body < 10_000  # no request that could stall a deployment
    assert replica.stats.clearances_issued == 1  # one login served every check


async def test_a_site_that_breaks_the_contract_fails_the_checks_it_breaks(make_replica, tmp_path):
    replica = make_replica(gate="off", models=[])  # /api/models lists nothing, so every model is unknown
    code, output = await run_smoke(tmp_path, "--aura-live", "--base-url", replica.url, "-rf", module=CONTRACT)
    assert code == 1, output
    failed = set(re.findall(r"^FAILED \S*::(\w+)", output, re.MULTILINE))
    assert "test_api_models_lists_for_any_json_body_whatever_the_method" in failed
    assert "test_a_chat_reply_is_untyped_chunked_text" in failed
    assert "test_an_unknown_path_is_next_js_404_page_and_no_app" not in failed


async def test_a_strict_gate_skips_what_needs_plain_http(make_replica, tmp_path):
    replica = make_replica(gate="strict")
    code, output = await run_smoke(tmp_path, "--aura-live", "--base-url", replica.url, "--aura-insecure",
                                   "-rs", module=CONTRACT)
    assert code == 0, output
    assert f"1 passed, {CONTRACT_CHECKS - 1 + HEAVY_CHECKS} skipped" in output.strip().splitlines()[-1], output
    assert "plain HTTP is gated here" in output


async def test_the_heavy_mode_sends_the_5_mib_body_only_when_asked(make_replica, tmp_path):
    replica = make_replica(gate="off")
    code, output = await run_smoke(tmp_path, "--aura-live", "--base-url", replica.url, "--aura-heavy", "-rA",
                                   "-k", "five_megabyte", module=CONTRACT)
    assert code == 0, output
    assert "PASSED" in output and replica.stats.largest_chat_body > 5 * 1024 * 1024
