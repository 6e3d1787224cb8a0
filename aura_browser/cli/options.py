"""Options shared by commands: which site, which profile, which browser, how verbose."""

from __future__ import annotations

import functools
import logging
import sys
from dataclasses import dataclass
from typing import Any, Callable

import click


@dataclass
class SiteOptions:
    base_url: str
    profile: str
    profile_dir: str | None
    browser: str | None
    driver: str
    proxy: str | None
    insecure: bool

    def client(self, **kwargs: Any) -> Any:
        from ..client import AuraClient

        if self.insecure:
            click.echo("aura-browser: warning: --insecure: TLS certificates are not verified", err=True)
        return AuraClient(
            self.base_url,
            profile=self.profile,
            profile_dir=self.profile_dir,
            driver=self.driver,  # type: ignore[arg-type]
            browser=self.browser,
            proxy=self.proxy,
            insecure=self.insecure,
            **kwargs,
        )


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("aura-browser: %(message)s"))
    root = logging.getLogger("aura_browser")
    root.handlers[:] = [handler]
    root.setLevel(level)


def profile_dir_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--profile-dir",
        envvar="AURA_PROFILE_DIR",
        show_envvar=True,
        type=click.Path(file_okay=False),
        help="Folder of saved profiles [default: the user data folder of aura-browser].",
    )(command)


def verbose_option(command: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("-v", "--verbose", count=True, help="Say what happens (-vv: more). Secrets are never printed.")
    @functools.wraps(command)
    def wrapper(*args: Any, verbose: int, **kwargs: Any) -> Any:
        _setup_logging(verbose)
        return command(*args, **kwargs)

    return wrapper


def site_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say which site, which profile, and which browser; collected into `site`."""

    @click.option(
        "--base-url", envvar="AURA_BASE_URL", show_envvar=True, default="https://openchat.team", show_default=True,
        help="The OpenChat UI deployment to talk to.",
    )
    @click.option("--profile", envvar="AURA_PROFILE", show_envvar=True, default="default", show_default=True,
                  help="Name of the saved session profile.")
    @profile_dir_option
    @click.option("--browser", envvar="AURA_BROWSER", show_envvar=True,
                  help="Chromium binary [default: Playwright's, then /usr/lib/chromium/chromium, then PATH].")
    @click.option("--driver", envvar="AURA_DRIVER", show_envvar=True, default="playwright", show_default=True,
                  type=click.Choice(["playwright", "selenium"]), help="What drives the browser.")
    @click.option("--proxy", envvar="AURA_PROXY", show_envvar=True,
                  help="http://[user:password@]host:port for the browser and the direct requests; kept in the profile.")
    @click.option("--insecure", envvar="AURA_INSECURE", show_envvar=True, is_flag=True,
                  help="Accept self-signed TLS certificates (browser and direct).")
    @verbose_option
    @functools.wraps(command)
    def wrapper(*args: Any, base_url: str, profile: str, profile_dir: str | None, browser: str | None,
                driver: str, proxy: str | None, insecure: bool, **kwargs: Any) -> Any:
        site = SiteOptions(base_url, profile, profile_dir, browser, driver, proxy, insecure)
        return command(*args, site=site, **kwargs)

    return wrapper


