"""Profiles per site: with no --profile each origin gets its own, so pointing at another deployment just logs in
there; an explicit --profile keeps one file whatever the site; a profile saved under the plain name `default`
before goes on serving the site it belongs to."""

from __future__ import annotations

import pytest

from aura_browser import Settings
from aura_browser.profile import ProfileStore, site_profile_name

from tests.support.cli import assert_one_line_error, err, out, run_cli
from tests.support.profiles import save_plain_profile


@pytest.fixture
def per_site_env(profile_dir, monkeypatch) -> dict[str, str]:
    """A CLI environment with no AURA_PROFILE: the default a user has."""
    monkeypatch.delenv("AURA_PROFILE", raising=False)  # the suite's conftest names one; here the default is tested
    return {"AURA_PROFILE_DIR": str(profile_dir), "AURA_LOGIN_TIMEOUT": "30"}


def test_the_site_profile_name_is_one_file_per_origin():
    assert site_profile_name("https://openchat.team") == "default-openchat.team"
    assert site_profile_name("http://127.0.0.1:8765") == "default-127.0.0.1-8765-http"
    assert site_profile_name("https://[::1]:8443") == "default---1-8443"
    long = site_profile_name("https://" + "a" * 80 + ".example")
    assert len(long) <= 64 and long != site_profile_name("https://" + "a" * 80 + ".example2")
    assert Settings("http://127.0.0.1:8765/sub", profile_dir="/nonexistent").profile_name == "default-127.0.0.1-8765-http"
    assert Settings("http://127.0.0.1:8765", profile="work").profile_name == "work"


def test_another_site_just_logs_in_there(make_replica, per_site_env, profile_dir):
    first, second = make_replica(gate="challenge"), make_replica(gate="challenge")
    for replica in (first, second):
        result = run_cli("ask", "--base-url", replica.url, "Hi", env=per_site_env)
        assert result.returncode == 0, err(result)
        assert replica.stats.clearances_issued == 1
    names = ProfileStore(profile_dir).names()
    assert sorted(names) == sorted(site_profile_name(r.url) for r in (first, second))

    again = run_cli("ask", "--base-url", first.url, "Hi", env=per_site_env)  # its own profile is still there
    assert again.returncode == 0 and first.stats.clearances_issued == 1, err(again)
    listed = out(run_cli("profiles", "list", env=per_site_env))
    assert first.url in listed and second.url in listed


def test_an_explicit_profile_keeps_one_file_whatever_the_site(make_replica, per_site_env):
    first, second = make_replica(gate="off"), make_replica(gate="off")
    assert run_cli("ask", "--base-url", first.url, "--profile", "work", "Hi", env=per_site_env).returncode == 0
    refused = run_cli("ask", "--base-url", second.url, "--profile", "work", "Hi", env=per_site_env)
    assert_one_line_error(refused, 3, f"profile 'work' was captured for {first.url}")


def test_an_old_default_profile_goes_on_serving_its_own_site(make_replica, per_site_env, profile_dir):
    """Fall back, not migrate: the file `default.json` stays and keeps serving its site; another site gets its own."""
    old_site, other = make_replica(gate="off"), make_replica(gate="challenge")
    save_plain_profile(profile_dir, old_site.url)  # saved as "default", as every profile was before
    result = run_cli("-v", "ask", "--base-url", old_site.url, "Hi", env=per_site_env)
    assert result.returncode == 0 and "logging in" not in err(result), err(result)
    assert "using the profile 'default', saved for this site before profiles were per site" in err(result)
    assert old_site.stats.chat_requests == 1
    assert ProfileStore(profile_dir).names() == ["default"]

    elsewhere = run_cli("ask", "--base-url", other.url, "Hi", env=per_site_env)
    assert elsewhere.returncode == 0, err(elsewhere)
    assert sorted(ProfileStore(profile_dir).names()) == sorted(["default", site_profile_name(other.url)])
    assert ProfileStore(profile_dir).load("default").base_url == old_site.url  # untouched
