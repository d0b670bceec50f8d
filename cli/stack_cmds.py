"""Running the system: ``up``, ``demo``, ``db upgrade``."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import typer

from cli.common import console, run, settings_or_exit
from infra.settings import Settings
from infra.stack import RunningStack, running_stack

db_app = typer.Typer(help="Database administration.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("demo")(demo)
    app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (the embedded database is started for it if needed)."""
    settings = settings_or_exit()

    async def go() -> None:
        async with running_stack(settings, ui=False, temporal=False):
            console.print("database is at the latest schema")

    run(go())


def up() -> None:
    """Run the whole local stack in the foreground until Ctrl-C."""
    settings = settings_or_exit()
    run(_up(settings))


async def _up(settings: Settings) -> None:
    async with running_stack(settings) as stack:
        _print_urls(stack)
        await _wait_for_stop()
        console.print("stopping…")


def _print_urls(stack: RunningStack) -> None:
    s = stack.settings
    console.print("[bold green]mashflow is up[/]")
    if stack.temporal_ui_url:
        console.print(f"  Temporal web UI  {stack.temporal_ui_url}")
    console.print(f"  Temporal         {s.temporal_address} (namespace {s.temporal_namespace})")
    console.print(f"  web and API      http://{s.api_host}:{s.api_port}/")
    console.print("  Ctrl-C stops everything.")


async def _wait_for_stop() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def demo() -> None:
    """Start the embedded stack, run the demonstration requests, verify, and stop."""
    settings = settings_or_exit()

    async def go() -> None:
        async with running_stack(settings, ui=False) as stack:
            console.print(f"stack healthy: Temporal at {stack.settings.temporal_address}")
        console.print("stack stopped cleanly")

    run(go())
