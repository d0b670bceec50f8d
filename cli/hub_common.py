"""What ``mashflow requests`` and ``mashflow tasks`` share: the hub, the acting user, errors.

These commands act on the configured services only (``MASHFLOW_DATABASE_URL``,
``MASHFLOW_TEMPORAL_ADDRESS``): requests live in a long-running worker's
workflows, so an embedded server started for one command would be of no use.

The human steps act as the user whose token the CLI holds (``MASHFLOW_TOKEN``
or ``--token-file``, see :mod:`cli.identity`), checked as the API checks it:
every event records that user's id, and the role and agency the register holds.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import pydantic
import typer
from temporalio.service import RPCError, RPCStatusCode

from app.container import Container, Infrastructure, open_container, open_infrastructure
from app.queries import Queries
from app.requests import RequestService
from cli.common import EXIT_CONFIG, fail
from cli.directory_common import EXIT_NOT_FOUND
from cli.identity import Credential, acting_user
from domain.errors import validation_failed
from domain.models import Actor
from domain.permissions import Action
from infra.settings import Settings
from infra.stack import running_stack

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@dataclass(frozen=True)
class Records:
    """The hub's database: read models and the register, for commands that only read."""

    infra: Infrastructure

    @property
    def queries(self) -> Queries:
        return self.infra.queries

    async def acting(self, cred: Credential, action: Action | None = None, *, doing: str) -> Actor:
        """The user whose token ``cred`` is (see :func:`cli.identity.acting_user`)."""
        return await acting_user(self.infra, cred, action, doing=doing)


@dataclass(frozen=True)
class Commands(Records):
    """The hub's database and its Temporal server: for the human steps."""

    container: Container

    @property
    def requests(self) -> RequestService:
        return self.container.requests


def bad_input(exc: pydantic.ValidationError, prefix: str = "") -> str:
    return f"{prefix}{validation_failed(exc)}"


def require_configured(settings: Settings, *, temporal: bool) -> None:
    if settings.database_url is None:
        fail(
            "MASHFLOW_DATABASE_URL: not set; requests and tasks need the hub's database",
            EXIT_CONFIG,
        )
    if temporal and settings.temporal_address is None:
        fail(
            "MASHFLOW_TEMPORAL_ADDRESS: not set; requests and tasks need the hub's Temporal "
            "server (and a worker on MASHFLOW_TEMPORAL_TASK_QUEUE)",
            EXIT_CONFIG,
        )


@contextlib.asynccontextmanager
async def open_records(settings: Settings) -> AsyncIterator[Records]:
    """The configured database, checked reachable first."""
    require_configured(settings, temporal=False)
    async with (
        running_stack(settings, ui=False, temporal=False) as stack,
        open_infrastructure(stack.settings) as infra,
    ):
        yield Records(infra)


@contextlib.asynccontextmanager
async def open_commands(settings: Settings) -> AsyncIterator[Commands]:
    """The configured database and Temporal, checked reachable first."""
    require_configured(settings, temporal=True)
    async with running_stack(settings, ui=False, temporal=True) as stack:
        try:
            async with open_container(stack.settings) as container:
                try:
                    yield Commands(container.infra, container)
                except RPCError as exc:
                    if exc.status is RPCStatusCode.NOT_FOUND:
                        fail("no such request (or its decision is not open)", EXIT_NOT_FOUND)
                    raise
        finally:
            # The SDK's client holds a handle on its Rust runtime; let it go here, inside
            # the event loop, rather than at interpreter exit, where it can abort.
            gc.collect()
