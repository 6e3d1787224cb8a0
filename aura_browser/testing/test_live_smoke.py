"""The live smoke suite: is a deployment usable through aura-browser right now?

    pytest --aura-live --base-url https://openchat.team --pyargs aura_browser.testing

Each check fails with what was wrong: a DNS or connection failure, a disabled deployment, a
challenge never passed, not this app (no /api/models), or an error reply. The tests are sync
on purpose: they need neither pytest-asyncio nor any asyncio mode in the caller's pytest config.
"""

from __future__ import annotations

import pytest

from aura_browser.testing.live import LiveSmoke

pytestmark = pytest.mark.aura_live


def test_the_page_loads_through_the_gate(aura_live: LiveSmoke) -> None:
    with aura_live.check("the page loads through the gate") as profile:
        aura_live.run(aura_live.site.load_page(profile))


def test_api_models_lists_a_model(aura_live: LiveSmoke) -> None:
    with aura_live.check("/api/models lists a model") as profile:
        models = aura_live.run(aura_live.site.list_models(profile))
    assert models


def test_a_short_prompt_streams_a_reply_over_the_direct_transport(aura_live: LiveSmoke) -> None:
    with aura_live.check("a short prompt streams a reply over the direct transport (plain HTTP)"):
        text, stats = aura_live.run(aura_live.site.ask("direct"))
    assert text.strip() and stats.transport == "direct"


def test_a_short_prompt_streams_a_reply_through_the_page(aura_live: LiveSmoke) -> None:
    with aura_live.check("a short prompt streams a reply through the in-page transport (the browser)"):
        text, stats = aura_live.run(aura_live.site.ask("page"))
    assert text.strip() and stats.transport == "page"
