"""What every command shares: settings, logging, one-line errors, the asyncio runner."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

from rich.console import Console

from domain.errors import DomainError
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


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        fail(str(exc), EXIT_CONFIG)
    configure_logging(settings)
    return settings


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; known errors become one line and an exit code."""
    try:
        return asyncio.run(coro)
    except ConfigurationError as exc:
        fail(str(exc), EXIT_CONFIG)
    except DomainError as exc:
        fail(str(exc), EXIT_REFUSED)
    except KeyboardInterrupt:
        sys.exit(130)
