"""What only the Selenium driver has to show: profiles that replay across drivers, the CLI with
--driver selenium, an adopted Selenium WebDriver (with and without BiDi), and refused proxy logins.

The login, direct and fallback tests run over both drivers in their own files (`both_drivers`).
"""

import json

import pytest

from aura_browser.drivers import new_session
from aura_browser.drivers.base import LaunchOptions
from aura_browser.errors import InvalidRequest
from aura_browser.profile import ProfileStore
from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages

from tests.support.cli import run_cli
from tests.support.webdrivers import quit_users_webdriver, start_users_webdriver


async def capture_in(driver, url, profile=None):
    """Open the site in a new browser of `driver` (from `profile` when given) and capture what it holds."""
    session = new_session(driver, url, LaunchOptions(timeout=30))
    try:
        await session.open(profile)
        return await session.capture()
    finally:
        await session.close()


@pytest.mark.parametrize("captured_by, replayed_by", [("playwright", "selenium"), ("selenium", "playwright")])
async def test_a_profile_captured_by_one_driver_replays_in_the_other(captured_by, replayed_by, replica):
    profile = await capture_in(captured_by, replica.url)
    assert profile.driver == captured_by
    if not profile.storage_state["origins"]:  # the app writes no localStorage before a first message
        profile.storage_state["origins"].append({"origin": profile.origin, "localStorage": []})
    profile.storage_state["origins"][0]["localStorage"].append({"name": "auraMarker", "value": "came along"})

    replayed = await capture_in(replayed_by, replica.url, profile)

    assert replica.stats.clearances_issued == 1  # the other driver's cookies and UA got it past the gate
    assert replayed.driver == replayed_by and replayed.user_agent == profile.user_agent
    by_name = {c["name"]: c for c in replayed.cookies}
    for cookie in profile.cookies:
        assert by_name[cookie["name"]] == cookie  # same value, flags and expiry, in the same format
    assert replayed.local_storage()["auraMarker"] == "came along"
    assert replayed.headers == profile.headers  # both send the same client hints with that UA


def test_cli_login_and_in_page_ask_with_the_selenium_driver(make_replica, profile_dir):
    replica = make_replica(gate="strict")
    env = {"AURA_BASE_URL": replica.url, "AURA_PROFILE_DIR": str(profile_dir), "AURA_DRIVER": "selenium",
           "AURA_INSECURE": "1"}
    login = run_cli("login", env=env)
    assert login.returncode == 0, login.stderr.decode()
    assert ProfileStore(profile_dir).load("default").driver == "selenium"

    asked = run_cli("ask", "--json", "Hello from Selenium", env=env)
    assert asked.returncode == 0, asked.stderr.decode()
    answer = json.loads(asked.stdout)
    assert answer["transport"] == "page"  # direct is blocked by the strict gate: the fallback ran in Selenium's page
    assert answer["text"] == reply_text(as_messages("Hello from Selenium"), "")


@pytest.fixture
def users_webdriver(request):
    """A Selenium Chrome session the user started and owns; the test quits it."""
    driver = start_users_webdriver(bidi=request.param)
    try:
        yield driver
    finally:
        quit_users_webdriver(driver)


@pytest.mark.parametrize("users_webdriver", [True, False], ids=["bidi", "no-bidi"], indirect=True)
async def test_an_adopted_webdriver_streams_in_page_and_is_left_running(users_webdriver, make_replica, make_client):
    replica = make_replica(gate="challenge", hold_after=2)
    client = make_client(replica.url, webdriver=users_webdriver, transport="page")
    messages = as_messages("Stream me in your browser")
    stream = client.stream(messages)

    first = await anext(stream)  # pushed over BiDi, or polled every 10 ms without it
    assert replica.stats.holding == 1 and replica.stats.chat_completed == 0
    replica.release()
    rest = [chunk async for chunk in stream]
    assert first + "".join(rest) == reply_text(messages, "")
    assert client.profile.driver == "selenium" and client.profile.gate_cookie_names() == ["cf_clearance"]
    await client.close()

    assert users_webdriver.title == "Chatbot UI"  # the user's session still runs, on the page it was left on


async def test_a_proxy_login_is_refused_naming_the_playwright_driver(make_client):
    client = make_client("https://example.org", driver="selenium", proxy="http://user:hunter2@127.0.0.1:3128")
    with pytest.raises(InvalidRequest, match="use --driver playwright") as caught:
        await client.login()
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("users_webdriver", [True, False], ids=["bidi", "no-bidi"], indirect=True)
async def test_sessions_sharing_one_adopted_webdriver_each_hear_their_own_reply(users_webdriver, make_replica,
                                                                                 make_client, tmp_path):
    replica = make_replica(gate="challenge", hold_after=1)
    first = make_client(replica.url, webdriver=users_webdriver, transport="page", profile_dir=tmp_path / "first")
    second = make_client(replica.url, webdriver=users_webdriver, transport="page", profile_dir=tmp_path / "second")
    one, two = as_messages("one"), as_messages("two")
    first_stream, second_stream = first.stream(one), second.stream(two)
    first_start, second_start = await anext(first_stream), await anext(second_stream)
    assert replica.stats.holding == 2  # both replies are streaming in the one page at once
    replica.release()
    replica.release()
    assert first_start + "".join([c async for c in first_stream]) == reply_text(one, "")
    assert second_start + "".join([c async for c in second_stream]) == reply_text(two, "")

    await first.close()  # a session that comes after one that left still hears the page
    replica.config.hold_after = None
    later = make_client(replica.url, webdriver=users_webdriver, transport="page", profile_dir=tmp_path / "first")
    assert await later.ask("three") == reply_text(as_messages("three"), "")
