"""The Temporal Schedules a worker makes sure exist at start-up.

- ``mashflow-retention-review`` starts ``RetentionReviewWorkflow`` every
  ``MASHFLOW_RETENTION_REVIEW_INTERVAL_HOURS``: reviews open for records due.
- ``mashflow-checkpoint`` starts ``CheckpointWorkflow`` every
  ``MASHFLOW_CHECKPOINT_INTERVAL_MINUTES``: a checkpoint of every stream head.

Idempotent: each schedule is created, or, if it already exists (another worker,
an earlier start), updated to the current interval and task queue. Starting
many workers at once is harmless. A run still going when the next falls due is
skipped, never piled up.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from activities.models import TakeCheckpointInput
from domain.policy import HubPolicy
from infra.settings import Settings
from workflows.checkpoint import CHECKPOINT_SCHEDULE_ID, CheckpointWorkflow
from workflows.retention import SCHEDULE_ID, RetentionReviewWorkflow, RetentionRunInput

log = structlog.get_logger(__name__)


def _every(interval: timedelta) -> ScheduleSpec:
    return ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)])


# A run still going when the next falls due (a very large store): skip, never pile up.
_SKIP = SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP)


def retention_schedule(
    task_queue: str, interval_hours: int, policy: HubPolicy | None = None
) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionReviewWorkflow.run,
            RetentionRunInput(policy=policy or HubPolicy()),
            id=f"{SCHEDULE_ID}-run",
            task_queue=task_queue,
        ),
        spec=_every(timedelta(hours=interval_hours)),
        policy=_SKIP,
    )


def checkpoint_schedule(task_queue: str, interval_minutes: int) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            CheckpointWorkflow.run,
            TakeCheckpointInput(),
            id=f"{CHECKPOINT_SCHEDULE_ID}-run",
            task_queue=task_queue,
        ),
        spec=_every(timedelta(minutes=interval_minutes)),
        policy=_SKIP,
    )


async def ensure_schedule(client: Client, schedule_id: str, schedule: Schedule) -> str:
    """Create the schedule, or bring an existing one up to date; returns its id."""
    try:
        await client.create_schedule(schedule_id, schedule)
        log.info("schedule_created", schedule_id=schedule_id)
    except ScheduleAlreadyRunningError:

        def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(update)
        log.info("schedule_updated", schedule_id=schedule_id)
    return schedule_id


async def ensure_retention_schedule(
    client: Client, task_queue: str, interval_hours: int, policy: HubPolicy | None = None
) -> str:
    schedule = retention_schedule(task_queue, interval_hours, policy)
    return await ensure_schedule(client, SCHEDULE_ID, schedule)


async def ensure_checkpoint_schedule(client: Client, task_queue: str, interval_minutes: int) -> str:
    schedule = checkpoint_schedule(task_queue, interval_minutes)
    return await ensure_schedule(client, CHECKPOINT_SCHEDULE_ID, schedule)


async def ensure_schedules(client: Client, settings: Settings) -> list[str]:
    """Every schedule the worker relies on, at the intervals the settings give."""
    queue = settings.temporal_task_queue
    return [
        await ensure_retention_schedule(
            client, queue, settings.retention_review_interval_hours, settings.hub_policy()
        ),
        await ensure_checkpoint_schedule(client, queue, settings.checkpoint_interval_minutes),
    ]
