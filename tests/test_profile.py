"""Profiles on disk: atomic 0600 files in a 0700 folder, clear errors, cookies only for their origin."""

import asyncio
import json
import os
import stat
import time

import pytest

from aura_browser.errors import InvalidRequest, ProfileError
from aura_browser.profile import Profile, ProfileStore


def make_profile(base_url="http://127.0.0.1:8765", **fields) -> Profile:
    cookies = [
        {"name": "cf_clearance", "value": "secret-clearance", "domain": "127.0.0.1", "path": "/",
         "expires": time.time() + 600, "httpOnly": True, "secure": False, "sameSite": "Lax"},
        {"name": "__cf_bm", "value": "secret-bm", "domain": "127.0.0.1", "path": "/", "expires": -1,
         "httpOnly": True, "secure": False, "sameSite": "Lax"},
        {"name": "other", "value": "x", "domain": "example.org", "path": "/", "expires": -1,
         "httpOnly": False, "secure": False, "sameSite": "Lax"},
    ]
    state = {"cookies": cookies, "origins": [{"origin": base_url, "localStorage": [{"name": "apiKey", "value": "sk-secret"}]}]}
    fields.setdefault("user_agent", "Mozilla/5.0 Test")
    return Profile(base_url=base_url, storage_state=state, gate_expires_at=time.time() + 600, **fields)


def test_saved_file_is_0600_in_a_0700_folder_even_under_umask_000(tmp_path):
    store = ProfileStore(tmp_path / "profiles")
    old = os.umask(0)
    try:
        path = store.save("default", make_profile())
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert store.load("default").user_agent == "Mozilla/5.0 Test"
    assert store.names() == ["default"]
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_round_trip_keeps_everything(tmp_path):
    store = ProfileStore(tmp_path)
    profile = make_profile(proxy="http://user:pw@proxy:3128", headers={"accept-language": "en-US"})
    store.save("p", profile)
    assert store.load("p") == profile


def test_storage_state_is_playwrights_format(tmp_path):
    store = ProfileStore(tmp_path)
    path = store.save("p", make_profile())
    data = json.loads(path.read_text())
    assert set(data["storage_state"]) == {"cookies", "origins"}
    assert data["storage_state"]["origins"][0]["localStorage"][0] == {"name": "apiKey", "value": "sk-secret"}


def test_a_crash_while_writing_leaves_the_old_profile(tmp_path, monkeypatch):
    store = ProfileStore(tmp_path)
    store.save("p", make_profile(user_agent="old"))

    def crash(*args):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(ProfileError, match="disk on fire"):
        store.save("p", make_profile(user_agent="new"))
    assert store.load("p").user_agent == "old"
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


@pytest.mark.parametrize(
    "content, problem",
    [("{not json", "not valid JSON"), ('{"hello": 1}', "not an aura-browser profile"),
     ('{"format": "aura-browser-profile", "version": 99}', "version"),
     ('{"format": "aura-browser-profile", "version": 1, "base_url": "http://x"}', "damaged")],
)
def test_corrupt_or_foreign_files_name_their_path(tmp_path, content, problem):
    store = ProfileStore(tmp_path)
    store.path("p").write_text(content)
    with pytest.raises(ProfileError) as caught:
        store.load("p")
    assert str(store.path("p")) in str(caught.value)
    assert problem in str(caught.value)


def test_cookies_go_only_to_their_own_origin():
    profile = make_profile()
    assert profile.cookies_for("http://127.0.0.1:8765/api/chat") == {"cf_clearance": "secret-clearance", "__cf_bm": "secret-bm"}
    assert profile.cookies_for("http://127.0.0.1:9999/api/chat") == {}  # same host, other port
    assert profile.cookies_for("https://127.0.0.1:8765/api/chat") == {}  # other scheme
    assert profile.cookies_for("http://example.org/") == {}


def test_expired_cookies_are_not_sent_and_expiry_has_a_margin():
    profile = make_profile()
    profile.storage_state["cookies"][0]["expires"] = time.time() - 1
    assert "cf_clearance" not in profile.cookies_for("http://127.0.0.1:8765/")
    profile.gate_expires_at = time.time() + 5
    assert profile.is_expired()


def test_summary_has_no_secrets():
    profile = make_profile(proxy="http://user:hunter2@proxy:3128")
    text = json.dumps(profile.summary())
    for secret in ("secret-clearance", "secret-bm", "sk-secret", "hunter2"):
        assert secret not in text
    assert "user:***@proxy:3128" in text
    assert profile.api_key == "sk-secret"


def test_bad_names_are_refused(tmp_path):
    with pytest.raises(InvalidRequest):
        ProfileStore(tmp_path).path("../escape")


async def test_the_lock_lets_one_holder_in_at_a_time(tmp_path):
    store = ProfileStore(tmp_path)
    order = []
    first_inside = asyncio.Event()

    async def first():
        async with store.lock("p"):
            order.append("first in")
            first_inside.set()
            await asyncio.sleep(0.2)  # hold the lock a while; the second must wait for it
            order.append("first out")

    async def second():
        await first_inside.wait()
        async with store.lock("p"):
            order.append("second in")

    await asyncio.gather(first(), second())
    assert order == ["first in", "first out", "second in"]


def test_delete(tmp_path):
    store = ProfileStore(tmp_path)
    store.save("p", make_profile())
    assert store.delete("p") is True
    assert store.delete("p") is False
    assert store.load("p") is None
