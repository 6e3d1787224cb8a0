"""The live smoke suite's session: one probe and one login for all its checks, and failures that say why.

A check fails with the problem first ("disabled deployment: ...", "challenge never passed: ..."),
the check that met it, and the fix. A site that is down, disabled or not this app fails every
check at once, from the probe, without starting a browser; a login that failed is not retried
by every check.
"""

from __future__ import annotations

import contextlib
from typing import Any, Coroutine, Iterator, TypeVar

import pytest

from ..doctor.probe import SiteProbe, SiteUnderTest
from ..doctor.problems import problem_of
from ..errors import AuraError
from ..profile import Profile
from ..sync import run_in_worker_thread

T = TypeVar("T")


def failure_message(check: str, error: BaseException) -> str:
    problem = problem_of(error)
    lines = [f"{problem.title}: {error}", f"  check: {check}"]
    if problem.fix:
        lines.append(f"  fix: {problem.fix}")
    return "\n".join(lines)


@contextlib.contextmanager
def explained(check: str) -> Iterator[None]:
    """Turn an aura-browser error raised inside into a test failure that names the problem."""
    try:
        yield
    except AuraError as error:
        # `from None`: the report shows the problem once, not the error and then "during handling of...".
        raise pytest.fail.Exception(failure_message(check, error), pytrace=False) from None


class LiveSmoke:
    """What the live checks share in one pytest session: the site, its probe, its logged-in profile."""

    def __init__(self, site: SiteUnderTest) -> None:
        self.site = site
        self._probe: SiteProbe | None = None
        self._profile: Profile | AuraError | None = None

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        # A worker thread: it works from sync tests and never meets the test's own loop (pytest-asyncio's)
        # or pytest-playwright's sync browser.
        return run_in_worker_thread(coroutine)

    def probe(self) -> SiteProbe:
        if self._probe is None:
            self._probe = self.run(self.site.probe())
        return self._probe

    def profile(self) -> Profile:
        """The logged-in profile; a login that failed once fails every later call the same way."""
        if self._profile is None:
            try:
                self._profile = self.run(self.site.logged_in_profile())
            except AuraError as error:
                self._profile = error
        if isinstance(self._profile, AuraError):
            raise self._profile
        return self._profile

    @contextlib.contextmanager
    def check(self, name: str) -> Iterator[Profile]:
        """Run one named check with a logged-in profile; any failure, the site's first, says what was wrong."""
        with explained(name):
            fatal = self.probe().fatal()
            if fatal is not None:
                raise fatal
            yield self.profile()
