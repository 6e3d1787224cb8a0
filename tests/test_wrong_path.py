"""A base URL that is not the app (a wrong path's 404) is told at once, and the path the user gave is the one used."""

from __future__ import annotations

import asyncio

import pytest

from aura_browser.errors import NotThisApp
from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages

from tests.support.cli import assert_one_line_error, err, out, run_cli
from tests.support.drivers import both_drivers
from tests.support.profiles import save_plain_profile

# Far longer than the subprocess may run: a client that waits for the gate on a 404 page cannot pass.
PATIENT_LOGIN = {"AURA_LOGIN_TIMEOUT": "900"}


@both_drivers
async def test_a_404_page_with_next_data_is_not_this_app_at_once(make_replica, make_client):
    replica = make_replica()
    client = make_client(replica.url + "/wrong", login_timeout=900)
    with pytest.raises(NotThisApp, match="404") as raised:
        await asyncio.wait_for(client.login(), 90)  # fails the test, instead of hanging it, when it waits
    assert "not an OpenChat UI page" in str(raised.value) and "404: This page could not be found" in str(raised.value)


def test_login_and_ask_on_a_wrong_path_exit_5_without_waiting(make_replica, profile_dir):
    replica = make_replica()
    env = {"AURA_PROFILE_DIR": str(profile_dir), **PATIENT_LOGIN}
    login = run_cli("login", "--base-url", replica.url + "/wrong", env=env, timeout=100)
    assert_one_line_error(login, 5, "not an OpenChat UI page", "check base_url (--base-url)")
    ask = run_cli("ask", "--base-url", replica.url + "/wrong", "Hi", env=env, timeout=100)
    assert_one_line_error(ask, 5, "not an OpenChat UI page")
    assert replica.stats.chat_requests == 0


def test_ask_posts_to_the_path_of_the_base_url_given_not_the_profiles(make_replica, profile_dir):
    replica = make_replica(gate="off")
    save_plain_profile(profile_dir, replica.url)  # captured for the site's root
    env = {"AURA_PROFILE_DIR": str(profile_dir), **PATIENT_LOGIN}
    elsewhere = run_cli("ask", "--base-url", replica.url + "/sub", "Hi", env=env, timeout=100)
    assert_one_line_error(elsewhere, 5, f"{replica.url}/sub/api/chat")
    assert replica.stats.chat_requests == 0  # nothing went to the profile's /api/chat
    here = run_cli("ask", "--base-url", replica.url, "Hi", env=env, timeout=100)
    assert here.returncode == 0, err(here)
    assert out(here) == reply_text(as_messages("Hi"), "") + "\n"
