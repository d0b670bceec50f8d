"""The worker process: polls the task queue with the workflows and the activities.

Its objects come from the composition root (:mod:`app.container`); this module
only assembles the Temporal ``Worker`` and runs it with the read-model
projection and the schedules.
"""

from __future__ import annotations

import asyncio

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from app.container import Infrastructure, open_infrastructure
from infra.readmodels import ProjectionRunner
from infra.settings import Settings
from infra.temporal import connect_client
from worker.registry import WORKFLOWS
from worker.schedules import ensure_schedules

log = structlog.get_logger(__name__)


def build_worker(client: Client, task_queue: str, infra: Infrastructure) -> Worker:
    """Every workflow and every activity, polling ``task_queue``."""
    activities = [
        *infra.activities().all(),
        *infra.retention_activities().all(),
        *infra.checkpoint_activities().all(),
    ]
    return Worker(client, task_queue=task_queue, workflows=WORKFLOWS, activities=activities)


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """Poll the task queue until ``stop`` is set, then drain and shut down cleanly."""
    client = await connect_client(settings)
    async with open_infrastructure(settings) as infra:
        worker = build_worker(client, settings.temporal_task_queue, infra)
        await ensure_schedules(client, settings)
        projections = ProjectionRunner(infra.store)  # keeps the read models live
        projections.start()
        mailer = infra.mailer()
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
