"""`aura-browser doctor`, run as a subprocess against the replica in each of its states, with real Chromium."""

import importlib.metadata
import json
import re
import time

import pytest

from aura_browser.profile import ProfileStore

from tests.support.cli import assert_one_line_error, err, out, run_cli
from tests.support.profiles import save_plain_profile
from tests.support.servers.remote_browsers import chromium_with_remote_debugging


@pytest.fixture
def env(profile_dir):
    return {"AURA_PROFILE_DIR": str(profile_dir)}


def doctor_json(url: str, env: dict[str, str], *args: str) -> tuple[int, dict]:
    result = run_cli("doctor", "--base-url", url, "--json", *args, env=env)
    assert "Traceback" not in err(result)
    return result.returncode, json.loads(out(result))


def rows(report: dict) -> dict[str, dict]:
    return {check["name"]: check for check in report["checks"]}


def test_an_open_replica_is_all_ok_and_says_what_it_found(make_replica, env):
    replica = make_replica(gate="off")
    code, report = doctor_json(replica.url, env)
    checks = rows(report)
    assert code == 0 and report["exit_code"] == 0
    assert [c["status"] for c in report["checks"]] == ["ok"] * len(report["checks"])
    assert list(checks) == ["browser", "playwright", "selenium", "chromedriver", "profile", "gate cookie", "user agent",
                            "proxy", "site reachable", "site gate", "site deployment", "site app", "api/models",
                            "transport direct", "transport impersonate", "transport in-page"]
    assert checks["browser"]["data"]["path"] == "/usr/lib/chromium/chromium"
    assert checks["browser"]["data"]["version"].startswith("Chromium ")
    assert checks["playwright"]["data"]["version"] == importlib.metadata.version("playwright")
    assert checks["chromedriver"]["data"]["path"] == "/usr/bin/chromedriver"
    assert checks["gate cookie"]["detail"] == "none: the site set no gate cookie"
    assert checks["api/models"]["data"]["models"] == ["openchat_3.6"]
    assert checks["transport direct"]["data"]["logged_in"] is True  # no profile yet: the direct check logged in
    assert checks["transport in-page"]["data"]["logged_in"] is False
    assert "by this doctor run" in checks["profile"]["detail"]
    assert replica.stats.chat_completed == 3  # one short ask per transport


def test_behind_a_challenge_the_table_shows_the_gate_and_no_secret(make_replica, env, profile_dir):
    replica = make_replica(gate="challenge")
    result = run_cli("doctor", "--base-url", replica.url, "--skip-in-page", env=env)
    table = out(result)
    assert result.returncode == 0, table + err(result)
    lines = {line.split()[0] + " " + line.split()[1]: line for line in table.splitlines() if line.startswith("  ")}
    assert "a challenge page for clients without cookies; the profile's cookies pass it" in lines["site gate"]
    assert lines["gate cookie"].split()[2] == "ok" and "cf_clearance expires in 30 min" in lines["gate cookie"]
    assert lines["transport in-page"].split()[2:4] == ["skipped", "skipped"]  # status, then "skipped (--skip-in-page)"
    assert table.rstrip().endswith("Nothing needed is failing.")
    saved = ProfileStore(profile_dir).load("default")
    secrets = [cookie["value"] for cookie in saved.cookies]
    assert secrets and not any(secret in table for secret in secrets)


def test_a_strict_gate_leaves_direct_as_a_warning_and_in_page_working(make_replica, env):
    replica = make_replica(gate="strict")
    code, report = doctor_json(replica.url, env, "--insecure")
    checks = rows(report)
    assert code == 0, report
    assert checks["transport direct"]["status"] == "warning"
    assert checks["transport direct"]["detail"].startswith("blocked by the gate: ")
    assert checks["transport in-page"]["status"] == "ok"
    assert checks["site gate"]["status"] == "warning" and "even with the profile's cookies" in checks["site gate"]["detail"]
    # plain HTTP cannot tell what the site is, so /api/models was asked from inside the page
    assert checks["api/models"]["data"] == {"models": ["openchat_3.6"], "asked_in_page": True}
    assert checks["site app"]["status"] == "ok"
    assert replica.stats.tls_blocked >= 1


def test_a_disabled_deployment_exits_6_without_trying_the_transports(make_replica, env):
    replica = make_replica(gate="off", disabled=True)
    code, report = doctor_json(replica.url, env)
    checks = rows(report)
    assert code == 6 and report["exit_code"] == 6
    assert checks["site deployment"]["status"] == "failed"
    assert checks["site deployment"]["detail"] == f"disabled deployment: {replica.url}: This Deployment has been disabled"
    assert checks["site deployment"]["data"]["problem"] == "disabled"
    assert [checks[name]["status"] for name in ("transport direct", "transport in-page")] == ["skipped", "skipped"]
    assert checks["profile"]["status"] == "warning" and "aura-browser login" in checks["profile"]["fix"]
    assert replica.stats.chat_requests == 0


def test_nothing_listening_exits_6_with_a_fix(env, unused_tcp_port):
    url = f"http://127.0.0.1:{unused_tcp_port}"
    result = run_cli("doctor", "--base-url", url, env=env)
    assert result.returncode == 6
    table = out(result)
    assert re.search(rf"site reachable +failed +DNS or connection failure: cannot reach {re.escape(url)}/", table)
    assert "fix: check the URL, DNS, the network and --proxy" in table
    assert "Failing: site reachable (exit 6)." in table


def test_a_challenge_that_never_passes_exits_3(make_replica, env):
    replica = make_replica(gate="challenge", challenge_delay=3600)
    code, report = doctor_json(replica.url, env, "--login-timeout", "3")
    checks = rows(report)
    assert code == 3, report
    assert checks["transport direct"]["detail"].startswith("challenge never passed: the gate was not passed after 3s")
    assert checks["transport in-page"]["detail"].startswith("not tried: it needs the login that failed for direct")
    assert replica.stats.clearances_issued == 0


def test_the_profile_rows_redact_the_proxy_password(make_replica, env, profile_dir, unused_tcp_port):
    replica = make_replica(gate="off")
    proxy = f"http://user:s3cret@127.0.0.1:{unused_tcp_port}"
    save_plain_profile(profile_dir, replica.url, proxy=proxy, captured_at=time.time() - 7200)
    result = run_cli("doctor", "--base-url", replica.url, "--skip-in-page", env=env)
    table = out(result)
    assert result.returncode == 6, table  # the direct ask could not reach the proxy
    assert re.search(rf"proxy +ok +http://user:\*\*\*@127\.0\.0\.1:{unused_tcp_port}", table)
    assert "captured 2 h ago" in table
    assert "s3cret" not in table + err(result)


def test_a_bad_profile_name_is_one_line_and_exit_2(env):
    result = run_cli("doctor", "--profile", "no/slashes", env=env)
    assert_one_line_error(result, 2, "profile name 'no/slashes'")


def test_a_remote_browser_stands_in_for_the_local_one(make_replica, env, tmp_path):
    replica = make_replica(gate="challenge")
    with chromium_with_remote_debugging(tmp_path) as remote:
        code, report = doctor_json(replica.url, env, "--cdp-url", remote.endpoint, "--browser", "/nonexistent/chrome")
    checks = rows(report)
    assert code == 0, report
    assert checks["browser"]["data"] == {"remote": "--cdp-url", "endpoint": remote.endpoint}
    assert checks["transport in-page"]["status"] == "ok" and checks["transport direct"]["status"] == "ok"
    assert replica.stats.clearances_issued == 1  # the login ran in the remote browser


def test_a_failing_model_upstream_is_told_apart_from_a_gate(make_replica, env):
    replica = make_replica(gate="off", upstream_down=True, reason="fetch failed")
    code, report = doctor_json(replica.url, env, "--skip-in-page")
    checks = rows(report)
    assert code == 5, report
    assert checks["site app"]["status"] == "ok" and "gate" not in checks["site app"]["detail"]
    assert "its model upstream fails" in checks["site app"]["detail"]
    assert checks["api/models"]["status"] == "failed"
    assert checks["api/models"]["detail"].startswith("the app answers, but its model upstream fails: site error 500")
    assert "fetch failed" in checks["api/models"]["detail"]


def test_a_strict_gate_is_passed_by_impersonate_with_no_browser_for_the_ask(make_replica, env):
    from tests.support.cli import CHROME_IMPERSONATION

    replica = make_replica(gate="strict")
    code, report = doctor_json(replica.url, {**env, **CHROME_IMPERSONATION}, "--insecure", "--skip-in-page")
    checks = rows(report)
    assert code == 0, report
    assert checks["transport impersonate"]["status"] == "ok", checks["transport impersonate"]
    assert checks["transport impersonate"]["detail"].startswith("replied 'Hello!")
    assert checks["transport direct"]["status"] == "warning"
    assert "goes on with impersonate" in checks["transport direct"]["fix"]


def test_a_profile_from_another_proxy_is_reported_as_ask_would_refuse_it(make_replica, env, profile_dir,
                                                                         unused_tcp_port):
    replica = make_replica(gate="off")
    save_plain_profile(profile_dir, replica.url, captured_at=time.time() - 60)  # captured without a proxy
    proxy = f"http://user:s3cret@127.0.0.1:{unused_tcp_port}"  # nothing listens: no login replaces the profile
    code, report = doctor_json(replica.url, env, "--proxy", proxy, "--skip-in-page")
    checks = rows(report)
    assert code == 6, report  # the site cannot be reached through that proxy
    assert checks["proxy"]["status"] == "warning", checks["proxy"]
    assert checks["proxy"]["detail"] == f"captured without a proxy, not through http://user:***@127.0.0.1:{unused_tcp_port}"
    assert checks["proxy"]["fix"].startswith("the next ask logs in again through this proxy by itself")
    assert checks["proxy"]["data"] == {"proxy": None, "usable": False}
    assert "s3cret" not in json.dumps(report)
