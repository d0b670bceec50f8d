"""The Temporal Schedules a worker makes sure exist at start-up.

Idempotent: the schedule is created, or, if it already exists (another worker,
an earlier start), updated to the current interval and task queue. Starting
many workers at once is harmless.
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

from domain.policy import HubPolicy
from workflows.retention import SCHEDULE_ID, RetentionReviewWorkflow, RetentionRunInput

log = structlog.get_logger(__name__)


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
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=interval_hours))]),
        # A run still going when the next falls due (a very large store): skip, never pile up.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_retention_schedule(
    client: Client, task_queue: str, interval_hours: int, policy: HubPolicy | None = None
) -> str:
    """Create the retention schedule, or bring an existing one up to date; returns its id."""
    schedule = retention_schedule(task_queue, interval_hours, policy)
    try:
        await client.create_schedule(SCHEDULE_ID, schedule)
        log.info("schedule_created", schedule_id=SCHEDULE_ID, interval_hours=interval_hours)
    except ScheduleAlreadyRunningError:

        def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(SCHEDULE_ID).update(update)
        log.info("schedule_updated", schedule_id=SCHEDULE_ID, interval_hours=interval_hours)
    return SCHEDULE_ID
