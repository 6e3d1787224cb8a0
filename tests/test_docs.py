"""The documentation: README.md as the front door, docs/ as the reference, and every runnable example in them run.

A fenced block right after a `<!-- run -->` line is run by these tests against the embedded replica, as a
newcomer would run it: shell blocks with bash (`aura-browser` on PATH, a fresh temporary HOME), Python blocks with
this Python. A `<!-- run: background -->` block starts a server the blocks after it use (the replica), and
runs until the page is done. The only change made to an example is the replica's port: the documented 8765
becomes a free port, so that runs in parallel cannot collide.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.processes import chromium_pids, wait_for_no_new_chromium

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = ("index", "cli", "python", "stealth", "transports", "scale-out", "security", "performance", "pytest-plugin")
DOCUMENTED_URL = "http://127.0.0.1:8765"
ANSWER = "Hello! You said: Hello, how are you?"  # the replica's reply to the examples' question


@dataclass
class Example:
    kind: str  # "run", "background", or "pytest" (a test file, run by pytest in a fresh project)
    language: str  # "sh" or "python"
    code: str
    line: int


def runnable_examples(path: Path) -> list[Example]:
    """The fenced blocks of `path` marked runnable, in order."""
    lines = path.read_text().split("\n")
    found = []
    for index, line in enumerate(lines):
        marker = re.fullmatch(r"<!-- run(?:: (background|pytest))? -->", line.strip())
        if not marker:
            continue
        fence = lines[index + 1]
        assert fence.startswith("```"), f"{path.name}:{index + 1}: a run marker must sit right above a fenced block"
        language = fence[3:].strip()
        assert language in ("sh", "python"), f"{path.name}:{index + 2}: only sh and python blocks run, not {language!r}"
        end = lines.index("```", index + 2)
        found.append(Example(marker.group(1) or "run", language, "\n".join(lines[index + 2:end]), index + 3))
    return found


def documents() -> list[Path]:
    return [README, *(DOCS / f"{page}.md" for page in PAGES)]


def fresh_environment(home: Path) -> dict[str, str]:
    """A newcomer's environment: a fresh HOME, `aura-browser` on PATH, no AURA_* or XDG_* variable of ours.

    AURA_TEST_RUN stays: it is no option, it marks the browsers this run starts, so their leaks are seen."""
    bin_dir = home / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    command = bin_dir / "aura-browser"  # what `pip install .` puts on PATH, run by this Python and this checkout
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m aura_browser "$@"\n')
    command.chmod(0o755)
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith(("AURA_", "XDG_", "PYTEST_")) or name == "AURA_TEST_RUN"}
    environment.update({"HOME": str(home), "PATH": f"{bin_dir}:{os.environ['PATH']}",
                        "PYTHONPATH": str(ROOT), "AURA_LOGIN_TIMEOUT": "60"})
    return environment


class Page:
    """Runs one document's examples in order, in one fresh HOME, with its background servers around them."""

    def __init__(self, home: Path) -> None:
        self.environment = fresh_environment(home)
        self.home = home
        self.url = DOCUMENTED_URL
        self.background: list[subprocess.Popen[str]] = []

    def start(self, example: Example) -> None:
        code = example.code.replace("--port 8765", "--port 0")
        process = subprocess.Popen(["bash", "-c", f"exec {code.strip()}"], stdout=subprocess.PIPE, text=True,
                                   env=self.environment, cwd=self.home)
        self.background.append(process)
        assert process.stdout is not None
        ready = process.stdout.readline()  # the replica's "listening on URL" line: it is ready
        match = re.search(r"listening on (\S+)", ready)
        assert match, f"line {example.line}: the background example printed {ready!r}"
        self.url = match.group(1)

    def run(self, example: Example) -> subprocess.CompletedProcess[str]:
        code = example.code.replace(DOCUMENTED_URL, self.url)
        command = ["bash", "-euo", "pipefail", "-c", code] if example.language == "sh" else [sys.executable, "-c", code]
        if example.kind == "pytest":  # a fresh project: this file alone, no configuration, every warning an error
            (self.home / "project").mkdir(exist_ok=True)
            (self.home / "project" / "test_example.py").write_text(code)
            command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error", "-W",
                       "ignore::pytest.PytestDeprecationWarning:pytest_asyncio.plugin", "-rA",
                       str(self.home / "project" / "test_example.py")]
        environment = {**self.environment, "AURA_BASE_URL": self.url}
        result = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=self.home, timeout=180)
        assert result.returncode == 0, f"line {example.line}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def close(self) -> None:
        for process in self.background:
            process.send_signal(signal.SIGINT)
            try:
                process.communicate(timeout=30)
            finally:
                process.kill()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    before = chromium_pids()
    running = Page(tmp_path / "home")
    try:
        yield running
    finally:
        running.close()
        wait_for_no_new_chromium(before)


def test_the_readme_quickstart_reaches_an_answer_as_written(page: Page) -> None:
    """A fresh HOME, the README's quickstart commands verbatim: the replica, then login and ask, then an answer."""
    text = README.read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    examples = runnable_examples(README)
    background = [e for e in examples if e.kind == "background" and e.code in quickstart]
    commands = [e for e in examples if e.kind == "run" and e.code in quickstart]
    assert len(background) == 1 and len(commands) == 1, "the quickstart is one replica block and one command block"
    assert "aura-browser login" in commands[0].code and "aura-browser ask" in commands[0].code
    page.start(background[0])
    result = page.run(commands[0])
    assert ANSWER in result.stdout
    saved = list((page.home / ".local" / "share" / "aura-browser" / "profiles").glob("*.json"))
    assert saved, "the login saved no profile under the fresh HOME"


@pytest.mark.parametrize("document", [path.name if path == README else f"docs/{path.name}" for path in documents()])
def test_every_runnable_example_runs(document: str, page: Page) -> None:
    """Each page's examples marked runnable run in order against a replica, in a fresh HOME, and exit 0."""
    examples = runnable_examples(ROOT / document)
    if not examples:
        pytest.skip(f"{document} marks no example runnable")
    if not any(e.kind == "background" for e in examples):
        page.start(Example("background", "sh", "aura-browser replica --port 8765 --gate challenge", 0))
    for example in examples:
        if example.kind == "background":
            page.start(example)
        else:
            page.run(example)


def test_the_pytest_plugin_example_passes_in_a_fresh_project(page: Page) -> None:
    """docs/pytest-plugin.md's example, alone in a folder with no configuration, under -W error: both tests pass."""
    examples = [e for e in runnable_examples(DOCS / "pytest-plugin.md") if e.kind == "pytest"]
    assert len(examples) == 1 and "async def test_" in examples[0].code
    result = page.run(examples[0])
    assert "2 passed" in result.stdout and "warning" not in result.stdout, result.stdout


def test_the_readme_is_a_front_door() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    for command in ("scripts/demo.sh", "scripts/test.sh"):
        assert command in text
    for section in ("## Install", "## Quickstart", "## Commands", "## From Python", "## Exit codes"):
        assert section in text
    for page in PAGES[1:]:
        assert f"docs/{page}.md" in text, f"the README does not link docs/{page}.md"


def test_the_exit_code_tables_agree() -> None:
    """README.md and docs/cli.md hold the same exit-code table."""
    def table(text: str) -> str:
        section = text.split("## Exit codes\n", 1)[1].split("\n## ", 1)[0]
        return "\n".join(line for line in section.splitlines() if line.startswith("|"))

    assert table(README.read_text()) == table((DOCS / "cli.md").read_text())


def test_the_option_tables_are_the_commands_own() -> None:
    """docs/cli.md's option tables are what scripts/cli_reference.py generates from the commands now."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import cli_reference
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    page_text = (DOCS / "cli.md").read_text()
    assert cli_reference.page_with_reference(page_text) == page_text, (
        "docs/cli.md's options are out of date: run python scripts/cli_reference.py --write")
    assert "`AURA_TRANSPORT`" in page_text and "`--login-timeout` SECONDS" in page_text


def mkdocs(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


def test_the_docs_build_strictly(tmp_path: Path) -> None:
    result = mkdocs(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stderr
    for page in PAGES:
        built = tmp_path / "site" / ("index.html" if page == "index" else f"{page}/index.html")
        assert built.exists(), f"no page built for docs/{page}.md"
    assert not (tmp_path / "site" / "_incoming").exists(), "fragments in docs/_incoming must not be published"


def test_a_broken_link_or_a_page_left_out_fails_the_build(tmp_path: Path) -> None:
    """What the strict build is there for: a link to a missing page, and a page no one can reach, fail it."""
    for change in ("link", "page"):
        copy = tmp_path / change
        shutil.copytree(DOCS, copy / "docs", ignore=shutil.ignore_patterns("_incoming"))
        shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
        if change == "link":
            cli = copy / "docs" / "cli.md"
            cli.write_text(cli.read_text() + "\nSee [the gone page](gone.md).\n")
        else:
            (copy / "docs" / "orphan.md").write_text("# Orphan\n")
        result = mkdocs(copy / "mkdocs.yml", copy / "site")
        assert result.returncode != 0, f"a {change} problem built cleanly"
        assert ("gone.md" if change == "link" else "orphan.md") in result.stderr
