"""The drivers package: a factory on top, shared helpers underneath, and drivers that never import each other."""

from __future__ import annotations

import ast
import inspect
import os
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import aura_browser.drivers
from aura_browser.drivers import new_session
from aura_browser.drivers.base import LaunchOptions
from aura_browser.drivers.failures import first_line
from aura_browser.profile import cookie_domain_matches

from tests.support.drivers import DRIVERS

PACKAGE = Path(aura_browser.drivers.__file__).parent
MODULES = sorted(path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__")
# The modules that drive a browser library. The rest are shared helpers, which import no driver.
DRIVER_MODULES = {"playwright", "selenium", "selenium_local", "selenium_remote"}
# A driver may build on another by subclassing it: selenium_local's and selenium_remote's Chromium are driven by
# selenium's sessions (the local and the remote one are siblings).
EXTENDS = {("selenium_local", "selenium"), ("selenium_remote", "selenium")}
BROWSER_LIBRARIES = ("playwright", "patchright", "selenium")


def sibling_imports(module: str) -> list[tuple[str, bool]]:
    """(sibling module, imported at module level?) for every `from .x import ...` / `from . import x` in `module`."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module.split(".")[0]] if node.module else [alias.name for alias in node.names]
            found += [(name, id(node) in top_level) for name in names]
        elif isinstance(node, ast.ImportFrom) and node.level == 2 and (node.module or "").startswith("drivers"):
            found.append(("__init__", id(node) in top_level))
    return found


@pytest.mark.parametrize("module", MODULES)
def test_a_drivers_module_imports_no_other_driver_nor_the_factory(module):
    for imported, _ in sibling_imports(module):
        assert imported != "__init__", f"drivers/{module}.py imports the factory above it"
        if imported in DRIVER_MODULES:
            assert (module, imported) in EXTENDS, f"drivers/{module}.py imports the {imported} driver"


def test_the_factory_imports_its_drivers_only_when_a_session_needs_them():
    imports = sibling_imports("__init__")
    assert {name for name, _ in imports} >= DRIVER_MODULES
    assert not [name for name, top in imports if top and name in DRIVER_MODULES]


def test_the_drivers_package_has_no_import_cycle():
    graph = {module: {name for name, top in sibling_imports(module) if top and name in MODULES} for module in MODULES}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module not in done:
            for imported in graph[module]:
                visit(imported, (*path, module))
            done.add(module)

    for module in MODULES:
        visit(module, ())


@pytest.mark.parametrize("module", ["", *MODULES])
def test_each_drivers_module_imports_alone_in_a_fresh_interpreter(module):
    name = f"aura_browser.drivers.{module}" if module else "aura_browser.drivers"
    loaded_libraries = (
        f"import sys, {name}\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {BROWSER_LIBRARIES!r}))"
    )
    result = subprocess.run([sys.executable, "-c", loaded_libraries], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # Even the drivers load their library only when a browser is started or adopted.
    assert result.stdout.strip() == "[]", f"importing {name} loads {result.stdout.strip()}"


def is_hook(function: Any) -> bool:
    """A method that does nothing (a docstring, `pass`): a place for a subclass to add to, not a branch."""
    body = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0].body  # type: ignore[attr-defined]
    return all(isinstance(s, ast.Pass) or isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in body)


def test_each_selenium_session_uses_all_it_inherits_of_its_bases():
    """The Selenium sessions are one base and its shapes, siblings: a method of a base that a session replaces
    without calling it is a branch that session never takes, and belongs lower down, with the sessions that do."""
    from aura_browser.drivers.selenium import AdoptedSeleniumSession, SeleniumSession, StealthySeleniumSession
    from aura_browser.drivers.selenium_local import LocalSeleniumSession
    from aura_browser.drivers.selenium_remote import RemoteSeleniumSession

    unused = []
    for session in (AdoptedSeleniumSession, LocalSeleniumSession, RemoteSeleniumSession):
        for base in (SeleniumSession, StealthySeleniumSession):
            if base not in session.__mro__:
                continue
            for name, method in vars(base).items():
                if not inspect.isfunction(method) or getattr(method, "__isabstractmethod__", False) or is_hook(method):
                    continue
                owner = next(cls for cls in session.__mro__ if name in vars(cls))
                if owner is not base and not re.search(
                        rf"(super\(\)|{base.__name__})\.{name}\(", inspect.getsource(vars(owner)[name])):
                    unused.append(f"{session.__name__} replaces {base.__name__}.{name}")
    assert unused == []
    assert StealthySeleniumSession not in AdoptedSeleniumSession.__mro__  # the adopted one drives the page as it is
    with pytest.raises(TypeError):  # only a shape of it can have a browser
        SeleniumSession("http://127.0.0.1", LaunchOptions())  # type: ignore[abstract]


def test_first_line_is_what_a_one_line_error_quotes_of_a_drivers_message():
    class WebDriverLike(Exception):
        def __init__(self, msg: str) -> None:
            super().__init__(f"Message: {msg}\nStacktrace:\n#0 0x55d0 <unknown>")
            self.msg = msg

    assert first_line(WebDriverLike("unknown error: net::ERR_CONNECTION_REFUSED\n  (Session info: chrome=156)")) == (
        "unknown error: net::ERR_CONNECTION_REFUSED"
    )
    assert first_line(RuntimeError("Page.goto: Timeout 30000ms exceeded.\nCall log:\n  - navigating")) == (
        "Page.goto: Timeout 30000ms exceeded."
    )
    assert first_line(TimeoutError()) == "TimeoutError"
    assert first_line("\n  browser closed\nmore") == "browser closed"
    assert first_line("") == ""


@pytest.mark.parametrize("domain, host, sent", [
    ("example.com", "example.com", True),
    (".example.com", "chat.example.com", True),
    ("Example.COM", "chat.example.com", True),
    ("chat.example.com", "example.com", False),
    ("example.com", "badexample.com", False),
    ("127.0.0.1", "127.0.0.1", True),
])
def test_cookie_domain_matching_is_the_browsers(domain, host, sent):
    assert cookie_domain_matches({"domain": domain}, host) is sent


@pytest.mark.parametrize("driver", DRIVERS)
async def test_starting_a_browser_leaves_our_environment_alone_and_selenium_manager_unasked(
    driver, tmp_path, monkeypatch
):
    monkeypatch.delenv("SE_OFFLINE", raising=False)
    asked = tmp_path / "selenium-manager-was-asked"
    manager = tmp_path / "selenium-manager"
    manager.write_text(f"#!/bin/sh\ntouch {asked}\nexit 1\n")
    manager.chmod(0o700)
    monkeypatch.setenv("SE_MANAGER_PATH", str(manager))
    before = dict(os.environ)
    session = new_session(driver, "http://127.0.0.1:9", LaunchOptions(headless=True, timeout=30))
    try:
        assert await session.version()
    finally:
        await session.close()
    assert dict(os.environ) == before
    assert not asked.exists()


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_failed_login_screenshot_is_private_with_either_driver(driver, make_replica, profile_dir):
    replica = make_replica(gate="challenge", challenge_delay=60)
    result = subprocess.run(
        [sys.executable, "-m", "aura_browser", "login", "--base-url", replica.url, "--timeout", "2",
         "--driver", driver, "--headless"],
        capture_output=True, env={**os.environ, "AURA_PROFILE_DIR": str(profile_dir)}, umask=0,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr.decode()
    screenshot = profile_dir / "default.failed-login.png"
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    assert stat.S_IMODE(screenshot.stat().st_mode) == 0o600
