"""aura-browser's pytest plugin and the live smoke suite it ships.

    pytest --aura-live --base-url https://openchat.team --pyargs aura_browser.testing

The plugin (`aura_browser.testing.plugin`, registered through the `pytest11` entry point) gives the
fixtures aura_replica, aura_site, aura_profile, aura_client and aura_live; `test_live_smoke` is the
suite. Without --aura-live its tests are deselected.
"""
