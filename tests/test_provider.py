"""The gpt4free-style face: Aura.create_async_generator / create_completion, webdriver=, get_args_from_browser."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest

from aura_browser import Aura, get_args_from_browser, get_args_from_browser_async
from aura_browser.drivers.browser_path import find_chromium
from aura_browser.environment import SITE_ENV, site_options_from_env
from aura_browser.errors import InvalidRequest, SiteError, WrongEventLoop
from aura_browser.profile import ProfileStore, site_profile_name
from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages, build_body

from tests.support.cli import run_cli
from tests.support.processes import chromium_pids, wait_for_no_new_chromium
from tests.support.servers.remote_browsers import chromedriver_server
from tests.support.webdrivers import quit_users_webdriver, start_users_webdriver

# The issue's example, verbatim: only its import line differs from gpt4free's.
EXAMPLE = """\
from aura_browser import Aura
from aura_browser.typing import Messages
messages: Messages = [{"role": "user", "content": "Hello, how are you?"}]
async for chunk in Aura.create_async_generator(model="openchat_3.6", messages=messages):
    print(chunk)
"""
# Runs a snippet with top-level `async for`, as the asyncio REPL or a notebook would.
RUN_WITH_TOP_LEVEL_AWAIT = (
    "import ast, asyncio, sys\n"
    "code = compile(sys.stdin.read(), '<example>', 'exec', flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)\n"
    "asyncio.run(eval(code, {'__name__': '__main__'}))\n"
)


def env_without_aura(**variables: str) -> dict[str, str]:
    """This environment minus any AURA_* setting of the developer's (the test-run marker stays), plus `variables`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("AURA_") or k == "AURA_TEST_RUN"}
    return {**kept, **variables}


def run_example(env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-c", RUN_WITH_TOP_LEVEL_AWAIT], input=EXAMPLE.encode(),
                          capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    printed = done.stdout.decode().splitlines()
    assert "".join(printed) == reply_text(as_messages("Hello, how are you?"), "")  # one line per chunk


@pytest.mark.parametrize("gate, driver", [("challenge", "playwright"), ("strict", "playwright"), ("strict", "selenium")])
def test_the_issue_example_runs_with_only_its_import_line_changed(make_replica, tmp_path, gate, driver):
    replica = make_replica(gate=gate)  # strict: TLS, and only the in-page fallback gets through
    env = env_without_aura(AURA_BASE_URL=replica.url, AURA_PROFILE_DIR=str(tmp_path / "profiles"), AURA_DRIVER=driver)
    if replica.url.startswith("https"):
        env["AURA_INSECURE"] = "1"

    run_example(env)

    assert replica.stats.chat_completed == 1
    profile = ProfileStore(tmp_path / "profiles").load(site_profile_name(replica.url))  # AURA_PROFILE_DIR, the site's own
    assert profile is not None and profile.driver == driver  # captured by the AURA_DRIVER browser
    if gate == "strict":
        assert replica.stats.tls_blocked >= 1


def test_the_example_runs_in_a_remote_browser_named_by_the_environment(make_replica, tmp_path):
    replica = make_replica(gate="strict")  # login and the in-page fallback both happen in the remote browser
    with chromedriver_server() as grid:  # speaks W3C WebDriver, as Selenium Grid does
        before = chromium_pids()  # chromedriver itself among them
        run_example(env_without_aura(AURA_BASE_URL=replica.url, AURA_PROFILE_DIR=str(tmp_path / "profiles"),
                                     AURA_INSECURE="1", **{SITE_ENV["remote_webdriver"]: grid.endpoint}))
        assert ProfileStore(tmp_path / "profiles").load(site_profile_name(replica.url)).driver == "selenium"
        assert replica.stats.chat_completed == 1 and grid.alive()
        wait_for_no_new_chromium(before)  # the session we created on the server, and its browser, are gone


def test_create_completion_streams_from_a_thread_without_a_loop_and_closes_when_left(make_replica, profile_dir,
                                                                                     monkeypatch):
    replica = make_replica(gate="challenge", hold_after=2)
    monkeypatch.setenv("AURA_BASE_URL", replica.url)
    monkeypatch.setenv("AURA_PROFILE_DIR", str(profile_dir))
    messages = as_messages("Stream me, please")

    def read_while_held() -> tuple[str, list[str]]:
        chunks = Aura.create_completion("openchat_3.6", messages, profile="work")
        first = next(chunks)
        # The server is paused mid-reply: the first chunk reached us before the reply was complete.
        assert replica.stats.wait_until(lambda s: s.holding == 1, 10) and replica.stats.chat_completed == 0
        replica.release()
        return first, list(chunks)

    def leave_early() -> str:
        chunks = Aura.create_completion("openchat_3.6", messages, profile="work")
        first = next(chunks)
        chunks.close()
        return first

    with ThreadPoolExecutor(max_workers=1) as pool:
        first, rest = pool.submit(read_while_held).result(timeout=120)
        assert first + "".join(rest) == reply_text(messages, "")
        assert (profile_dir / "work.json").exists()  # profile= passed through to the client

        assert pool.submit(leave_early).result(timeout=120)
        # Closing the generator closed the request: the held stream is gone without finishing.
        assert replica.stats.wait_until(lambda s: s.holding == 0, 10)
        assert replica.stats.chat_completed == 1

        replica.config.hold_after = None
        whole = pool.submit(lambda: list(Aura.create_completion("", messages, stream=False, profile="work")))
        assert whole.result(timeout=120) == [reply_text(messages, "")]  # "" model: the default one


async def test_create_completion_refuses_a_running_loop():
    with pytest.raises(WrongEventLoop, match="running event loop.*create_async_generator"):
        Aura.create_completion("openchat_3.6", as_messages("Hi"))


async def test_webdriver_playwright_page_is_logged_in_and_streamed_in_and_left_open(make_replica, profile_dir):
    from playwright.async_api import async_playwright

    replica = make_replica(gate="strict")  # direct is always blocked: only the page's own fetch gets through
    options = dict(base_url=replica.url, profile_dir=str(profile_dir), insecure=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=find_chromium())
        try:
            context = await browser.new_context(ignore_https_errors=True)
            await context.add_cookies([{"name": "elsewhere", "value": "x", "domain": "example.org", "path": "/"}])
            page = await context.new_page()
            chats: list[str] = []
            page.on("request", lambda request: chats.append(request.method) if request.url.endswith("/api/chat") else None)
            messages = as_messages("Hi from your page")

            chunks = [c async for c in Aura.create_async_generator("openchat_3.6", messages, webdriver=page, **options)]

            assert "".join(chunks) == reply_text(messages, "")
            assert chats == ["POST"]  # the in-page fallback ran in the caller's page
            assert replica.stats.chat_completed == 1 and replica.stats.tls_blocked >= 2
            profile = ProfileStore(profile_dir).load("default")
            assert profile.user_agent == await page.evaluate("navigator.userAgent")  # captured from that page
            assert "HeadlessChrome" in profile.user_agent  # the page's own UA, not one of a browser we launched
            assert "elsewhere" not in {c["name"] for c in profile.cookies}  # only this site's cookies
            assert not page.is_closed() and browser.is_connected()
            assert await page.title() == "Chatbot UI"

            # Again on the same page (one binding per page), and an error leaves it open too.
            replica.config.status = 500
            with pytest.raises(SiteError):
                [c async for c in Aura.create_async_generator("openchat_3.6", messages, webdriver=page, **options)]
            replica.config.status = None
            again = [c async for c in Aura.create_async_generator("openchat_3.6", messages, webdriver=page, **options)]
            assert "".join(again) == reply_text(messages, "") and chats == ["POST"] * 3

            args = await get_args_from_browser_async(replica.url, webdriver=page)
            assert args["headers"]["user-agent"] == profile.user_agent and "cf_clearance" in args["cookies"]
            assert not page.is_closed() and await page.evaluate("1 + 1") == 2
            with pytest.raises(WrongEventLoop, match="get_args_from_browser_async"):
                get_args_from_browser(replica.url, webdriver=page)
            with pytest.raises(WrongEventLoop, match="async-API Page"):
                Aura.create_completion("openchat_3.6", messages, webdriver=page, **options)
        finally:
            await browser.close()


@pytest.mark.parametrize("bidi", [False, True], ids=["plain", "bidi"])
def test_webdriver_selenium_is_logged_in_and_streamed_in_and_left_running(make_replica, profile_dir, bidi):
    replica = make_replica(gate="strict")  # direct is always blocked: only the page's own fetch gets through
    options = dict(base_url=replica.url, profile_dir=str(profile_dir), insecure=True)
    messages = as_messages("Hi from your WebDriver")
    driver = start_users_webdriver(bidi=bidi)
    try:
        # The sync face, as Selenium users call it; the in-page fallback runs in their driver's window.
        chunks = list(Aura.create_completion("openchat_3.6", messages, webdriver=driver, **options))

        assert "".join(chunks) == reply_text(messages, "")
        assert replica.stats.chat_completed == 1 and replica.stats.tls_blocked >= 2
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').filter(e => e.name.endsWith('/api/chat')).length")
        assert fetched == 1  # the reply was fetched by the driver's own page
        profile = ProfileStore(profile_dir).load("default")
        assert profile.user_agent == driver.execute_script("return navigator.userAgent")  # captured from it
        assert driver.session_id and driver.title == "Chatbot UI"  # still running, still usable

        again = list(Aura.create_completion("openchat_3.6", messages, webdriver=driver, **options))
        assert "".join(again) == reply_text(messages, "") and replica.stats.chat_completed == 2

        args = get_args_from_browser(replica.url, webdriver=driver)
        assert args["headers"]["user-agent"] == profile.user_agent and "cf_clearance" in args["cookies"]
        assert driver.execute_script("return 1 + 1") == 2
    finally:
        quit_users_webdriver(driver)


PLATFORM_IN_UA = {"Linux": "Linux", "macOS": "Mac OS X", "Windows": "Windows"}


async def _post_chat(replica_url: str, session_args: dict, prompt: str) -> tuple[int, str]:
    async with aiohttp.ClientSession(**session_args) as session:
        async with session.post(replica_url + "/api/chat", json=build_body(as_messages(prompt))) as response:
            return response.status, await response.text()


async def test_get_args_from_browser_is_what_aiohttp_needs_to_pass_the_gate(replica):
    # Called from async code, as gpt4free's Aura called it: it blocks this loop while its own runs in a thread.
    args = get_args_from_browser(replica.url, timeout=30)

    assert set(args) == {"cookies", "headers"} and "cf_clearance" in args["cookies"]
    headers = args["headers"]
    user_agent = headers["user-agent"]
    major = re.search(r"Chrome/(\d+)\.", user_agent).group(1)
    assert f'v="{major}"' in headers["sec-ch-ua"]  # the client hints name the UA's own version...
    assert PLATFORM_IN_UA[json.loads(headers["sec-ch-ua-platform"])] in user_agent  # ...and platform
    assert await _post_chat(replica.url, args, "Hi") == (200, reply_text(as_messages("Hi"), ""))
    status, _ = await _post_chat(replica.url, {"headers": headers}, "Hi")
    assert status == 403  # without the cookies the gate stops the same request


def test_site_variables_are_read_as_the_cli_reads_them():
    env = {"AURA_BASE_URL": "https://chat.example.org", "AURA_PROFILE": "work", "AURA_PROFILE_DIR": "/p",
           "AURA_BROWSER": "/b/chromium", "AURA_DRIVER": "selenium", "AURA_PROXY": "http://h:3128",
           "AURA_INSECURE": "yes", "AURA_REMOTE_WEBDRIVER": "http://grid:4444"}
    assert site_options_from_env(env) == {"base_url": "https://chat.example.org", "profile": "work",
                                          "profile_dir": "/p", "browser": "/b/chromium", "driver": "selenium",
                                          "proxy": "http://h:3128", "insecure": True,
                                          "remote_webdriver": "http://grid:4444"}
    assert site_options_from_env({"AURA_INSECURE": "off", "AURA_PROXY": ""}) == {"insecure": False}
    with pytest.raises(InvalidRequest, match="AURA_INSECURE"):
        site_options_from_env({"AURA_INSECURE": "maybe"})
    shown = run_cli("ask", "--help").stdout.decode()
    assert all(variable in shown for variable in SITE_ENV.values())  # the CLI names the same variables


def test_the_provider_attributes(monkeypatch):
    monkeypatch.delenv("AURA_BASE_URL", raising=False)
    assert Aura.url == "https://openchat.team"
    monkeypatch.setenv("AURA_BASE_URL", "https://chat.example.org")
    assert Aura.url == "https://chat.example.org"
    assert Aura.working and Aura.supports_stream and Aura.supports_system_message and Aura.supports_message_history
    assert Aura.default_model == "openchat_3.6" and Aura.default_model in Aura.models


def test_importing_the_package_stays_cheap():
    code = ("import sys, aura_browser; assert not {'aiohttp', 'playwright', 'selenium'} & set(sys.modules); "
            "aura_browser.Aura; assert 'aiohttp' in sys.modules and 'playwright' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()


async def test_temperature_and_max_tokens_not_given_are_the_settings(gateless_site, profile_dir, monkeypatch):
    monkeypatch.setenv("AURA_BASE_URL", gateless_site.url)
    monkeypatch.setenv("AURA_PROFILE_DIR", str(profile_dir))
    monkeypatch.setenv("AURA_TEMPERATURE", "0.25")
    monkeypatch.setenv("AURA_MAX_TOKENS", "4096")
    messages = as_messages("Hi")

    async def sent(**options: Any) -> tuple[Any, Any]:
        assert "".join([chunk async for chunk in Aura.create_async_generator("openchat_3.6", messages, **options)])
        body = gateless_site.stats.last_chat_body
        assert body is not None
        return body["temperature"], body["model"]["tokenLimit"]

    assert await sent() == (0.25, 4096)
    assert await sent(temperature=1.5, max_tokens=2000) == (1.5, 2000)  # the call's own win
