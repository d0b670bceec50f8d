"""What every command shares: settings, logging, one-line errors, the asyncio runner."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from domain.errors import DomainError
from infra import local_stack
from infra.logging import configure_logging
from infra.settings import ConfigurationError, Settings, load_settings

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)

EXIT_CONFIG = 2
EXIT_REFUSED = 3
EXIT_FAILED = 1


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise SystemExit(code)


def settings_or_exit(*, serving: bool = False, attach: bool = True) -> Settings:
    """The settings, pointed at the running ``mashflow up`` stack where none is named
    (``attach``, see :mod:`infra.local_stack`). A command that answers and ends logs
    warnings and errors only (its output is the answer); a serving one (``serving``:
    up, worker, api) logs from info. ``MASHFLOW_LOG_LEVEL`` overrides both."""
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        fail(str(exc), EXIT_CONFIG)
    if attach:
        settings = local_stack.attach(settings)
    if not serving and "MASHFLOW_LOG_LEVEL" not in os.environ:
        configure_logging(settings.with_overrides(log_level="WARNING"))
    else:
        configure_logging(settings)
    return settings


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; known errors become one line and an exit code."""
    try:
        return asyncio.run(coro)
    except ConfigurationError as exc:
        _exit_now(str(exc), EXIT_CONFIG)
    except DomainError as exc:
        _exit_now(str(exc), EXIT_REFUSED)
    except KeyboardInterrupt:
        sys.exit(130)


def _exit_now(message: str, code: int) -> NoReturn:
    """Report and leave at once. Everything async has been cleaned up by now (the embedded
    stack stopped, connections closed); skipping interpreter teardown avoids the Temporal
    runtime's known abort as a short-lived process exits, which would hide the exit code."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@contextmanager
def progress_bar(label: str, *, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr for long work; yields the ``(done, total)`` callback."""
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=quiet or not err_console.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield progress
