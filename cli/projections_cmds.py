"""``mashflow projections rebuild``: empty the read models and replay the whole event store.

Reads the configured database (``MASHFLOW_DATABASE_URL``) or starts the
embedded one for the command. Safe while workers run: the live projection
waits for the rebuild's reset, then both apply each event once.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from app.container import open_infrastructure
from cli.common import console, progress_bar, run, settings_or_exit
from cli.directory_common import print_json
from infra.readmodels import PROJECTION, rebuild
from infra.stack import running_stack

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

projections = typer.Typer(help="The read models built from the event store.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(projections, name="projections")


@projections.command("rebuild")
def rebuild_cmd(as_json: JsonFlag = False) -> None:
    """Drop every read-model row and rebuild them from the first event on."""
    settings = settings_or_exit()

    async def go() -> tuple[int, float]:
        async with (
            running_stack(settings, ui=False, temporal=False) as stack,
            open_infrastructure(stack.settings) as infra,
        ):
            with progress_bar("rebuilding read models", quiet=as_json) as progress:
                started = time.perf_counter()
                applied = await rebuild(infra.store, progress)
                return applied, time.perf_counter() - started

    applied, seconds = run(go())
    if as_json:
        print_json({"projection": PROJECTION, "events": applied, "seconds": round(seconds, 3)})
        return
    console.print(
        f"[green]rebuilt[/] {PROJECTION}: {applied} events in {seconds:.1f}s", highlight=False
    )
