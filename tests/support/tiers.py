"""The test tiers, and the check that keeps them true.

A test is marked (pytest markers registered in pyproject.toml) by what it uses, never by a list of names:
- `browser`: it starts Chromium (a gated replica's login, a driver, a bot detector);
- `subprocess`: it runs the `aura-browser` CLI (or a script) as a subprocess, which may start a browser of its own;
- `slow`: the bench and the soak, minutes each.
The fixtures and helpers that imply a tier say so with `@needs(...)`; a test that uses one (a fixture, directly or
through another fixture, or a helper that its code or its fixtures' code names) is marked. A replica or a client
`needs(LOGIN)`: a browser, unless one of its fixtures saves a profile first (`needs(PROFILE)`, as
`save_plain_profile` and `ProfileStore` do, named in a fixture's code). `scripts/test.sh --fast` runs the tests with none of the three marks.

The marks are checked as the tests run: a test marked neither `browser` nor `subprocess` that starts Chromium
fails (see `BrowserWatch`), so a test that needs a browser cannot slip into the fast tier unnoticed.
"""

from __future__ import annotations

import os
import subprocess
import threading
import types
from typing import Any, Callable, Iterable, TypeVar

import pytest

from tests.support.drivers import both_drivers, needs_xvfb
from tests.support.processes import RUN_MARKER

BROWSER, SUBPROCESS, SLOW = "browser", "subprocess", "slow"
TIERS = (BROWSER, SUBPROCESS, SLOW)
LOGIN, PROFILE = "may log in", "saves a profile"  # together no browser; LOGIN alone is BROWSER

T = TypeVar("T")


def needs(*tiers: str) -> Callable[[T], T]:
    """Declare that a fixture or helper puts the tests using it in `tiers` (put it under `@pytest.fixture`)."""
    unknown = set(tiers) - {*TIERS, LOGIN, PROFILE}
    assert not unknown, f"unknown tiers {unknown}"

    def declare(thing: T) -> T:
        thing.__test_tiers__ = frozenset(tiers) | tiers_of(thing)  # type: ignore[attr-defined]
        return thing

    return declare


def tiers_of(thing: object) -> frozenset[str]:
    from aura_browser.drivers.base import BrowserSession

    if isinstance(thing, type) and issubclass(thing, BrowserSession):  # a driver's session, made by the test itself
        return frozenset({BROWSER})
    return getattr(thing, "__test_tiers__", frozenset())


# What the package and the standard library offer that implies a tier (they cannot be decorated here).
def _known() -> dict[int, frozenset[str]]:
    import asyncio

    from aura_browser import drivers
    from aura_browser.profile import ProfileStore

    known = {
        subprocess: {SUBPROCESS},  # a test that spawns processes itself: the CLI, a script, a server
        asyncio.create_subprocess_exec: {SUBPROCESS},
        drivers.new_session: {BROWSER},
        drivers.adopt: {BROWSER},
        ProfileStore: {PROFILE},
    }
    return {id(thing): frozenset(tiers) for thing, tiers in known.items()}


# The shipped pytest plugin's fixtures (aura_browser.testing.plugin) that log in to the replica in a browser.
SHIPPED_FIXTURES = {"aura_profile": frozenset({BROWSER}), "aura_client": frozenset({BROWSER})}

# Marks that only a browser test carries: run over both drivers, or on the private virtual display.
BROWSER_MARKS = (both_drivers.mark, needs_xvfb.mark)


# Libraries' entry points that a test or fixture imports where it uses them (so no global names them).
KNOWN_NAMES = {"sync_playwright": frozenset({BROWSER}), "async_playwright": frozenset({BROWSER})}


def _names_in(code: types.CodeType) -> set[str]:
    """The global and attribute names a function's code uses, nested functions and comprehensions included."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names_in(constant)
    return names


_read: dict[Callable[..., Any], set[str]] = {}  # a fixture or helper is read once per run


def _helper_tiers(function: Callable[..., Any], known: dict[int, frozenset[str]],
                  seen: set[int] | None = None) -> set[str]:
    """The tiers of what `function` names; a test module's own helpers it calls are read through."""
    if function not in _read:
        _read[function] = _read_helper(function, known, set() if seen is None else seen)
    return _read[function]


def _read_helper(function: Callable[..., Any], known: dict[int, frozenset[str]], seen: set[int]) -> set[str]:
    seen.add(id(function))
    names = _names_in(function.__code__)
    found: set[str] = set()
    for name in names:
        found |= KNOWN_NAMES.get(name, frozenset())
        thing = function.__globals__.get(name)
        if thing is None:
            continue
        found |= tiers_of(thing) | known.get(id(thing), frozenset())
        if isinstance(thing, types.ModuleType):  # `drivers.new_session(...)`: the attributes it reaches
            for attribute in names:
                reached = getattr(thing, attribute, None)
                if reached is not None:
                    found |= tiers_of(reached) | known.get(id(reached), frozenset())
        elif isinstance(thing, types.FunctionType) and thing.__module__.startswith("tests.test_") \
                and (thing in _read or id(thing) not in seen):  # a test module's own helper (tests.support's
            # declare their tiers); one being read further up this call chain is a recursion, skipped
            found |= _helper_tiers(thing, known, seen)
        elif isinstance(thing, type) and thing.__module__.startswith("tests.test_"):  # its own class: its methods
            for member in vars(thing).values():
                if isinstance(member, types.FunctionType) and (member in _read or id(member) not in seen):
                    found |= _helper_tiers(member, known, seen)
    return found


def _fixture_tiers(item: pytest.Item, known: dict[int, frozenset[str]]) -> set[str]:
    found: set[str] = set()
    definitions = getattr(item, "_fixtureinfo", None)
    for name in getattr(item, "fixturenames", ()):
        found |= SHIPPED_FIXTURES.get(name, frozenset())
        for definition in (definitions.name2fixturedefs.get(name, ()) if definitions else ()):
            found |= tiers_of(definition.func)
            if hasattr(definition.func, "__code__") and definition.baseid:  # the suite's own fixtures
                found |= _helper_tiers(definition.func, known)
    return found


def tiers_for(item: pytest.Item, known: dict[int, frozenset[str]]) -> set[str]:
    found = _fixture_tiers(item, known)
    function = getattr(item, "function", None)
    if function is not None:  # a profile saved in the test's body may come after a login: it spares no browser
        found |= _helper_tiers(function, known) - {PROFILE}
    if any(mark in BROWSER_MARKS for mark in item.iter_markers()):
        found.add(BROWSER)
    if LOGIN in found and PROFILE not in found:
        found.add(BROWSER)
    return found & set(TIERS)


def mark_tiers(items: Iterable[pytest.Item]) -> None:
    """`pytest_collection_modifyitems`: add the tier markers each test's fixtures and helpers imply."""
    known = _known()
    for item in items:
        for tier in sorted(tiers_for(item, known)):
            item.add_marker(tier)


def in_fast_tier(item: pytest.Item) -> bool:
    return not any(item.get_closest_marker(tier) for tier in (BROWSER, SUBPROCESS))


def _is_chromium(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/comm") as comm:
            name = comm.read()
        if "chrom" not in name and "headless_shell" not in name:
            return False
        with open(f"/proc/{pid}/environ", "rb") as environ:
            return RUN_MARKER.encode() in environ.read().split(b"\0")
    except OSError:  # gone, or not ours to read
        return False


def running_chromium() -> set[int]:
    """This run's Chromium processes (their names, then the inherited run marker), without spawning a process."""
    return {int(pid) for pid in os.listdir("/proc") if pid.isdigit() and _is_chromium(pid)}


class BrowserWatch:
    """Which Chromium processes start while a test runs: polled, as a browser lives far longer than a poll."""

    INTERVAL = 0.2

    def __init__(self) -> None:
        self.before = running_chromium()
        self.started: set[int] = set()
        self.seen = threading.Event()  # set when the first one is seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="browser-watch", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.INTERVAL):
            self.started |= running_chromium() - self.before
            if self.started:
                self.seen.set()

    def stop(self) -> set[int]:
        self._stop.set()
        self._thread.join()
        self.started |= running_chromium() - self.before
        return self.started
