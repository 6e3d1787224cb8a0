"""The `aura-browser` command line: parse, call the client, print. Heavy imports wait for the command."""

from __future__ import annotations

import importlib
import os
import sys

import click

EXIT_CODES_HELP = """\b
Exit codes:
  0    ok
  1    unexpected error, or stdout cannot be written (closed, full)
  2    bad usage or input (also: a file that cannot be read or written, a port in use)
  3    login required or failed (no profile, corrupt or busy profile, gate not passed)
  4    blocked on every transport
  5    site error (the app answered 500 Error, is not OpenChat UI, or sent more than --max-reply-bytes)
  6    network error or timeout (site down, connection dropped mid-reply)
  7    browser error (not found, failed to start, crashed)
  8    batch: at least one record has an error
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM); 129 hung up (SIGHUP)
"""


# Command name -> (module in this package, its short help). A command's module is imported only
# when that command runs, so `aura-browser --help` costs little more than importing click.
# tests/test_cli.py checks each short help against the command's own docstring.
COMMANDS: dict[str, tuple[str, str]] = {
    "ask": ("ask", "Ask one question and stream the reply to stdout as it arrives."),
    "batch": ("batch", "Ask every line of IN.jsonl ('-': stdin) and write one JSON record per item as it finishes."),
    "chat": ("chat", "Talk with the site: each line you type is sent with the conversation so far."),
    "demo": ("demo", "Show the whole flow against the embedded replica: login, a direct answer, one over impersonate."),
    "doctor": ("doctor", "Check what works now: browser, drivers, profile, the site, and each transport."),
    "login": ("login", "Open the site in Chromium, pass its gate, and save the session profile."),
    "profiles": ("profiles", "List, show and delete saved profiles."),
    "replica": ("replica", "Run the embedded replica of OpenChat UI and its gate, for trying things out and for tests."),
    "serve": ("serve", "Serve an OpenAI-compatible API: POST /v1/chat/completions (streaming or not) and GET /v1/models."),
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command is used (click's documented pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"{__name__}.{COMMANDS[name][0]}")
        command: click.Command = getattr(module, name)
        return command

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: object) -> click.Context:
        if click.formatting.FORCED_WIDTH is None:  # (click's test runner forces its own width)
            extra.setdefault("terminal_width", _help_width())
        return super().make_context(info_name, args, parent, **extra)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aura-browser", prog_name="aura-browser")
@click.option("-v", "--verbose", count=True, help="Say what happens (-vv: more); the same as after the command.")
@click.option("-q", "--quiet", is_flag=True, help="No status line while a login runs; the same as after the command.")
def cli(verbose: int, quiet: bool) -> None:
    """Talk to an OpenChat UI site (a deployment of the app openchat.team served) the way your browser does.

    `login` opens the site in Chromium once, passes its anti-bot gate and saves a profile
    (one per site). `ask` then streams replies over plain HTTP with that profile, then with
    Chrome's TLS fingerprint, and from inside the browser page when plain HTTP is blocked.
    The default site, openchat.team, is gone: name yours with --base-url or AURA_BASE_URL.

    \b
    Examples:
      aura-browser replica --port 8765 --gate challenge     # a local replica, to try it
      export AURA_BASE_URL=http://127.0.0.1:8765
      aura-browser login
      aura-browser ask "Hello, how are you?"
      echo "Summarise this" | aura-browser ask -
      aura-browser demo        # the whole flow against a local replica
    """


def _help_width(max_width: int = 80) -> int:
    """The width click gives help text (shutil.get_terminal_size's answer, narrowed as click narrows it), worked
    out here because `--help` should cost little more than importing click, and shutil imports the compressors."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return max(min(columns, max_width) - 2, 50)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every outcome into one line and a documented exit code."""
    from .streams import guard_standard_streams

    guard_standard_streams()
    try:
        result = cli.main(args=argv, prog_name="aura-browser", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        exc.show()
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:  # click's form of KeyboardInterrupt
        click.echo("aura-browser: interrupted", err=True)
        sys.exit(130)
    except BaseException as exc:  # (the package's own outcomes, told apart where the modules they need are loaded)
        if not isinstance(exc, SystemExit):
            _end_with(exc)
        raise
    sys.exit(result if isinstance(result, int) else 0)


def _end_with(exc: BaseException) -> None:
    """One line for what ended the command, and its documented exit code; returns for what is not ours to end
    (GeneratorExit and the like), which the caller re-raises."""
    from ..errors import AuraError, OutputError, exit_code_for
    from ..sync import Terminated

    if isinstance(exc, OutputError):
        from .streams import discard_unwritten_output

        discard_unwritten_output()
        if not exc.broken_pipe:  # a reader that left (`| head`) wants no message
            click.echo(f"aura-browser: error: {exc}", err=True)
        sys.exit(exit_code_for(exc))
    if isinstance(exc, AuraError):
        click.echo(f"aura-browser: error: {exc}", err=True)
        sys.exit(exit_code_for(exc))
    if isinstance(exc, KeyboardInterrupt):
        click.echo("aura-browser: interrupted", err=True)
        sys.exit(130)
    if isinstance(exc, Terminated):
        click.echo(f"aura-browser: {exc.word}", err=True)
        sys.exit(128 + exc.signum)
    if isinstance(exc, BrokenPipeError):
        sys.stderr.close()  # the reader went away: nothing left to say to anyone
        sys.exit(1)
    if not isinstance(exc, Exception):
        return
    import logging

    logging.getLogger("aura_browser").debug("internal error", exc_info=exc)
    from ..redaction import printable

    message = printable(f"{exc.__class__.__name__}: {exc}")
    click.echo(f"aura-browser: internal error: {message} (-vv shows the traceback)", err=True)
    sys.exit(1)
