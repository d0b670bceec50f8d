"""The worker process: one place wires settings, database, store and Temporal."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.activities import MashflowActivities
from activities.checkpoint import CheckpointActivities
from activities.retention import RetentionActivities
from app.notifications import Mailer
from domain.policy import DEFAULT_POLICY
from infra.crypto import Keyring
from infra.db import app_engine
from infra.directory import AgencyDirectory
from infra.eventstore import EventStore
from infra.eventstore.anchor import DirectoryAnchor
from infra.mail import SmtpSender
from infra.notifications import DeliveryQueue
from infra.packages import Outbox, PackageRepository
from infra.readmodels import ProjectionRunner
from infra.settings import Settings
from infra.temporal import connect_client
from worker.schedules import ensure_schedules
from workflows import WORKFLOWS

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Infrastructure:
    """Everything a process talks to, made once and closed once."""

    engine: AsyncEngine
    store: EventStore
    keyring: Keyring
    agencies: AgencyDirectory
    packages: PackageRepository
    outbox: Outbox

    def activities(self) -> MashflowActivities:
        return MashflowActivities(
            self.store, self.keyring, self.agencies, self.packages, self.outbox
        )

    def retention_activities(self) -> RetentionActivities:
        return RetentionActivities(self.store, self.keyring, self.engine, self.packages)

    def checkpoint_activities(self) -> CheckpointActivities:
        return CheckpointActivities(self.store)


@contextlib.asynccontextmanager
async def infrastructure(settings: Settings) -> AsyncIterator[Infrastructure]:
    engine = app_engine(settings)
    kek = settings.key_encryption_key()
    keyring = Keyring(engine, kek)
    store = EventStore(
        engine, keyring=keyring, anchor=DirectoryAnchor(settings.checkpoint_anchor_dir())
    )
    try:
        yield Infrastructure(
            engine=engine,
            store=store,
            keyring=keyring,
            agencies=AgencyDirectory(engine, kek),
            packages=PackageRepository(engine),
            outbox=Outbox(engine),
        )
    finally:
        await store.close()
        await engine.dispose()


def notification_mailer(settings: Settings, engine: AsyncEngine) -> Mailer | None:
    """The notification e-mailer, where an SMTP server is configured (else None)."""
    if settings.smtp_host is None:
        return None
    return Mailer(
        DeliveryQueue(engine),
        SmtpSender(settings),
        base_url=settings.link_base,
        zone=DEFAULT_POLICY.calendar.timezone,
    )


def build_worker(
    client: Client,
    task_queue: str,
    activities: MashflowActivities,
    retention: RetentionActivities | None = None,
    checkpoint: CheckpointActivities | None = None,
) -> Worker:
    extra = [*(retention.all() if retention else []), *(checkpoint.all() if checkpoint else [])]
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities.all() + extra,
    )


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """Poll the task queue until ``stop`` is set, then drain and shut down cleanly."""
    client = await connect_client(settings)
    async with infrastructure(settings) as infra:
        worker = build_worker(
            client,
            settings.temporal_task_queue,
            infra.activities(),
            infra.retention_activities(),
            infra.checkpoint_activities(),
        )
        await ensure_schedules(client, settings)
        projections = ProjectionRunner(infra.store)  # keeps the read models live
        projections.start()
        mailer = notification_mailer(settings, infra.engine)
        mailing = None if mailer is None else asyncio.create_task(mailer.run(), name="mailer")
        log.info("worker_started", task_queue=settings.temporal_task_queue)
        try:
            async with worker:
                await stop.wait()
        finally:
            if mailer is not None and mailing is not None:
                mailer.stop()
                await mailing
            await projections.stop()
        log.info("worker_stopped")
