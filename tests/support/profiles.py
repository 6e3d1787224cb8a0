"""Saved profiles for a replica with its gate off: no browser needed to make one."""

from __future__ import annotations

from aura_browser.profile import Profile, ProfileStore

from tests.support.tiers import PROFILE, needs


@needs(PROFILE)
def save_plain_profile(profile_dir, url, **fields):
    """A profile for a replica with its gate off: no browser needed to make one."""
    profile = Profile(base_url=url, user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0", **fields)
    ProfileStore(profile_dir).save("default", profile)
    return profile


@needs(PROFILE)
def saved_profile_for(url: str, env: dict[str, str]) -> None:
    """A gate-less replica needs no login: a bare profile is enough, and no browser starts."""
    ProfileStore(env["AURA_PROFILE_DIR"]).save("default", Profile(base_url=url, user_agent="Mozilla/5.0 Test"))
