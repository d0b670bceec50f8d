"""What the directory commands share: the directory over a running database, errors, JSON."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from app.container import Infrastructure, open_infrastructure
from cli.common import EXIT_REFUSED, fail
from infra.directory import AlreadyExistsError, NotFoundError
from infra.settings import Settings
from infra.stack import running_stack

EXIT_USAGE = 2
EXIT_NOT_FOUND = 4


@contextlib.asynccontextmanager
async def open_directory(settings: Settings) -> AsyncIterator[Infrastructure]:
    """The configured database (or the embedded one, started for the command), migrated:
    its ``agencies`` and ``users`` are the register."""
    async with (
        running_stack(settings, ui=False, temporal=False) as stack,
        open_infrastructure(stack.settings) as infra,
    ):
        try:
            yield infra
        except NotFoundError as exc:
            fail(str(exc), EXIT_NOT_FOUND)
        except AlreadyExistsError as exc:
            fail(str(exc), EXIT_REFUSED)


def print_json(value: Any) -> None:
    """Machine output: one JSON document on stdout, nothing else there."""
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")
    sys.stdout.flush()
