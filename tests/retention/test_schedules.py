"""The worker's Temporal Schedules on the real dev server: ensured idempotently at
start-up, brought up to date when the interval changes, and a triggered run really runs.

Both schedules are made by ``worker.schedules`` exactly as ``mashflow worker``
makes them, pointed at the ``dev_hub`` worker's task queue, and deleted at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleOverlapPolicy,
)
from temporalio.service import RPCError

from activities.models import TakeCheckpointResult
from domain.policy import HubPolicy, RetentionPeriod, RetentionPolicy, RetentionRule
from domain.vocabulary import RecordType, RetentionAnchor
from infra.eventstore import CHECKPOINTS, CheckpointRecorded
from infra.settings import Settings
from tests.retention.conftest import DevHub, closed_request, review_of
from worker.schedules import ensure_checkpoint_schedule, ensure_retention_schedule, ensure_schedules
from workflows.checkpoint import CHECKPOINT_SCHEDULE_ID, CheckpointWorkflow
from workflows.retention import SCHEDULE_ID, RetentionReviewWorkflow

DUE_AT_ONCE = HubPolicy(
    retention=RetentionPolicy(
        rules=[
            RetentionRule(
                record_type=record_type,
                period=RetentionPeriod(),
                anchor=RetentionAnchor.CASE_CLOSED,
            )
            for record_type in RecordType
        ]
    )
)
"""Every record is due the day its case closes: a triggered run has something to open."""


@pytest.fixture
async def schedules(dev_hub: DevHub) -> AsyncIterator[Client]:
    client = dev_hub.env.client
    try:
        yield client
    finally:
        for schedule_id in (SCHEDULE_ID, CHECKPOINT_SCHEDULE_ID):
            # Never made (the test failed before it): nothing to tidy.
            with contextlib.suppress(RPCError):
                await client.get_schedule_handle(schedule_id).delete()


async def _described(handle: ScheduleHandle) -> ScheduleDescription:
    return await handle.describe()


def _interval(desc: ScheduleDescription) -> timedelta:
    (interval,) = desc.schedule.spec.intervals
    return interval.every


def _action(desc: ScheduleDescription) -> ScheduleActionStartWorkflow:
    action = desc.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    return action


async def _triggered_run(handle: ScheduleHandle, timeout_s: float = 60) -> str:
    """Trigger the schedule; the id of the workflow that run started."""
    before = len((await handle.describe()).info.recent_actions)
    await handle.trigger()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        actions = (await handle.describe()).info.recent_actions
        if len(actions) > before:
            started = actions[-1].action
            assert isinstance(started, ScheduleActionExecutionStartWorkflow)
            return started.workflow_id
        await asyncio.sleep(0.2)
    raise TimeoutError("the triggered run never started")


async def test_the_retention_schedule_is_ensured_idempotently_and_a_triggered_run_opens_reviews(
    schedules: Client, dev_hub: DevHub
) -> None:
    queue = dev_hub.task_queue
    assert await ensure_retention_schedule(schedules, queue, 24) == SCHEDULE_ID
    assert await ensure_retention_schedule(schedules, queue, 24) == SCHEDULE_ID  # harmless
    handle = schedules.get_schedule_handle(SCHEDULE_ID)
    desc = await _described(handle)
    assert _interval(desc) == timedelta(hours=24)
    assert _action(desc).workflow == "RetentionReviewWorkflow"
    assert _action(desc).task_queue == queue
    assert desc.schedule.policy.overlap is ScheduleOverlapPolicy.SKIP

    # A new interval (a new start-up with other settings) updates the one schedule.
    await ensure_retention_schedule(schedules, queue, 6)
    assert _interval(await _described(handle)) == timedelta(hours=6)

    # A triggered run really runs on the worker, and opens the review of a record due.
    request_id = await closed_request(dev_hub.infra, dev_hub.hub, "Theodora Ticktock")
    await ensure_retention_schedule(schedules, queue, 6, policy=DUE_AT_ONCE)
    workflow_id = await _triggered_run(handle)
    assert workflow_id.startswith(f"{SCHEDULE_ID}-run")
    run = schedules.get_workflow_handle_for(RetentionReviewWorkflow.run, workflow_id)
    result = await asyncio.wait_for(run.result(), 120)
    assert result.requests_scanned >= 1
    assert any(str(request_id) in w and "shared_decision" in w for w in result.opened)
    review = await review_of(dev_hub.retention, request_id)
    assert review.workflow_id in result.opened


async def test_the_checkpoint_schedule_takes_a_checkpoint_that_verify_accepts(
    schedules: Client, dev_hub: DevHub, settings: Settings
) -> None:
    queue = dev_hub.task_queue
    own = settings.with_overrides(temporal_task_queue=queue)
    assert own.checkpoint_interval_minutes == 60  # the default
    assert await ensure_schedules(schedules, own) == [SCHEDULE_ID, CHECKPOINT_SCHEDULE_ID]
    assert await ensure_schedules(schedules, own) == [SCHEDULE_ID, CHECKPOINT_SCHEDULE_ID]
    handle = schedules.get_schedule_handle(CHECKPOINT_SCHEDULE_ID)
    desc = await _described(handle)
    assert _interval(desc) == timedelta(minutes=60)
    assert _action(desc).workflow == "CheckpointWorkflow" and _action(desc).task_queue == queue
    assert desc.schedule.policy.overlap is ScheduleOverlapPolicy.SKIP
    await ensure_checkpoint_schedule(schedules, queue, 15)
    assert _interval(await _described(handle)) == timedelta(minutes=15)

    # Something new to cover, then a triggered run: a checkpoint event in the store.
    await closed_request(dev_hub.infra, dev_hub.hub, "Cornelius Ledger")
    workflow_id = await _triggered_run(handle)
    run = schedules.get_workflow_handle_for(CheckpointWorkflow.run, workflow_id)
    result: TakeCheckpointResult = await asyncio.wait_for(run.result(), 120)
    assert result.taken and result.position is not None and result.digest is not None
    assert result.heads_changed >= 1
    store = dev_hub.infra.store
    recorded = next(
        e for e in await store.read_stream(CHECKPOINTS) if e.position == result.position
    )
    assert isinstance(recorded.event, CheckpointRecorded)
    assert recorded.event.digest == result.digest

    # verify() walks the log and accepts it, exported digest and all.
    await store.wait_visible(result.position)
    report = await store.verify(trusted_digest=result.digest)
    assert report.ok, report.findings
    assert report.checkpoints_checked >= 1
