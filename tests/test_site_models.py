"""Which models are advertised: the site's own /api/models list (kept in the profile), the static list as fallback."""

from __future__ import annotations

import openai

from aura_browser import Aura
from aura_browser.profile import ProfileStore
from aura_browser.wire.api import model_ids

from tests.support.profiles import save_plain_profile

NEXT = {"id": "openchat_next", "name": "OpenChat Next"}
THREE_SIX = {"id": "openchat_3.6", "name": "OpenChat 3.6 (latest)"}


def test_the_dead_model_is_not_advertised_without_a_site_list(monkeypatch, tmp_path):
    monkeypatch.setenv("AURA_PROFILE_DIR", str(tmp_path))
    assert model_ids(None) == ["openchat_3.6"]
    assert Aura.models == ["openchat_3.6"]


async def test_login_keeps_the_sites_list_and_aura_models_reads_it(make_replica, make_client, profile_dir,
                                                                   monkeypatch):
    replica = make_replica(models=[THREE_SIX, NEXT])
    await make_client(replica.url).login()
    assert ProfileStore(profile_dir).load("default").models == [THREE_SIX, NEXT]
    monkeypatch.setenv("AURA_PROFILE_DIR", str(profile_dir))
    monkeypatch.setenv("AURA_BASE_URL", replica.url)
    assert Aura.models == ["openchat_3.6", "openchat_next"]
    monkeypatch.setenv("AURA_BASE_URL", "http://another.invalid")  # the profile is of another site
    assert Aura.models == ["openchat_3.6"]


async def test_the_client_asks_the_site_now_and_falls_back_to_what_it_kept(make_replica, make_client, profile_dir):
    replica = make_replica(gate="off")
    client = make_client(replica.url)
    assert await client.models() == ["openchat_3.6"]  # no profile: the static list, and no login for it
    assert replica.stats.models_requests == 0
    save_plain_profile(profile_dir, replica.url)
    replica.config.update({"models": [NEXT]})
    assert await client.models() == ["openchat_next"]
    replica.config.update({"upstream_down": True})
    assert await client.models() == ["openchat_next"]  # kept in the profile
    assert ProfileStore(profile_dir).load("default").models == [NEXT]


def test_serve_lists_the_sites_models(make_replica, profile_dir, start_server):
    replica = make_replica(gate="off", models=[THREE_SIX, NEXT])
    save_plain_profile(profile_dir, replica.url)
    base = start_server("--base-url", replica.url)
    client = openai.OpenAI(base_url=base, api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == ["openchat_3.6", "openchat_next"]
    assert client.models.retrieve("openchat_next").id == "openchat_next"
