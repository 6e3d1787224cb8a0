"""Saved profiles for a replica with its gate off: no browser needed to make one."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aura_browser.profile import Profile, ProfileStore

from tests.support.tiers import PROFILE, needs


@needs(PROFILE)
def save_plain_profile(profile_dir: str | Path, url: str, **fields: Any) -> Profile:
    """Save as "default" in `profile_dir` a profile for `url`, a site with its gate off (`fields` added): no login.

    The one way the tests make a gate-less profile: a fixture that calls it spares its tests a browser (tiers.py).
    """
    profile = Profile(**{"base_url": url, "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0", **fields})
    ProfileStore(profile_dir).save("default", profile)
    return profile


def profile_of(url: str, who: str, proxy: str | None = None) -> Profile:
    """An unsaved profile for `url` whose cookie `who` and user agent name `who`: what a request sent says whose it was."""
    cookie = {"name": "who", "value": who, "domain": urlsplit(url).hostname, "path": "/"}
    return Profile(url, f"Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 {who}", storage_state={"cookies": [cookie]},
                   proxy=proxy)
