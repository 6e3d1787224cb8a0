"""`aura-browser serve`: an OpenAI-compatible HTTP API in front of the client."""

from __future__ import annotations

import click

from .foreground import run_until_stopped, warn_when_exposed
from .options import ConnectOptions, SiteOptions, connect_options, declared_option, site_options


@click.command()
@site_options
@declared_option("host", "serve")
@declared_option("port", "serve")
@declared_option("api_key", "serve")
@declared_option("allow_hosts", "serve")
@declared_option("cors_origins", "serve")
@connect_options
def serve(site: SiteOptions, host: str, port: int, api_key: str | None, allow_hosts: tuple[str, ...],
          cors_origins: tuple[str, ...], connect: ConnectOptions) -> None:
    """Serve an OpenAI-compatible API: POST /v1/chat/completions (streaming or not) and GET /v1/models.

    All requests share one warm profile and one browser, and are served concurrently.
    Errors are OpenAI error objects: 400 bad request, 401 wrong API key, 403 a Host or Origin
    that is not allowed, 415 a body not sent as application/json, 502 site error or network
    failure, 503 blocked or login failed, 504 site timeout. Logs in at the first request when
    there is no usable profile.

    \b
    Examples:
      AURA_SERVE_API_KEY=s3cret aura-browser serve --port 8000
      curl -s localhost:8000/v1/chat/completions -H 'Authorization: Bearer s3cret' \\
        -H 'Content-Type: application/json' \\
        -d '{"model": "openchat_3.6", "messages": [{"role": "user", "content": "Hi"}]}'
      # or any OpenAI client: OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="s3cret")
    """
    from ..serve.api import serve_api
    from ..serve.guard import check_cors_origin

    for origin in cors_origins:
        check_cors_origin(origin)
    if not api_key:
        warn_when_exposed(host, f"listening on {host} without --api-key: anyone who can reach it may use your profile")

    def ready(url: str) -> None:
        auth = "Bearer key required" if api_key else "no API key"
        click.echo(f"OpenAI-compatible API for {site.base_url} at {url}/v1 ({auth}). Ctrl-C stops it.")

    async def main() -> None:
        async with site.client(**connect.client_kwargs()) as client:
            await serve_api(client, host, port, api_key=api_key, allow_hosts=allow_hosts, cors_origins=cors_origins,
                            on_ready=ready)

    run_until_stopped(main(), "Server")
