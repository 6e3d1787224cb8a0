"""A redirect of the site's API is never followed: it would re-POST the prompt and the page's key elsewhere."""

import pytest

from aura_browser.doctor.probe import probe_site
from aura_browser.errors import Redirected

from tests.support.cli import run_cli
from tests.support.profiles import save_plain_profile

TOKEN = "tok-9d2c1e"
PASSWORD = "pw-5a7b3f"


@pytest.fixture
def redirected(make_replica, profile_dir):
    """A site whose api/chat and api/models redirect to another server, which must never be asked."""
    elsewhere = make_replica(gate="off")
    target = elsewhere.url.replace("://", f"://thief:{PASSWORD}@") + f"/api/chat?token={TOKEN}"
    site = make_replica(gate="off", redirect_to=target)
    save_plain_profile(profile_dir, site.url)
    return site, elsewhere


@pytest.mark.parametrize("transport", ["direct", "page"])
def test_a_redirected_chat_is_an_error_naming_the_target_and_the_prompt_goes_nowhere(redirected, profile_dir,
                                                                                     transport):
    site, elsewhere = redirected
    result = run_cli("ask", "--base-url", site.url, "--transport", transport, "Hi", "-v",
                     env={"AURA_PROFILE_DIR": str(profile_dir), "AURA_LOGIN_TIMEOUT": "30"})
    stderr = result.stderr.decode()
    assert result.returncode == 5 and result.stdout == b"", stderr
    last = stderr.strip().splitlines()[-1]
    assert "a redirect" in last and "never follows" in last, stderr
    if transport == "direct":  # the browser hides where an opaque redirect points
        assert f"{elsewhere.url.split('://')[1]}/api/chat?token=***" in last, stderr
    assert TOKEN not in stderr and PASSWORD not in stderr
    assert site.stats.chat_requests == 1 and elsewhere.stats.chat_requests == 0


async def test_a_redirected_model_list_is_an_error_and_its_key_goes_nowhere(redirected):
    site, elsewhere = redirected
    probe = await probe_site(site.url)
    assert isinstance(probe.models_error, Redirected) and "token=***" in str(probe.models_error)
    assert TOKEN not in str(probe.models_error) and PASSWORD not in str(probe.models_error)
    assert site.stats.models_requests == 1 and elsewhere.stats.models_requests == 0


def test_doctor_reports_the_redirect(redirected, profile_dir):
    site, elsewhere = redirected
    result = run_cli("doctor", "--base-url", site.url, "--skip-in-page",
                     env={"AURA_PROFILE_DIR": str(profile_dir)})
    assert "never follows" in result.stdout.decode() + result.stderr.decode()
    assert TOKEN not in (result.stdout + result.stderr).decode()
    assert elsewhere.stats.models_requests == 0 and elsewhere.stats.chat_requests == 0
