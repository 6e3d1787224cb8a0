"""A proxy with a user name and password, at login: reserved characters in them, and a refused password."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from aura_browser.drivers.playwright import playwright_proxy

from tests.support.cli import assert_one_line_error, err, run_cli
from tests.support.processes import chromium_pids, wait_for_no_new_chromium
from tests.support.profiles import save_plain_profile
from tests.support.servers.auth_proxy import auth_proxy

# Every character a URL's user-info must percent-encode, and a percent sign that is not an escape.
RESERVED_USER = "me@corp:x"
RESERVED_PASSWORD = "p@ss:w/rd?#[]%41 !"


def quoted_url(proxy, user: str, password: str) -> str:
    return f"http://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{proxy.port}"


def test_the_browser_is_given_the_decoded_user_and_password():
    settings = playwright_proxy("http://me%40corp:p%40ss%3Aw%2Frd@127.0.0.1:3128")
    assert settings == {"server": "http://127.0.0.1:3128", "username": "me@corp", "password": "p@ss:w/rd"}


def test_a_login_through_a_proxy_whose_password_has_reserved_characters(make_replica, profile_dir):
    replica = make_replica(gate="challenge")
    before = chromium_pids()
    with auth_proxy(RESERVED_USER, RESERVED_PASSWORD) as proxy:
        url = quoted_url(proxy, RESERVED_USER, RESERVED_PASSWORD)
        env = {"AURA_PROFILE_DIR": str(profile_dir), "AURA_LOGIN_TIMEOUT": "30", "AURA_PROXY": url}
        result = run_cli("login", "--base-url", replica.url, env=env)
    assert result.returncode == 0, err(result)
    assert proxy.log.authorised("GET", replica.url + "/") >= 1
    assert RESERVED_PASSWORD not in err(result) and quote(RESERVED_PASSWORD, safe="") not in err(result)
    wait_for_no_new_chromium(before)


def test_a_wrong_proxy_password_at_login_is_the_documented_407_message(make_replica, profile_dir):
    replica = make_replica(gate="challenge")
    before = chromium_pids()
    with auth_proxy("aura", "right-password") as proxy:
        env = {"AURA_PROFILE_DIR": str(profile_dir), "AURA_LOGIN_TIMEOUT": "30",
               "AURA_PROXY": proxy.url(password="wrong-password-123")}
        result = run_cli("login", "--base-url", replica.url, env=env)
    assert_one_line_error(result, 6, "the proxy refused its user or password (407); check them in --proxy")
    assert "wrong-password-123" not in err(result) and proxy.log.refused() >= 1
    wait_for_no_new_chromium(before)


@pytest.mark.parametrize("transport", ["direct", "impersonate"])
def test_a_non_ascii_proxy_password_is_sent_as_utf8_by_every_replay(make_replica, profile_dir, transport):
    replica = make_replica(gate="off")
    with auth_proxy("aura", "pässwörd-密码") as proxy:
        url = quoted_url(proxy, "aura", "pässwörd-密码")
        save_plain_profile(profile_dir, replica.url, proxy=url)
        result = run_cli("ask", "--base-url", replica.url, "--transport", transport, "Hi",
                         env={"AURA_PROFILE_DIR": str(profile_dir), "AURA_PROXY": url})
    assert result.returncode == 0, err(result)
    assert "You said: Hi" in result.stdout.decode()
    assert proxy.log.authorised("POST", "/api/chat") + proxy.log.authorised("CONNECT") >= 1
    assert proxy.log.refused() == 0
