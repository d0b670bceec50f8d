"""``mashflow api``: the HTTP API and web pages."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from api.app import create_app
from api.services import HealthCheck
from cli.common import EXIT_CONFIG, console, fail, run, settings_or_exit
from infra.settings import Settings
from infra.stack import port_is_free, running_stack


def register(app: typer.Typer) -> None:
    app.command("api")(api)


def api(
    host: Annotated[str | None, typer.Option(help="Interface (default MASHFLOW_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: MASHFLOW_API_PORT).")] = None,
) -> None:
    """Serve the API and the web pages until Ctrl-C (the embedded database if none is set)."""
    settings = settings_or_exit(serving=True)
    host = host or settings.api_host
    port = port or settings.api_port
    if not port_is_free(port, host):
        fail(f"MASHFLOW_API_PORT: port {port} on {host} is already in use", EXIT_CONFIG)
    run(_serve(settings, host, port))


async def _serve(settings: Settings, host: str, port: int) -> None:
    async with running_stack(settings, ui=False, temporal=False) as stack:
        app = create_app(stack.settings, temporal_health=_temporal_probe(stack.settings))
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,  # our structlog configuration formats uvicorn's loggers too
            server_header=False,
            proxy_headers=False,
        )
        console.print(f"mashflow API and pages on http://{host}:{port}/ (Ctrl-C stops)")
        await uvicorn.Server(config).serve()


def _temporal_probe(settings: Settings) -> HealthCheck | None:
    """Readiness includes Temporal where one is configured (connected on first probe)."""
    if settings.temporal_address is None:
        return None
    from temporalio.client import Client

    from infra.temporal import connect_client

    client: Client | None = None

    async def probe() -> None:
        nonlocal client
        if client is None:
            client = await connect_client(settings)
        await client.service_client.check_health()

    return probe
