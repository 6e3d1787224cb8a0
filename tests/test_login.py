"""Login with real headless Chromium through the replica's JS challenge."""

import stat

import pytest

from aura_browser.errors import LoginRequired, NotThisApp, SiteDown

from tests.support.drivers import both_drivers

pytestmark = both_drivers


async def test_login_passes_the_challenge_and_captures_the_session(replica, make_client, profile_dir, driver):
    client = make_client(replica.url)
    profile = await client.login()

    names = {c["name"] for c in profile.cookies}
    assert {"cf_clearance", "__cf_bm"} <= names
    clearance = next(c for c in profile.cookies if c["name"] == "cf_clearance")
    assert clearance["httpOnly"] is True  # HttpOnly cookies are captured too
    assert profile.gate_expires_at == clearance["expires"]
    assert "HeadlessChrome" not in profile.user_agent and "Chrome/" in profile.user_agent
    assert profile.headers["accept-language"]
    assert profile.headers["sec-ch-ua-platform"]
    assert profile.headers["origin"] == replica.url
    assert "cookie" not in profile.headers and "user-agent" not in profile.headers
    assert profile.local_storage() == {}  # as the real app, the page writes no localStorage before a message
    assert profile.browser_version and profile.driver == driver
    assert replica.stats.clearances_issued == 1

    path = profile_dir / "default.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(profile_dir.stat().st_mode) == 0o700


async def test_the_captured_cookie_is_bound_to_the_captured_user_agent(replica, make_client):
    profile = await make_client(replica.url).login()
    # The replica's HMAC binds cf_clearance to the UA it was issued for: the capture must match it.
    import aiohttp

    cookies = profile.cookies_for(replica.url + "/")
    async with aiohttp.ClientSession() as session:
        headers = {"User-Agent": profile.user_agent, "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        async with session.get(replica.url + "/", headers=headers) as good:
            assert good.status == 200
        headers["User-Agent"] = profile.user_agent.replace("Chrome/", "Chrome/1")
        async with session.get(replica.url + "/", headers=headers) as bad:
            assert bad.status == 403


async def test_a_gate_that_never_lets_through_times_out_with_what_was_seen(make_replica, make_client, profile_dir):
    replica = make_replica(gate="challenge", challenge_delay=60)
    client = make_client(replica.url, login_timeout=2)
    with pytest.raises(LoginRequired) as caught:
        await client.login()
    message = str(caught.value)
    assert "Just a moment..." in message and "status 403" in message and replica.url in message
    screenshot = profile_dir / "default.failed-login.png"
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    assert not (profile_dir / "default.json").exists()


async def test_a_disabled_deployment_is_reported_as_down(make_replica, make_client):
    replica = make_replica(disabled=True)
    with pytest.raises(SiteDown, match="This Deployment has been disabled"):
        await make_client(replica.url).login()


async def test_a_site_that_is_not_this_app_is_named(make_client):
    from aiohttp import web

    from tests.support.servers.loopback_app import serve_app

    async def nginx(request):
        return web.Response(text="<html><title>Welcome to nginx!</title></html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/", nginx)
    async with serve_app(app) as url:
        with pytest.raises(NotThisApp, match="not an OpenChat UI page"):
            await make_client(url).login()


async def test_nothing_listening_is_site_down(make_client, unused_tcp_port):
    url = f"http://127.0.0.1:{unused_tcp_port}"
    with pytest.raises(SiteDown, match=f"cannot reach {url}"):
        await make_client(url).login()
