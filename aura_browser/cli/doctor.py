"""`aura-browser doctor`: one table of what works now. The checks live in `aura_browser.doctor.diagnosis`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..redaction import printable
from ..sync import run_command
from .options import SiteOptions, declared_option, login_timeout_option, site_options

if TYPE_CHECKING:
    from ..doctor.diagnosis import Diagnosis
    from ..doctor.stealth import StealthReport

STATUS_COLOURS = {"ok": "green", "warning": "yellow", "failed": "red", "skipped": None}



def render_table(diagnosis: Diagnosis, insecure: bool) -> str:
    name_width = max(len(check.name) for check in diagnosis.checks) + 2
    status_width = max(len(status) for status in STATUS_COLOURS) + 2
    indent = " " * (2 + name_width + status_width)
    note = " (--insecure: TLS certificates are not verified)" if insecure else ""
    lines = [f"aura-browser doctor: {diagnosis.base_url}, profile {diagnosis.profile!r}{note}", "",
             "  " + "CHECK".ljust(name_width) + "STATUS".ljust(status_width) + "DETAIL"]
    for check in diagnosis.checks:
        status = click.style(check.status.ljust(status_width), fg=STATUS_COLOURS[check.status])
        lines.append(f"  {check.name.ljust(name_width)}{status}{printable(check.detail)}")
        if check.fix and check.status in ("warning", "failed"):
            lines.append(f"{indent}fix: {check.fix}")
    failing = [check.name for check in diagnosis.checks if check.status == "failed"]
    lines.append("")
    lines.append(f"Failing: {', '.join(failing)} (exit {diagnosis.exit_code})." if failing
                 else "Nothing needed is failing.")
    return "\n".join(lines)


STEALTH_FAILED_EXIT = 4  # as a blocked ask: a gate that looks would block this browser


def render_stealth(report: StealthReport) -> str:
    name_width = max(len(f"{row['id']} {row['name']}") for row in report.rows) + 2
    lines = [f"aura-browser doctor --stealth: {report.driver} driver, {report.mode}, Chromium {report.browser_version}", "",
             "  " + "CHECK".ljust(name_width) + "RESULT  SEEN"]
    for row in report.rows:
        result = click.style(("pass" if row["pass"] else "FAIL").ljust(8), fg="green" if row["pass"] else "red")
        lines.append(f"  {(row['id'] + ' ' + row['name']).ljust(name_width)}{result}{row['value']}")
    lines.append("")
    failing = [row["id"] for row in report.failing]
    lines.append(f"Failing: {', '.join(failing)} (exit {STEALTH_FAILED_EXIT}): a gate that checks would see a program here."
                 if failing else f"All {len(report.rows)} checks pass: the gates' checks cannot tell this browser from a person's.")
    return "\n".join(lines)


def _stealth(site: SiteOptions, as_json: bool) -> int:
    import json

    from ..doctor.stealth import stealth_report
    from ..drivers import choose_driver
    from ..drivers.base import LaunchOptions

    options = LaunchOptions(**site.settings().browser_options())  # no profile: no screenshot of a failed login
    report = run_command(stealth_report(choose_driver(site.driver, options), options))
    click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if as_json else render_stealth(report))
    return STEALTH_FAILED_EXIT if report.failing else 0


@click.command()
@site_options
@declared_option("skip_in_page", "doctor")
@declared_option("timeout", default=30.0, help="Seconds each probe and each reply may stay silent.")
@login_timeout_option
@click.option("--json", "as_json", is_flag=True, help="Print the checks as one JSON object instead of a table.")
@click.option("--stealth", is_flag=True,
              help="Instead: run the bot checks of real gates in the browser `login` would use (same driver, flags "
                   "and mode), one row per check; exit 4 when any fails.")
def doctor(site: SiteOptions, skip_in_page: bool, timeout: float, login_timeout: float, as_json: bool,
           stealth: bool) -> int:
    """Check what works now: browser, drivers, profile, the site, and each transport.

    Each row is ok, warning, failed or skipped, with a fix where there is one. The
    transport rows make one real short ask each (logging in first when the profile is
    missing or expired, as `ask` would). Cookie values and passwords are never shown.

    \b
    Exit code: 0 when nothing needed is failing (warnings allowed); otherwise the code
    `ask` would give for the first failed row: 3 login or profile, 4 blocked, 5 not this
    app or an error reply, 6 unreachable or disabled deployment, 7 no usable browser.

    --stealth instead opens the embedded replica's botcheck page, on loopback, in the
    browser that `login` would start, and shows what a gate's script sees there:
    navigator.webdriver, HeadlessChrome in workers, client hints, window and screen,
    automation globals, the Runtime.enable leak, main-world calls, patched natives;
    and behaviour: user activation without input, the window's focus, how fast and how
    a confirm() dialog is answered.

    \b
    Examples:
      aura-browser doctor --base-url https://openchat.team
      aura-browser doctor --skip-in-page --json | jq '.checks[] | select(.status != "ok")'
      aura-browser doctor --stealth --driver selenium
    """
    if stealth:
        return _stealth(site, as_json)
    import json

    from ..doctor.diagnosis import diagnose
    from ..doctor.probe import SiteUnderTest
    from ..option_values import DEFAULT_CONNECT_TIMEOUT
    from ..settings import timeouts_for

    timeouts = timeouts_for(timeout, connect=min(DEFAULT_CONNECT_TIMEOUT, timeout))
    target = SiteUnderTest(site.settings(login_timeout=login_timeout, timeouts=timeouts))
    diagnosis = run_command(diagnose(target, in_page=not skip_in_page))
    if as_json:
        click.echo(json.dumps(diagnosis.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_table(diagnosis, site.insecure))
    return diagnosis.exit_code
