"""``mashflow api``: the HTTP API and web pages, one of the processes an operator scales.

It serves the commands as well as the reads, so it needs the hub's Temporal
server (``MASHFLOW_TEMPORAL_ADDRESS``) with workers polling the task queue;
``mashflow up`` runs everything, an embedded Temporal included, on one machine.
``/readyz`` answers 200 only while both the database and Temporal do.
"""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from api.app import create_app
from api.serve import server_config
from cli.common import EXIT_CONFIG, console, fail, run, settings_or_exit
from infra.settings import Settings
from infra.stack import port_is_free, running_stack, settle_heap


def register(app: typer.Typer) -> None:
    app.command("api")(api)


def api(
    host: Annotated[str | None, typer.Option(help="Interface (default MASHFLOW_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: MASHFLOW_API_PORT).")] = None,
) -> None:
    """Serve the API and the web pages until Ctrl-C (the embedded database if none is set)."""
    settings = settings_or_exit(serving=True)
    if settings.temporal_address is None:
        fail(
            "MASHFLOW_TEMPORAL_ADDRESS: not set; the API takes its commands to the hub's "
            "Temporal server, where workers poll MASHFLOW_TEMPORAL_TASK_QUEUE "
            "(`mashflow up` runs the whole stack on one machine)",
            EXIT_CONFIG,
        )
    host = host or settings.api_host
    port = port or settings.api_port
    if not port_is_free(port, host):
        fail(f"MASHFLOW_API_PORT: port {port} on {host} is already in use", EXIT_CONFIG)
    run(_serve(settings, host, port))


async def _serve(settings: Settings, host: str, port: int) -> None:
    # Temporal is not checked at start: the API's client connects on its first call, and
    # until the server answers /readyz says the process is not ready.
    async with running_stack(settings, ui=False, temporal=False) as stack:
        config = server_config(create_app(stack.settings), stack.settings, host, port)
        settle_heap()
        console.print(f"mashflow API and pages on http://{host}:{port}/ (Ctrl-C stops)")
        await uvicorn.Server(config).serve()
