"""What the directory commands share: the directory over a running database, errors, JSON."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from cli.common import EXIT_REFUSED, fail
from infra.db import app_engine
from infra.directory import AgencyDirectory, AlreadyExistsError, NotFoundError, UserDirectory
from infra.settings import Settings
from infra.stack import running_stack

EXIT_USAGE = 2
EXIT_NOT_FOUND = 4


@dataclass(frozen=True)
class Directory:
    agencies: AgencyDirectory
    users: UserDirectory


@contextlib.asynccontextmanager
async def open_directory(settings: Settings) -> AsyncIterator[Directory]:
    """The configured database (or the embedded one, started for the command), migrated."""
    async with running_stack(settings, ui=False, temporal=False) as stack:
        engine = app_engine(stack.settings)
        try:
            yield Directory(
                AgencyDirectory(engine, stack.settings.key_encryption_key()),
                UserDirectory(engine),
            )
        except NotFoundError as exc:
            fail(str(exc), EXIT_NOT_FOUND)
        except AlreadyExistsError as exc:
            fail(str(exc), EXIT_REFUSED)
        finally:
            await engine.dispose()


def print_json(value: Any) -> None:
    """Machine output: one JSON document on stdout, nothing else there."""
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")
    sys.stdout.flush()
