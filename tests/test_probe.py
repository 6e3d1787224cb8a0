"""The plain-HTTP site probe, and the names of problems, against the replica and other real servers."""

import pytest
from aiohttp import web

from aura_browser.doctor.probe import probe_site
from aura_browser.doctor.problems import Problem, describe, problem_of
from aura_browser.errors import (
    Blocked,
    DeploymentDisabled,
    GateNotPassed,
    NotThisApp,
    SiteDown,
    SiteError,
)
from aura_browser.wire.page import PageKind

from tests.support.servers.loopback_app import nginx_app, serve_app


async def test_an_open_replica_is_this_app_with_its_model(make_replica):
    replica = make_replica(gate="off")
    probe = await probe_site(replica.url)
    assert probe.reachable and probe.page.status == 200 and probe.page_kind is PageKind.APP
    assert probe.model_ids() == ["openchat_3.6"] and probe.fatal() is None and not probe.gated
    assert replica.stats.models_requests == 1


async def test_a_challenge_is_seen_without_a_profile_and_is_not_fatal(make_replica):
    replica = make_replica(gate="challenge")
    probe = await probe_site(replica.url)
    assert probe.gated and probe.page_kind is PageKind.CHALLENGE and not probe.with_profile
    assert isinstance(probe.models_error, Blocked) and probe.models is None
    assert probe.fatal() is None  # a browser can pass it


async def test_a_disabled_deployment_is_fatal(make_replica):
    replica = make_replica(gate="off", disabled=True)
    probe = await probe_site(replica.url)
    assert isinstance(probe.fatal(), DeploymentDisabled)
    assert problem_of(probe.fatal()) is Problem.DISABLED
    assert replica.stats.models_requests == 0  # nothing more is asked of a switched-off deployment


async def test_a_server_without_api_models_is_not_this_app():
    async with serve_app(nginx_app()) as url:
        probe = await probe_site(url)
    assert probe.page_kind is PageKind.OTHER
    assert isinstance(probe.fatal(), NotThisApp) and "/api/models is not OpenChat UI's model list" in str(probe.fatal())
    assert describe(probe.fatal()).startswith("not this app (no /api/models): ")


async def test_a_model_list_that_is_empty_is_an_error_reply():
    async def page(request):
        return web.Response(text="<title>Chatbot UI</title>", content_type="text/html")

    async def models(request):
        return web.Response(text="[]", content_type="text/plain")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_post("/api/models", models)
    async with serve_app(app) as url:
        probe = await probe_site(url)
    assert isinstance(probe.models_error, SiteError) and "lists no model" in str(probe.models_error)
    assert probe.fatal() is None and problem_of(probe.models_error) is Problem.ERROR_REPLY


async def test_nothing_listening_is_a_connection_failure(unused_tcp_port):
    url = f"http://127.0.0.1:{unused_tcp_port}"
    probe = await probe_site(url)
    assert not probe.reachable and isinstance(probe.fatal(), SiteDown)
    assert describe(probe.fatal()).startswith(f"DNS or connection failure: cannot reach {url}/")


@pytest.mark.parametrize(("error", "problem"), [
    (GateNotPassed("the gate was not passed"), Problem.CHALLENGE),
    (DeploymentDisabled("x: This Deployment has been disabled"), Problem.DISABLED),
    (SiteDown("cannot reach x"), Problem.UNREACHABLE),
    (NotThisApp(404, "", "x"), Problem.NOT_THIS_APP),
    (SiteError(500, "", "Error"), Problem.ERROR_REPLY),
    (Blocked("x answered 403 with a block page"), Problem.BLOCKED),
])
def test_the_most_specific_problem_names_an_error(error, problem):
    assert problem_of(error) is problem
