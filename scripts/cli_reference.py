"""The option tables of docs/cli.md, generated from the commands themselves.

`python scripts/cli_reference.py` prints them; `--write` puts them into docs/cli.md between its
`<!-- options:begin -->` and `<!-- options:end -->` markers. tests/test_docs.py checks that the page holds
exactly what this prints, so an option added to a command without regenerating the page fails the suite.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aura_browser.option_table import OPTIONS

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "cli.md"
BEGIN, END = "<!-- options:begin -->", "<!-- options:end -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# The option groups many commands share (the groups of aura_browser/option_table.py, which cli/options.py makes
# click options of), given once each instead of in every command's table; `site_options` brings -v and -q too.
GROUPS: dict[str, tuple[str, ...]] = {
    group: tuple(option.name for option in OPTIONS if option.group == group and option.flag)
    for group in ("site", "reply", "connect")
}
GROUPS["site"] += ("verbose", "quiet")


def _default(param: click.Option) -> str:
    default = param.default
    if param.is_flag and not param.secondary_opts:
        return "on" if default is True else "off"
    if param.count or not isinstance(default, (str, int, float)) or isinstance(default, bool):
        return ""
    return f"`{default}`"


def _options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option) and not p.hidden and p.name != "help"]


def _rows(options: list[click.Option], command: click.Command) -> list[str]:
    rows = []
    for param in options:
        names = ", ".join(f"`{name}`" for name in [*param.opts, *param.secondary_opts])
        if not param.is_flag and not param.count:
            names += f" {param.make_metavar(click.Context(command))}"  # type: ignore[call-arg]
        envvar = f"`{param.envvar}`" if isinstance(param.envvar, str) else ""
        names = names.replace("|", "\\|")
        rows.append(f"| {names} | {envvar} | {_default(param)} | {_cell(param.help or '')} |")
    return rows


def _commands() -> list[tuple[str, click.Command]]:
    from aura_browser.cli import cli

    context = click.Context(cli)
    found: list[tuple[str, click.Command]] = []
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        assert command is not None
        if isinstance(command, click.Group):
            sub_context = click.Context(command)
            found += [(f"{name} {sub}", command.get_command(sub_context, sub))  # type: ignore[misc]
                      for sub in command.list_commands(sub_context)]
        else:
            found.append((name, command))
    return found


HEADER = "| option | variable | default | what |\n|---|---|---|---|\n"


def reference() -> str:
    """The option tables, one section per shared group and per command, as markdown."""
    commands = _commands()
    parts = []
    for group, names in GROUPS.items():
        name, command = next((n, c) for n, c in commands if {o.name for o in _options(c)} >= set(names))
        chosen = [o for o in _options(command) if o.name in names]
        parts.append(f"### The {group} options\n\n" + HEADER + "\n".join(_rows(chosen, command)) + "\n")
    for name, command in commands:
        arguments = " ".join(p.make_metavar(click.Context(command)) for p in command.params  # type: ignore[call-arg]
                             if isinstance(p, click.Argument))
        summary = (command.help or "").split("\n\n")[0].strip()
        parts.append(f"### `aura-browser {name}{' ' + arguments if arguments else ''}`\n\n{_cell(summary)}\n")
        options = _options(command)
        names = {o.name for o in options}
        shared = [group for group, members in GROUPS.items() if names >= set(members)]
        own = [o for o in options if not any(o.name in GROUPS[group] for group in shared)]
        if shared:
            parts.append("Also " + ", ".join(f"[the {group} options](#the-{group}-options)" for group in shared) + ".\n")
        if own:
            parts.append(HEADER + "\n".join(_rows(own, command)) + "\n")
    return "\n".join(parts)


def page_with_reference(page: str) -> str:
    """`page` with the text between its markers replaced by `reference()`."""
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{reference()}{END}{tail}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        PAGE.write_text(page_with_reference(PAGE.read_text()))
    else:
        sys.stdout.write(reference())
