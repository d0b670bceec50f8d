"""The worker process: polls the task queue with the workflows and the activities.

At start it makes sure the namespace knows the workflows' search attributes
(``infra.search_attributes``) and, if ``MASHFLOW_WORKER_METRICS_ADDRESS`` is set, serves
Prometheus metrics there (``worker.metrics``).

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
from infra import search_attributes
from infra.readmodels import ProjectionRunner
from infra.settings import Settings
from infra.temporal import connect_client
from worker import compiled_once
from worker.metrics import BusinessGauges, prometheus_runtime
from worker.registry import WORKFLOWS
from worker.schedules import ensure_schedules

log = structlog.get_logger(__name__)


def build_worker(
    client: Client, task_queue: str, infra: Infrastructure, *, max_cached_workflows: int = 1000
) -> Worker:
    """Every workflow and every activity, polling ``task_queue``; at most
    ``max_cached_workflows`` kept in memory (an evicted one is replayed at its next task).
    Each workflow module is compiled once, not for every new instance (``compiled_once``)."""
    compiled_once.install()
    activities = [
        *infra.activities().all(),
        *infra.retention_activities().all(),
        *infra.checkpoint_activities().all(),
    ]
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities,
        max_cached_workflows=max_cached_workflows,
    )


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """Poll the task queue until ``stop`` is set, then drain and shut down cleanly."""
    address = settings.worker_metrics_address
    runtime = None if address is None else prometheus_runtime(address)
    client = await connect_client(settings, runtime=runtime)
    await search_attributes.ensure(client)
    async with open_infrastructure(settings) as infra:
        worker = build_worker(
            client,
            settings.temporal_task_queue,
            infra,
            max_cached_workflows=settings.worker_max_cached_workflows,
        )
        await ensure_schedules(client, settings)
        gauges = None if runtime is None else BusinessGauges(runtime.metric_meter, infra.engine)
        gauging = None if gauges is None else asyncio.create_task(gauges.run(), name="gauges")
        projections = ProjectionRunner(infra.store)  # keeps the read models live
        projections.start()
        mailer = infra.mailer()
        mailing = None if mailer is None else asyncio.create_task(mailer.run(), name="mailer")
        log.info("worker_started", task_queue=settings.temporal_task_queue)
        try:
            async with worker:
                await stop.wait()
        finally:
            if gauges is not None and gauging is not None:
                gauges.stop()
                await gauging
            if mailer is not None and mailing is not None:
                mailer.stop()
                await mailing
            await projections.stop()
        log.info("worker_stopped")
