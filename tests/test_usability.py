"""`Profile.usable_for`, the one answer to "can this profile be used as it is?"."""

from aura_browser.profile import EXPIRY_MARGIN, Profile

SITE = "https://chat.example"
NOW = 1_900_000_000.0
PROXY = "http://user:s3cret@10.0.0.1:3128"


def profile(**fields) -> Profile:
    fields.setdefault("storage_state", {"cookies": [{"name": "cf_clearance", "value": "secret-cookie"}], "origins": []})
    return Profile(base_url=SITE + "/chat", user_agent="Mozilla/5.0 Chrome/156.0.0.0", **fields)


def test_a_fresh_profile_for_this_site_is_usable_with_any_or_its_own_proxy():
    fresh = profile(proxy=PROXY, gate_expires_at=NOW + 3600)
    for proxy in (None, PROXY):
        usability = fresh.usable_for(SITE, proxy, NOW)
        assert usability.ok and usability.reason == "usable"
    assert profile().usable_for("https://CHAT.example:443", None, NOW).ok  # the same origin, written otherwise


def test_another_site_is_named():
    usability = profile().usable_for("https://other.example:8443", None, NOW)
    assert not usability.ok
    assert usability.site == "captured for https://chat.example, not https://other.example:8443"
    assert usability.reason == usability.site and not usability.proxy and not usability.gate


def test_another_proxy_is_named_without_its_password():
    usability = profile(proxy=PROXY).usable_for(SITE, "http://10.0.0.2:8080", NOW)
    assert not usability.ok
    assert usability.proxy == "captured through http://user:***@10.0.0.1:3128, not through http://10.0.0.2:8080"
    assert "s3cret" not in usability.reason


def test_a_profile_without_a_proxy_is_not_usable_through_one():
    usability = profile().usable_for(SITE, PROXY, NOW)
    assert usability.proxy == "captured without a proxy, not through http://user:***@10.0.0.1:3128"
    assert not usability.ok and "s3cret" not in usability.reason


def test_an_expired_gate_cookie_is_named_with_when():
    usability = profile(gate_expires_at=NOW - 60).usable_for(SITE, None, NOW)
    assert not usability.ok
    assert usability.gate == "its gate cookie (cf_clearance) expired at 2030-03-17T17:45:40Z"
    assert "secret-cookie" not in usability.reason


def test_a_gate_cookie_about_to_expire_counts_as_expired():
    soon = profile(gate_expires_at=NOW + EXPIRY_MARGIN / 2)
    assert soon.usable_for(SITE, None, NOW).gate.startswith(f"its gate cookie (cf_clearance) expires within {EXPIRY_MARGIN:g} s")
    assert profile(gate_expires_at=NOW + EXPIRY_MARGIN + 1).usable_for(SITE, None, NOW).ok


def test_every_problem_is_told_at_once():
    usability = profile(gate_expires_at=NOW - 1).usable_for("https://other.example", PROXY, NOW)
    assert usability.site and usability.proxy and usability.gate
    assert usability.reason == "; ".join((usability.site, usability.proxy, usability.gate))

