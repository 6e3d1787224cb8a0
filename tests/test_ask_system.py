"""`AuraClient.ask(list_of_messages, system=...)` applies `system`, as it does with a string prompt."""

import time

import pytest

from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages

from tests.support.profiles import save_plain_profile


@pytest.fixture
def replica(make_replica, profile_dir):
    """A gateless replica and a saved profile for it: no browser needed."""
    replica = make_replica(gate="off")
    save_plain_profile(profile_dir, replica.url, captured_at=time.time())
    return replica


async def test_ask_with_a_list_applies_system_as_a_first_system_message(replica, make_client):
    client = make_client(replica.url)
    messages = [{"role": "system", "content": "Be brief"}, *as_messages("Hi")]
    text = await client.ask(messages, system="Answer in French")
    body = replica.stats.last_chat_body
    assert body["prompt"] == "Answer in French\nBe brief"  # the app joins system messages, system= first
    assert text == reply_text(body["messages"], "Answer in French\nBe brief")
    assert messages[0] == {"role": "system", "content": "Be brief"} and len(messages) == 2  # the caller's list is kept


async def test_ask_with_a_list_and_no_system_sends_the_list_as_it_is(replica, make_client):
    await make_client(replica.url).ask(as_messages("Hi", "Be brief"))
    assert replica.stats.last_chat_body["prompt"] == "Be brief"
