"""Running the system: ``up``, ``demo``, ``db upgrade``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

import typer

from cli.common import console, run, settings_or_exit
from infra.logging import configure_logging
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
    from cli.demo import run_demo

    settings = settings_or_exit()
    if "MASHFLOW_LOG_LEVEL" not in os.environ:
        # The demo speaks through its own output; the engine's info lines would bury it.
        configure_logging(settings.with_overrides(log_level="WARNING"))
    ok = run(run_demo(settings))
    console.print("stack stopped cleanly")
    if not ok:
        raise SystemExit(1)
