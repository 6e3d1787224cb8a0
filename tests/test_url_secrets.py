"""Secrets inside URLs (user info, query values) are never printed: not in -v lines, errors or `profiles show`."""

import json

import pytest

from tests.support.cli import assert_one_line_error, run_cli
from tests.support.profiles import save_plain_profile

TOKEN = "tok-SECRET-3f9a1b"


def test_a_base_url_with_credentials_is_refused_without_showing_them(make_replica, profile_dir):
    replica = make_replica(gate="off")
    url = replica.url.replace("://", f"://user:{TOKEN}@")
    result = run_cli("ask", "-vv", "--base-url", url, "Hi", env={"AURA_PROFILE_DIR": str(profile_dir)})
    assert_one_line_error(result, 2, "base URL", "user:***@", "user name or password")
    assert TOKEN not in result.stderr.decode()
    assert replica.stats.chat_requests == 0


def test_a_proxy_token_is_hidden_in_verbose_lines_errors_and_profiles_show(make_replica, profile_dir,
                                                                           unused_tcp_port):
    replica = make_replica(gate="off")
    proxy = f"http://{TOKEN}@127.0.0.1:{unused_tcp_port}"  # a token as the user name, and nothing listening
    save_plain_profile(profile_dir, replica.url, proxy=proxy)
    env = {"AURA_PROFILE_DIR": str(profile_dir), "AURA_BASE_URL": replica.url}

    asked = run_cli("ask", "-vv", "--transport", "direct", "--proxy", proxy, "Hi", env=env)
    assert asked.returncode == 6 and "cannot reach the proxy http://***@127.0.0.1" in asked.stderr.decode()
    shown = run_cli("profiles", "show", "default", env=env)
    assert shown.returncode == 0 and json.loads(shown.stdout)["proxy"] == f"http://***@127.0.0.1:{unused_tcp_port}"
    for result in (asked, shown):
        assert TOKEN not in (result.stdout + result.stderr).decode()


@pytest.mark.parametrize("option", ["--browser-ws", "--cdp-url", "--remote-webdriver"])
def test_a_token_in_a_remote_browser_url_is_hidden_even_where_the_library_repeats_it(make_replica, profile_dir,
                                                                                     option):
    replica = make_replica(gate="off")  # answers 404 to a browser endpoint's requests
    scheme = "ws" if option == "--browser-ws" else "http"
    endpoint = f"{scheme}://user:{TOKEN}@{replica.url.split('://')[1]}/browser?token={TOKEN}&x={TOKEN}"
    result = run_cli("ask", "-vv", "--base-url", replica.url, "--transport", "page", option, endpoint, "Hi",
                     env={"AURA_PROFILE_DIR": str(profile_dir)}, timeout=180)
    stderr = result.stderr.decode()
    assert result.returncode == 7, stderr
    assert "token=***" in stderr and TOKEN not in stderr + result.stdout.decode()


@pytest.mark.parametrize("command", [["ask", "-vv", "Hi"], ["login", "-vv"]])
def test_a_proxy_password_with_a_bare_slash_is_refused_without_showing_any_of_it(profile_dir, command):
    # Every URL parser reads this as host `user`, port 1234 and a path: the password would go out as a path.
    proxy = f"http://user:1234/{TOKEN}@127.0.0.1:1"
    result = run_cli(*command, "--base-url", "http://127.0.0.1:1", "--proxy", proxy,
                     env={"AURA_PROFILE_DIR": str(profile_dir)})
    assert_one_line_error(result, 2, "proxy 'http://***@127.0.0.1:1'", "percent-encode")
    assert TOKEN not in result.stderr.decode() and "1234" not in result.stderr.decode()


def test_an_at_sign_after_the_host_hides_everything_before_it():
    from aura_browser.redaction import printable

    assert printable(f"via http://user:1234/{TOKEN}@proxy:1/x?t=v.") == "via http://***@proxy:1/x?t=***."
