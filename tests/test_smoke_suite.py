"""The shipped live smoke suite, run as users run it (`pytest --aura-live --base-url URL --pyargs
aura_browser.testing`, in a folder of their own, with no pytest config of ours) against real servers.

Each failing site must fail every check with what was wrong with it.
"""

import re

import pytest

from tests.support.cli import run_cli
from tests.support.servers.loopback_app import nginx_app, serve_app
from tests.support.servers.remote_browsers import chromium_with_remote_debugging
from tests.support.shipped_suites import CONTRACT_CHECKS, HEAVY_CHECKS, SMOKE_CHECKS, outcomes, run_smoke


async def test_without_aura_live_the_suite_is_deselected_not_failed(tmp_path):
    code, output = await run_smoke(tmp_path, "--base-url", "http://127.0.0.1:9", module="aura_browser.testing")
    assert code == 5, output  # pytest's "no tests ran"
    assert outcomes(output) == {"deselected": SMOKE_CHECKS + CONTRACT_CHECKS + HEAVY_CHECKS}  # the smoke and the contract suites


async def test_aura_live_without_a_base_url_is_a_usage_error(tmp_path):
    code, output = await run_smoke(tmp_path, "--aura-live")
    assert code == 4, output
    assert "--aura-live needs --base-url URL" in output


async def test_the_ci_job_logs_in_then_the_suite_passes_on_that_profile(make_replica, tmp_path):
    """The README's GitHub Actions job: `aura-browser login --base-url URL`, then the suite."""
    replica = make_replica(gate="challenge")
    login = run_cli("login", "--base-url", replica.url, env={"AURA_PROFILE_DIR": str(tmp_path / "profiles")})
    assert login.returncode == 0, login.stderr
    code, output = await run_smoke(tmp_path, "--aura-live", "--base-url", replica.url)
    assert code == 0, output
    assert outcomes(output) == {"passed": SMOKE_CHECKS}
    assert f"live smoke tests against {replica.url}" in output
    assert replica.stats.clearances_issued == 1  # the job's login served every check
    assert replica.stats.chat_completed == 2  # direct, then in-page


async def test_a_disabled_deployment_fails_every_check_saying_so(make_replica, tmp_path):
    replica = make_replica(gate="off", disabled=True)
    code, output = await run_smoke(tmp_path, "--aura-live", "--base-url", replica.url)
    assert code == 1 and outcomes(output) == {"failed": SMOKE_CHECKS}, output
    assert output.count(f"disabled deployment: {replica.url}: This Deployment has been disabled") == SMOKE_CHECKS
    assert "Traceback" not in output


async def test_a_server_that_is_not_this_app_fails_every_check_saying_so(tmp_path):
    async with serve_app(nginx_app()) as url:
        code, output = await run_smoke(tmp_path, "--aura-live", "--base-url", url)
    assert code == 1 and outcomes(output) == {"failed": SMOKE_CHECKS}, output
    assert output.count(f"not this app (no /api/models): site error 404: {url}/api/models") == SMOKE_CHECKS
    assert "fix: point --base-url at an OpenChat UI deployment" in output


# pytest-base-url gives --base-url; without it, pytest-playwright's fallback does, and without both, the plugin's.
@pytest.mark.parametrize("plugins", [[], ["-p", "no:base_url"], ["-p", "no:base_url", "-p", "no:playwright"]],
                         ids=["pytest-base-url", "playwright-fallback", "own-fallback"])
async def test_nothing_listening_fails_every_check_as_a_connection_failure(tmp_path, unused_tcp_port, plugins):
    url = f"http://127.0.0.1:{unused_tcp_port}"
    code, output = await run_smoke(tmp_path, *plugins, "--aura-live", "--base-url", url)
    assert code == 1 and outcomes(output) == {"failed": SMOKE_CHECKS}, output
    assert output.count(f"DNS or connection failure: cannot reach {url}/") == SMOKE_CHECKS


async def test_a_challenge_that_never_passes_fails_every_check_after_one_login(make_replica, tmp_path):
    replica = make_replica(gate="challenge", challenge_delay=3600)
    code, output = await run_smoke(tmp_path, "--aura-live", "--base-url", replica.url, "--aura-login-timeout", "3")
    assert code == 1 and outcomes(output) == {"failed": SMOKE_CHECKS}, output
    assert output.count("challenge never passed: the gate was not passed after 3s") == SMOKE_CHECKS
    assert output.count("Just a moment...") == SMOKE_CHECKS  # what the browser was looking at
    assert replica.stats.clearances_issued == 0


async def test_an_error_reply_fails_the_two_prompt_checks_only(make_replica, tmp_path):
    replica = make_replica(gate="off", status=500, reason="upstream is down")
    code, output = await run_smoke(tmp_path, "--aura-live", "--base-url", replica.url, "-rfE")
    assert code == 1 and outcomes(output) == {"passed": 2, "failed": 2}, output
    assert output.count("error reply: site error 500 upstream is down") == 2
    assert "check: a short prompt streams a reply over the direct transport" in output
    assert "check: a short prompt streams a reply through the in-page transport" in output
    failed = re.findall(r"^FAILED \S*::(\w+)", output, re.MULTILINE)
    assert sorted(failed) == ["test_a_short_prompt_streams_a_reply_over_the_direct_transport",
                              "test_a_short_prompt_streams_a_reply_through_the_page"]


async def test_the_aura_variables_choose_a_remote_browser(make_replica, tmp_path):
    replica = make_replica(gate="challenge")
    with chromium_with_remote_debugging(tmp_path) as remote:
        code, output = await run_smoke(tmp_path, "--aura-live", "--base-url", replica.url,
                                       env={"AURA_CDP_URL": remote.endpoint, "AURA_BROWSER": "/nonexistent/chrome"})
        assert code == 0, output
        assert outcomes(output) == {"passed": SMOKE_CHECKS}
        assert remote.alive()
    assert replica.stats.clearances_issued == 1  # the login ran in the remote browser


async def test_a_malformed_variable_fails_only_the_runs_that_use_aura_browser(tmp_path):
    bad = {"AURA_TIMEOUT": "soon", "AURA_INSECURE": "maybe"}
    code, output = await run_smoke(tmp_path, "--base-url", "http://127.0.0.1:9", env=bad)
    assert code == 5 and outcomes(output) == {"deselected": SMOKE_CHECKS}, output  # the plugin still loads
    code, output = await run_smoke(tmp_path, "--aura-live", "--base-url", "http://127.0.0.1:9", env=bad)
    assert code == 1 and outcomes(output) == {"error": SMOKE_CHECKS}, output
    assert "AURA_INSECURE='maybe' is not a boolean" in output
