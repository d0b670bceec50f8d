"""Running the system: ``up``, ``demo``, ``db upgrade``."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import typer

from cli.common import console, run, settings_or_exit
from infra import local_stack
from infra.logging import configure_logging
from infra.settings import Settings
from infra.stack import RunningStack, running_stack, settle_heap

db_app = typer.Typer(help="Database administration.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("worker")(worker)
    app.command("demo")(demo)
    app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (the embedded database is started for it if needed)."""
    settings = settings_or_exit()

    async def go() -> None:
        async with running_stack(settings, ui=False, temporal=False, migrate=True):
            console.print("database is at the latest schema")

    run(go())


def up() -> None:
    """Run the whole local stack in the foreground until Ctrl-C."""
    settings = settings_or_exit(serving=True, attach=False)
    run(_up(settings))


async def _up(settings: Settings) -> None:
    import uvicorn

    from api.app import create_app
    from api.serve import server_config
    from infra.temporal import connect_client
    from worker.main import run_worker

    async with running_stack(settings) as stack:
        resolved = stack.settings
        client = await connect_client(resolved)
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(resolved, stop))
        server = uvicorn.Server(
            server_config(
                create_app(resolved, temporal=client),
                resolved,
                resolved.api_host,
                resolved.api_port,
            )
        )
        settle_heap()
        api = asyncio.create_task(server.serve())
        _print_urls(stack, local_stack.publish(resolved))
        try:
            # uvicorn takes Ctrl-C itself and finishes; our own handler catches SIGTERM.
            await _first_of(api, asyncio.create_task(_wait_for_stop()))
            console.print("stopping…")
            server.should_exit = True
            stop.set()
            await asyncio.gather(api, worker)
        finally:
            local_stack.withdraw(resolved)


def worker() -> None:
    """Run a worker: poll the task queue until Ctrl-C or SIGTERM, then drain and stop."""
    settings = settings_or_exit(serving=True)
    run(_worker(settings))


async def _worker(settings: Settings) -> None:
    from worker.main import run_worker

    async with running_stack(settings, ui=False) as stack:
        stop = asyncio.Event()
        settle_heap()
        running = asyncio.create_task(run_worker(stack.settings, stop))
        console.print(f"worker polling {stack.settings.temporal_task_queue} (Ctrl-C stops)")
        await _first_of(running, asyncio.create_task(_wait_for_stop()))
        stop.set()
        await running


async def _first_of(*tasks: asyncio.Task[None]) -> None:
    """Wait until one task ends, cancel the others, and surface the first one's error."""
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        if task is not tasks[0]:
            task.cancel()
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


def _print_urls(stack: RunningStack, note: Path) -> None:
    s = stack.settings
    console.print("[bold green]mashflow is up[/]")
    if stack.temporal_ui_url:
        console.print(f"  Temporal web UI  {stack.temporal_ui_url}")
    console.print(f"  Temporal         {s.temporal_address} (namespace {s.temporal_namespace})")
    console.print(f"  web and API      http://{s.api_host}:{s.api_port}/")
    console.print(
        f"  Other mashflow commands run from this directory use this stack ({note}); "
        "elsewhere, export:",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"    export MASHFLOW_DATABASE_URL='{s.database_url}'", highlight=False, soft_wrap=True
    )
    console.print(f"    export MASHFLOW_TEMPORAL_ADDRESS='{s.temporal_address}'", highlight=False)
    console.print("  Ctrl-C stops everything.")


async def _wait_for_stop() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if sys.platform != "win32":  # Windows event loops take no signal handlers; Ctrl-C still ends
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def demo() -> None:
    """Start the embedded stack, run the demonstration requests, verify, and stop."""
    from cli.demo import run_demo

    settings = settings_or_exit(attach=False)  # its own stack, never the one `up` runs
    if "MASHFLOW_LOG_LEVEL" not in os.environ:
        # The demo speaks through its own output; the engine's info lines would bury it.
        configure_logging(settings.with_overrides(log_level="WARNING"))
    ok = run(run_demo(settings))
    console.print("stack stopped cleanly")
    if not ok:
        raise SystemExit(1)
