"""`Settings`: one frozen value of every option, read from one table of AURA_* variables, used by every face."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import click
import pytest

import aura_browser
from aura_browser import AuraClient, InvalidRequest, Timeouts
from aura_browser.cli import COMMANDS, cli
from aura_browser.cli.options import UNFLAGGED
from aura_browser.environment import NAMES, SETTINGS_VARIABLES, VARIABLES
from aura_browser.option_table import SETTINGS_OPTIONS
from aura_browser.settings import Settings

PACKAGE = Path(aura_browser.__file__).parent


# --- the one table of AURA_* variables -------------------------------------------------------------


def test_every_aura_variable_in_the_package_is_a_row_of_the_table():
    named = {name for path in PACKAGE.rglob("*.py") for name in re.findall(r"AURA_[A-Z0-9_]+", path.read_text())}
    assert named - NAMES == set()
    assert len(NAMES) == len(VARIABLES)  # each variable has one row


def _commands() -> dict[str, click.Command]:
    ctx = click.Context(cli)
    commands: dict[str, click.Command] = {}
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        commands[name] = command
        if isinstance(command, click.Group):  # `profiles list/show/delete`
            commands.update({f"{name} {sub}": command.commands[sub] for sub in command.commands})
    return commands


def test_every_cli_option_with_an_envvar_names_a_row_of_the_table():
    seen = set()
    for name, command in _commands().items():
        for param in command.params:
            for variable in [param.envvar] if isinstance(param.envvar, str) else param.envvar or []:
                assert variable in NAMES, f"{name} --{param.name}: {variable} is not in environment.VARIABLES"
                seen.add(variable)
    assert {"AURA_BASE_URL", "AURA_MODEL", "AURA_TRANSPORT", "AURA_SERVE_PORT"} <= seen


def test_the_shared_options_default_to_the_table():
    ask = _commands()["ask"]
    defaults = {param.name: param.get_default(click.Context(ask)) for param in ask.params}
    for option, variable in SETTINGS_VARIABLES.items():
        if SETTINGS_OPTIONS[option].flag is None:  # no flag (AURA_IMPERSONATE): read from its variable alone
            assert option in UNFLAGGED, option
            continue
        assert option in defaults, option  # every settings variable with a flag is an option of `ask`
        param = next(p for p in ask.params if p.name == option)
        assert param.envvar == variable.name
        if variable.default is not None:  # else the option has none, or one worked out from others
            assert defaults[option] == variable.default, option
    assert (defaults["model"], defaults["temperature"], defaults["max_tokens"]) == (
        Settings().model, Settings().temperature, Settings().max_tokens)
    for name, command in _commands().items():  # a command's own rows too, where the table gives a default
        for param in command.params:
            row = next((v for v in VARIABLES if v.name == param.envvar and v.scope != "settings"), None)
            if row is not None and row.default is not None and param.name == row.option:
                assert param.get_default(click.Context(command)) == row.default, f"{name} --{param.name}"


# --- Settings -------------------------------------------------------------------------------------------


def test_settings_are_read_from_the_aura_variables_and_overrides_win():
    environ = {"AURA_BASE_URL": "https://chat.example.org/", "AURA_PROFILE": "work", "AURA_INSECURE": "yes",
               "AURA_TRANSPORT": "direct", "AURA_TIMEOUT": "7", "AURA_IDLE_TIMEOUT": "9",
               "AURA_LOGIN_TIMEOUT": "30", "AURA_MODEL": "other", "AURA_TEMPERATURE": "1.5",
               "AURA_MAX_TOKENS": "4096", "AURA_PROXY": ""}
    settings = Settings.from_env(environ, profile="mine", proxy=None)
    assert settings.base_url == "https://chat.example.org"  # normalised
    assert settings.origin == "https://chat.example.org"
    assert (settings.profile, settings.insecure, settings.transport, settings.proxy) == ("mine", True, "direct", None)
    assert settings.timeouts == Timeouts(first_byte=7, idle=9)
    assert (settings.login_timeout, settings.model, settings.temperature, settings.max_tokens) == (
        30.0, "other", 1.5, 4096)
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"AURA_TIMEOUT": "soon"}, "AURA_TIMEOUT='soon' is not a number of seconds"),
        ({"AURA_HEADLESS": "maybe"}, "AURA_HEADLESS='maybe' is not a boolean"),
        ({"AURA_MAX_TOKENS": "many"}, "AURA_MAX_TOKENS='many' is not an integer"),
        ({"AURA_TRANSPORT": "carrier-pigeon"}, "unknown transport"),
        ({"AURA_DRIVER": "puppeteer"}, "unknown driver"),
        ({"AURA_TEMPERATURE": "3"}, r"outside \[0, 2\]"),
        ({"AURA_PROFILE": "../escape"}, "profile name"),
        ({"AURA_CDP_URL": "http://h:9222", "AURA_BROWSER_WS": "ws://h:3000"}, "exclude each other"),
    ],
)
def test_bad_settings_are_refused_where_they_are_made(environ, message):
    with pytest.raises(InvalidRequest, match=message):
        Settings.from_env(environ)


def test_settings_are_frozen_and_replace_checks_again():
    settings = Settings("http://127.0.0.1:9")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.profile = "other"  # type: ignore[misc]
    assert settings.replace(transport="page").transport == "page"
    assert settings.transport == "auto"
    with pytest.raises(InvalidRequest, match="must look like http://"):
        settings.replace(proxy="not a proxy")


def test_settings_never_show_a_proxy_password():
    settings = Settings(proxy="http://user:s3cret@proxy.example:3128")
    assert settings.proxy == "http://user:s3cret@proxy.example:3128"  # kept, for the browser and aiohttp
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings)


def test_what_the_tools_derive_from_settings_without_a_client(tmp_path):
    settings = Settings("http://127.0.0.1:9", profile="work", profile_dir=tmp_path, browser="/b/chromium",
                        headless=True, login_timeout=33, remote_webdriver="http://grid:4444")
    assert settings.store().directory == tmp_path
    options = settings.launch_options()
    assert (options.executable, options.headless, options.timeout, options.remote_webdriver) == (
        "/b/chromium", True, 33, "http://grid:4444")
    assert options.screenshot_path == tmp_path / "work.failed-login.png"
    assert settings.chosen_driver() == "selenium"  # a WebDriver server decides the driver
    assert not list(tmp_path.iterdir())  # deriving writes nothing


def test_the_client_keeps_its_settings_and_its_keyword_options_change_them(tmp_path):
    settings = Settings("http://127.0.0.1:9/", profile_dir=tmp_path, transport="direct", insecure=True)
    client = AuraClient(settings=settings)
    assert client.settings is not None and client.settings == settings
    assert (client.base_url, client.transport, client.insecure) == ("http://127.0.0.1:9", "direct", True)
    changed = AuraClient(settings=settings, transport="page", profile="other")
    assert (changed.settings.transport, changed.settings.profile, changed.settings.insecure) == ("page", "other", True)
    assert settings.transport == "direct"  # the caller's settings are not touched
    plain = AuraClient("http://127.0.0.1:9", profile_dir=tmp_path, transport="direct", insecure=True)
    assert plain.settings == settings



def test_a_keyword_equal_to_its_default_still_changes_the_settings(tmp_path):
    settings = Settings("http://127.0.0.1:9", profile="work", profile_dir=tmp_path, transport="direct", insecure=True,
                        headless=True, login_timeout=33, timeouts=Timeouts(connect=1, first_byte=2, idle=3))
    client = AuraClient(settings=settings, base_url="https://openchat.team", profile=None, transport="auto",
                        insecure=False, headless=None, login_timeout=120, timeouts=Timeouts(), profile_dir=None)
    assert client.settings == Settings()
    assert AuraClient(settings=settings, timeouts=None).settings.timeouts == Timeouts()  # None: the default
    assert AuraClient(settings=settings).settings == settings  # what is not given is kept

async def test_a_request_is_sent_with_the_settings_reply_options_unless_the_call_says_otherwise(make_replica, profile_dir):
    from tests.support.profiles import save_plain_profile

    site = make_replica(gate="off", models=[{"id": "openchat_3.6", "name": "OpenChat 3.6"}, {"id": "other", "name": "Other"}])
    save_plain_profile(profile_dir, site.url)
    settings = Settings(site.url, profile_dir=profile_dir, transport="direct", model="other", temperature=0.2, max_tokens=2048)
    async with AuraClient(settings=settings) as client:
        await client.ask("Hi")
        sent = site.stats.last_chat_body
        assert sent is not None
        assert (sent["model"]["id"], sent["temperature"], sent["model"]["tokenLimit"]) == ("other", 0.2, 2048)
        await client.ask("Hi", model="openchat_3.6", temperature=None, max_tokens=4096)
        sent = site.stats.last_chat_body
        assert sent is not None
        assert (sent["model"]["id"], sent["temperature"], sent["model"]["tokenLimit"]) == ("openchat_3.6", None, 4096)


# --- doctor and the smoke suite read settings; a client only asks the site ------------------------------


async def test_probing_and_judging_a_profile_build_no_client(gateless_site, profile_dir, monkeypatch):
    from aura_browser.doctor.probe import SiteUnderTest
    from aura_browser.profile import ProfileStore

    def no_client(*args: object, **kwargs: object) -> None:
        raise AssertionError("an AuraClient was built only to read its settings")

    monkeypatch.setattr(AuraClient, "__init__", no_client)
    site = SiteUnderTest(Settings(gateless_site.url, profile_dir=profile_dir))
    probe = await site.probe(None)
    assert probe.reachable and not probe.gated
    profile = ProfileStore(profile_dir).load("default")
    assert profile is not None and site.usability(profile).ok
    assert await site.logged_in_profile() == profile  # usable as saved: no login, so no client
    reply = await site.fetch(profile, "GET", "")
    assert reply.status == 200


def test_settings_are_a_public_name():
    assert aura_browser.Settings is Settings
    assert "Settings" in aura_browser.__all__


# --- the gpt4free face ------------------------------------------------------------------------------------


def test_the_provider_reads_its_settings_from_keywords_then_the_variables(monkeypatch):
    from aura_browser.gpt4free.provider import provider_settings

    monkeypatch.setenv("AURA_PROFILE", "work")
    monkeypatch.setenv("AURA_PROXY", "http://env-proxy:3128")
    monkeypatch.setenv("AURA_TRANSPORT", "direct")
    settings = provider_settings("http://127.0.0.1:9", None, {"transport": "page", "timeout": 5, "stream": True})
    assert (settings.base_url, settings.profile, settings.proxy, settings.transport) == (
        "http://127.0.0.1:9", "work", "http://env-proxy:3128", "page")
    assert (settings.timeouts.first_byte, settings.timeouts.idle) == (5, 5)
    assert provider_settings("http://127.0.0.1:9", "http://mine:3128", {}).proxy == "http://mine:3128"


def test_both_aura_classes_run_one_shared_generator():
    from aura_browser.gpt4free import provider

    plugin = pytest.importorskip("aura_browser.g4f")
    assert provider.Aura.create_async_generator.__func__ is provider.stream_reply
    assert plugin.Aura.create_async_generator.__func__ is provider.stream_reply
    assert "temperature" in plugin.Aura.get_parameters()  # gpt4free still reads the signature


def test_remote_capabilities_come_from_their_variable_and_their_values_are_never_shown():
    environ = {"AURA_REMOTE_CAPABILITIES": '{"browserVersion": "126", "cloud:options": {"accessKey": "k3y-s3cret"}}',
               "AURA_REMOTE_IDLE_TIMEOUT": "30"}
    settings = Settings.from_env(environ, remote_webdriver="http://127.0.0.1:4444")
    assert settings.remote_capabilities == {"browserVersion": "126", "cloud:options": {"accessKey": "k3y-s3cret"}}
    assert settings.remote_idle_timeout == 30
    assert settings.launch_options().remote_capabilities == settings.remote_capabilities
    assert "k3y-s3cret" not in repr(settings) and "cloud:options" in repr(settings)
    with pytest.raises(InvalidRequest, match="must be a JSON object"):
        Settings.from_env({"AURA_REMOTE_CAPABILITIES": '"a string"'})
    with pytest.raises(InvalidRequest, match="remote_idle_timeout"):
        Settings(remote_idle_timeout=0)
