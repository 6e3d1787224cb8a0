"""Our own tests on the pytest plugin's fixtures: aura_replica, aura_site, aura_profile, aura_client.

The plugin is loaded here the way users get it: through the `pytest11` entry point.
"""

import subprocess
import sys
import time

import pytest

from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages


async def test_aura_client_streams_from_the_replica_behind_its_challenge(aura_replica, aura_profile, aura_client):
    assert aura_replica.config.gate == "challenge"  # the fixture's default, like the real site
    assert "cf_clearance" in [cookie["name"] for cookie in aura_profile.cookies]
    assert aura_profile.base_url == aura_replica.url

    text = await aura_client.ask("Hello")

    assert text == reply_text(as_messages("Hello"), "")
    assert aura_client.last_stats.transport == "direct"
    assert aura_replica.stats.clearances_issued == 1  # the client used aura_profile's login, not one of its own


@pytest.mark.aura_replica(gate="strict")
async def test_a_marker_makes_the_replica_strict_and_the_client_streams_in_page(aura_replica, aura_client):
    assert aura_replica.url.startswith("https://")  # strict implies TLS; aura_site accepts its certificate

    text = await aura_client.ask("Hi")

    assert text == reply_text(as_messages("Hi"), "")
    assert aura_client.last_stats.transport == "page"
    assert aura_replica.stats.tls_blocked >= 1


@pytest.mark.aura_replica("off")
@pytest.mark.aura_client(transport="page")
async def test_client_options_come_from_the_aura_client_marker(aura_replica, aura_client):
    assert await aura_client.ask("Hi") == reply_text(as_messages("Hi"), "")
    assert aura_client.last_stats.transport == "page"


@pytest.mark.parametrize("aura_replica", ["off", {"gate": "challenge", "cookie_ttl": 600}], indirect=True)
def test_indirect_parametrisation_chooses_the_gate(aura_replica, aura_profile):
    if aura_replica.config.gate == "off":
        assert aura_profile.gate_cookie_names() == [] and aura_profile.gate_expires_at is None
    else:
        assert aura_profile.gate_cookie_names() == ["cf_clearance"]
        assert time.time() + 500 < aura_profile.gate_expires_at <= time.time() + 600


def test_importing_the_plugin_stays_light():
    """Every pytest run where aura-browser is installed imports the plugin: it must not pull in the heavy parts."""
    code = ("import sys, aura_browser.testing.plugin; "
            "print(sorted(m for m in ('aiohttp', 'playwright', 'selenium', 'aura_browser.client') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
