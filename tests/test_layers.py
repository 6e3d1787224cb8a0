"""The layers of ARCHITECTURE.md, kept: each part of the package imports only from the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

import aura_browser

PACKAGE = Path(aura_browser.__file__).parent

# Lowest first. A part may import from any part of a lower layer, and from itself.
LAYERS: list[set[str]] = [
    {"redaction", "progress"},
    {"errors"},
    {"origin", "sync", "option_values"},
    {"wire"},
    {"profile_schema", "option_table"},
    {"profile", "environment"},
    {"drivers"},
    {"transports"},
    {"settings"},
    {"client"},
    {"tools", "serve", "gpt4free", "doctor"},
    {"testing"},
    {"cli", "typing", "providers", "g4f", "__init__"},
    {"__main__"},
]
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}
# The replica stands apart: it imports nothing from the client (one wrong constant must not pass on both
# sides), and only the tools that run it (the demo, doctor --stealth, the tests' plugin, the CLI) import it.
STANDALONE = "replica"
MAY_RUN_THE_REPLICA = ("tools/demo.py", "doctor/", "testing/", "cli/")


def part_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports() -> list[tuple[str, str, str]]:
    """(importing file, its part, imported part) for every import of the package's own modules, lazy ones too."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("").parts
        package = list(relative[:-1])
        module = ".".join(relative)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - node.level + 1]
                targets = [".".join([*base, node.module])] if node.module else [".".join([*base, a.name]) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aura_browser"):
                targets = [node.module or ""]
            else:
                continue
            for target in targets:
                found.append((str(path.relative_to(PACKAGE)), part_of(module), part_of(target)))
    return found


def test_every_part_of_the_package_has_a_layer():
    parts = {part_of(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)) for path in PACKAGE.rglob("*.py")}
    assert parts - {STANDALONE} <= set(RANK), f"parts without a layer: {sorted(parts - {STANDALONE} - set(RANK))}"


def test_each_part_imports_only_from_the_layers_below_it():
    upward = []
    for where, part, target in imports():
        if part == target:
            continue
        if target == STANDALONE:
            if not where.startswith(MAY_RUN_THE_REPLICA):
                upward.append(f"{where}: {part} runs the replica")
        elif part == STANDALONE:
            upward.append(f"{where}: the replica imports {target}")
        elif RANK[target] >= RANK[part]:
            upward.append(f"{where}: {part} imports {target}, which is not below it")
    assert not upward, "\n".join(upward)


def test_settings_need_nothing_of_the_transports():
    assert [target for where, _, target in imports() if where == "settings.py" and target == "transports"] == []
