"""Every option is declared once, in `option_table.OPTIONS`; what each face needs is derived from it, and the two
typed faces that cannot be (Settings' fields, AuraClient's keywords) are held to it here."""

from __future__ import annotations

import dataclasses
import inspect
import typing

import click
import click.testing
import pytest

from aura_browser import AuraClient, InvalidRequest, Profile, Settings
from aura_browser.cli import cli
from aura_browser.cli.options import ConnectOptions, ReplyOptions, SiteOptions, declared_options
from aura_browser.drivers.base import LaunchOptions
from aura_browser.environment import SETTINGS_VARIABLES, VARIABLES
from aura_browser.option_table import OPTIONS, SETTINGS_OPTIONS, SITE_OPTIONS, Option
from aura_browser.option_values import TransportName
from aura_browser.settings import FROM_SETTINGS, DriverName

TIMEOUTS = ("timeout", "first_byte_timeout", "idle_timeout")  # the table's rows that make Settings' `timeouts`


def test_settings_fields_are_the_tables_settings_options_with_its_defaults():
    fields = {field.name: field for field in dataclasses.fields(Settings)}
    assert set(fields) - {"timeouts"} == set(SETTINGS_OPTIONS) - set(TIMEOUTS)
    for name, field in fields.items():
        if field.default is not dataclasses.MISSING:
            assert field.default == SETTINGS_OPTIONS[name].default, name
    assert Settings().remote_capabilities == {} and SETTINGS_OPTIONS["remote_capabilities"].default is None
    assert Settings().timeouts.first_byte == SETTINGS_OPTIONS["timeout"].default
    # a choice's values are its type's
    assert typing.get_args(TransportName) == SETTINGS_OPTIONS["transport"].choices
    assert typing.get_args(DriverName) == SETTINGS_OPTIONS["driver"].choices


def test_the_client_keywords_are_exactly_the_settings_fields_each_defaulting_to_from_settings():
    parameters = inspect.signature(AuraClient.__init__).parameters
    keywords = [name for name in parameters if name not in ("self", "webdriver", "settings", "transports")]
    assert keywords == [field.name for field in dataclasses.fields(Settings)]
    annotations = typing.get_type_hints(Settings)
    for name in keywords:
        assert parameters[name].default is FROM_SETTINGS, name
        expected = annotations[name] | None if name == "timeouts" else annotations[name]  # None: the default Timeouts
        assert typing.get_type_hints(AuraClient.__init__)[name] == expected | type(FROM_SETTINGS), name


def test_every_keyword_given_to_the_client_reaches_its_settings(tmp_path):
    given = {"base_url": "http://127.0.0.1:9", "profile": "work", "profile_dir": tmp_path, "transport": "direct",
             "driver": "selenium", "browser": "/b/chromium", "proxy": "http://proxy.example:3128", "insecure": True,
             "headless": True, "login_timeout": 33.0, "max_reply_bytes": 1000, "remote_capabilities": {"a": 1},
             "remote_idle_timeout": 9.0, "model": "other", "temperature": 1.5, "max_tokens": 100,
             "send_anyway": True, "impersonate": "chrome131"}
    assert AuraClient(**given).settings == Settings(**given)  # type: ignore[arg-type]


def _ask() -> click.Command:
    command = cli.get_command(click.Context(cli), "ask")
    assert command is not None
    return command


def test_the_clis_shared_options_are_the_tables_rows():
    params = {param.name: param for param in _ask().params}
    for name, option in SETTINGS_OPTIONS.items():
        if option.flag is None:
            assert name not in params, name
            continue
        param = params[name]
        assert isinstance(param, click.Option)
        assert [*param.opts, *param.secondary_opts] == option.flag.replace("/", " ").split(), name
        assert (param.envvar, param.help, param.metavar) == (option.variable, option.help, option.metavar), name
        # None too: an absent --headless/--headed is unset (the stealthy default), never False
        assert param.get_default(click.Context(_ask())) == option.default, name
        assert param.is_flag == (option.kind == "flag"), name
    # each group collected into the value its commands take
    assert tuple(SiteOptions({name: None for name in SITE_OPTIONS})) == tuple(
        o.name for o in OPTIONS if o.group == "site")
    assert ReplyOptions._fields == tuple(o.name for o in OPTIONS if o.group == "reply")
    assert ConnectOptions._fields == tuple(o.name for o in OPTIONS if o.group == "connect")


def test_a_row_added_to_a_group_is_a_cli_option_with_its_variable_default_and_help(monkeypatch):
    import aura_browser.cli.options as cli_options

    shade = Option("shade", "grey", "choice", "AURA_SHADE", "--shade", "The shade of the reply.", "reply",
                   choices=("grey", "blue"))
    monkeypatch.setattr(cli_options, "OPTIONS", (*OPTIONS, shade))
    monkeypatch.setitem(SETTINGS_OPTIONS, "shade", shade)

    @click.command()
    @declared_options("reply")
    def command(**options: object) -> None:
        click.echo(repr(sorted(options.items())))

    runner = click.testing.CliRunner()
    assert "('shade', 'blue')" in runner.invoke(command, [], env={"AURA_SHADE": "blue"}).output
    assert "('shade', 'grey')" in runner.invoke(command, []).output
    shown = runner.invoke(command, ["--help"]).output
    assert "The shade of the reply." in shown and "AURA_SHADE" in shown and "[grey|blue]" in shown
    assert runner.invoke(command, ["--shade", "red"]).exit_code == 2


def test_the_variable_table_is_the_rows_with_a_variable():
    assert [(v.name, v.option, v.default, v.kind, v.scope) for v in VARIABLES] == [
        (o.variable, o.name, o.default, o.kind, o.scope) for o in OPTIONS if o.variable]
    assert SETTINGS_VARIABLES["impersonate"].name == "AURA_IMPERSONATE"


def test_a_browser_is_launched_with_every_row_that_names_a_launch_option(tmp_path):
    launch_fields = {field.name for field in dataclasses.fields(LaunchOptions)}
    rows = {option.name: option.launch for option in OPTIONS if option.launch}
    assert set(rows.values()) <= launch_fields
    assert launch_fields - set(rows.values()) == {"screenshot_path", "extra_args"}  # not options: the tools' own
    settings = Settings(profile_dir=tmp_path, browser="/b/chromium", proxy="http://p.example:3128", insecure=True,
                        headless=False, login_timeout=7, remote_webdriver="http://grid:4444",
                        remote_capabilities={"browserVersion": "126"})
    launch = settings.launch_options()
    for name, field in rows.items():
        assert getattr(launch, field) == getattr(settings, name), name
        assert LaunchOptions().__dict__[field] == (SETTINGS_OPTIONS[name].default
                                                   if name != "remote_capabilities" else {}), name


# --- AURA_IMPERSONATE is a setting --------------------------------------------------------------------


def test_aura_impersonate_is_read_into_settings_and_the_transport_takes_its_target_from_them(monkeypatch):
    from aura_browser.transports.impersonate import ImpersonateTransport

    monkeypatch.setenv("AURA_IMPERSONATE", "firefox147")
    assert Settings.from_env({"AURA_IMPERSONATE": "chrome131"}).impersonate == "chrome131"
    assert Settings().impersonate == "firefox147"  # as the transport read it before: a script's variable still counts
    assert Settings(impersonate=" ").impersonate is None  # empty: the Chrome nearest the profile's
    profile = Profile("http://127.0.0.1:9", "Mozilla/5.0 Chrome/131.0.0.0")
    assert ImpersonateTransport(target="chrome131")._target(profile) == "chrome131"  # the settings', not the variable's
    monkeypatch.setenv("AURA_IMPERSONATE", "")
    with pytest.raises(InvalidRequest, match="AURA_IMPERSONATE='bogus' is not a target curl_cffi can impersonate"):
        AuraClient("http://127.0.0.1:9", transport="impersonate", impersonate="bogus")
    with pytest.raises(InvalidRequest, match="impersonate must be a curl_cffi target name"):
        Settings(impersonate=131)  # type: ignore[arg-type]
