"""The composition root: the one place a process wires settings to what it talks to.

The worker, the API, the CLI and the demo all build their objects here, so a
new adapter or service is added once. Two levels, nothing optional in either:

- :class:`Infrastructure` is the database side (engine, event store, keyring,
  directories, packages, read-model queries). Commands that only read or
  administer the register open this alone: they need no Temporal.
- :class:`Container` adds the Temporal client and the application services
  that drive the workflows (requests, packages, retention). The API and every
  human step open this.

Nothing here connects at import time; each ``open_*`` is an async context
manager that closes what it opened, and only that.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from activities.activities import MashflowActivities
from activities.checkpoint import CheckpointActivities
from activities.retention import RetentionActivities
from app.consistency import ReadModels
from app.notifications import Mailer
from app.packages import PackageService
from app.queries import Queries
from app.requests import RequestService
from app.retention import RetentionService
from domain.policy import HubPolicy
from infra.auth import Authenticator, FailedSignIns, OidcVerifier
from infra.crypto import Keyring
from infra.db import app_engine
from infra.directory import AgencyDirectory
from infra.eventstore import EventStore
from infra.eventstore.anchor import DirectoryAnchor
from infra.kek_rotation import check_key_generations
from infra.mail import SmtpSender
from infra.notifications import DeliveryQueue
from infra.packages import Outbox, PackageRepository
from infra.settings import Settings
from infra.temporal import connect_client
from infra.users import UserDirectory


@dataclass(frozen=True)
class Infrastructure:
    """The database side of a process: made once, closed once."""

    settings: Settings
    engine: AsyncEngine
    store: EventStore
    keyring: Keyring
    agencies: AgencyDirectory
    users: UserDirectory
    packages: PackageRepository
    outbox: Outbox
    queries: Queries

    def authenticator(self) -> Authenticator:
        """Bearer tokens and sessions checked one way for the API and the CLI."""
        s = self.settings
        oidc = OidcVerifier(s) if s.oidc_enabled else None
        failures = FailedSignIns(s.signin_failure_limit, s.signin_failure_window_s)
        return Authenticator(self.users, self.agencies, oidc, failures)

    def mailer(self) -> Mailer | None:
        """The notification e-mailer, where an SMTP server is configured (else None)."""
        s = self.settings
        if s.smtp_host is None:
            return None
        return Mailer(
            DeliveryQueue(self.engine),
            SmtpSender(s),
            base_url=s.link_base,
            zone=s.hub_policy().calendar.timezone,
        )

    def activities(self) -> MashflowActivities:
        return MashflowActivities(
            self.store, self.keyring, self.agencies, self.packages, self.outbox
        )

    def retention_activities(self) -> RetentionActivities:
        return RetentionActivities(self.store, self.keyring, self.engine, self.packages)

    def checkpoint_activities(self) -> CheckpointActivities:
        return CheckpointActivities(self.store)


@dataclass(frozen=True)
class Container:
    """Everything a process that takes human steps needs: the database side, Temporal and
    the application services built on them."""

    infra: Infrastructure
    temporal: Client
    requests: RequestService
    """Commands on sharing requests and their decisions."""
    packages: PackageService
    """The recipient's side of secure transfer."""
    retention: RetentionService
    """The retention review queue and its decisions."""

    @property
    def settings(self) -> Settings:
        return self.infra.settings


async def _check_keys(db: AsyncEngine, keyring: Keyring, kek: bytes, settings: Settings) -> None:
    """Refuse a KEK that cannot open the keys; a database that does not answer yet is not
    a reason to refuse to start: the process starts, ``/readyz`` says the database failed,
    and every use of a key still refuses one wrapped under an unknown KEK."""
    try:
        await check_key_generations(db, keyring, kek, settings.previous_key_encryption_keys())
    except (OSError, DBAPIError) as exc:
        structlog.get_logger().warning("key_generations_unchecked", error=type(exc).__name__)


@contextlib.asynccontextmanager
async def open_infrastructure(
    settings: Settings, *, engine: AsyncEngine | None = None, check_keys: bool = True
) -> AsyncIterator[Infrastructure]:
    """The database side. An ``engine`` passed in stays the caller's to dispose.

    Refuses (``ConfigurationError``) while a key is wrapped under a KEK this process
    was not given (``infra.kek_rotation``), unless ``check_keys`` is false.
    """
    own_engine = engine is None
    db = app_engine(settings) if engine is None else engine
    kek = settings.key_encryption_key()
    keyring = Keyring.from_settings(db, settings)
    store = EventStore(
        db,
        keyring=keyring,
        pool_size=settings.database_pool_size,
        anchor=DirectoryAnchor(settings.checkpoint_anchor_dir()),
    )
    try:
        if check_keys:
            await _check_keys(db, keyring, kek, settings)
        yield Infrastructure(
            settings=settings,
            engine=db,
            store=store,
            keyring=keyring,
            agencies=AgencyDirectory(db, kek),
            users=UserDirectory(db),
            packages=PackageRepository(db),
            outbox=Outbox(db),
            queries=Queries(db),
        )
    finally:
        await store.close()
        if own_engine:
            await db.dispose()


def build_container(
    infra: Infrastructure,
    temporal: Client,
    *,
    task_queue: str | None = None,
    policy: HubPolicy | None = None,
) -> Container:
    """The services over ``infra`` and ``temporal``; workflows go to ``task_queue``
    (the settings' queue unless given) and count deadlines on ``policy`` (the hub's
    policy file the settings name, unless given)."""
    queue = task_queue or infra.settings.temporal_task_queue
    policy = policy or infra.settings.hub_policy()
    # Commands answer once the read models show them (app/consistency.py).
    requests = RequestService(
        temporal,
        infra.keyring,
        infra.agencies,
        queue,
        policy,
        read_models=ReadModels(infra.store),
    )
    return Container(
        infra=infra,
        temporal=temporal,
        requests=requests,
        packages=PackageService(
            requests, infra.packages, infra.agencies, infra.settings, infra.store
        ),
        retention=RetentionService(temporal, infra.store, infra.keyring, queue, policy),
    )


@contextlib.asynccontextmanager
async def open_container(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    temporal: Client | None = None,
    lazy: bool = False,
) -> AsyncIterator[Container]:
    """The whole process's wiring. Without a ``temporal`` client one is connected from the
    settings (``lazy``: on its first call, so a server that is down makes the process
    unready rather than stopping it)."""
    client = temporal if temporal is not None else await connect_client(settings, lazy=lazy)
    async with open_infrastructure(settings, engine=engine) as infra:
        yield build_container(infra, client)
