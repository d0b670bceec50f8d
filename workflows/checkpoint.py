"""Periodic checkpoints of the event store, as a durable workflow.

``CheckpointWorkflow`` is what the Temporal Schedule ``mashflow-checkpoint``
starts at each interval (``MASHFLOW_CHECKPOINT_INTERVAL_MINUTES``): one
activity hashes every stream head that moved since the previous checkpoint,
chained to it, and appends the result to the store as an event, which
``verify`` then checks like any other. Taking one more checkpoint than needed
is harmless (it chains onto the last), so a retried activity or a manual
``mashflow verify --checkpoint`` at the same moment does no damage; the
schedule skips a run while the previous one is still going.

No updates, signals or queries.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.models import TAKE_CHECKPOINT, TakeCheckpointInput, TakeCheckpointResult
    from workflows.common import STORE_RETRY

CHECKPOINT_SCHEDULE_ID = "mashflow-checkpoint"

CHECKPOINT_TIMEOUT = timedelta(minutes=10)
"""Generous: the first checkpoint of a large store reads every stream's head."""


@workflow.defn
class CheckpointWorkflow:
    """One run of the checkpoint schedule: take one checkpoint."""

    @workflow.run
    async def run(self, input: TakeCheckpointInput) -> TakeCheckpointResult:
        result: TakeCheckpointResult = await workflow.execute_activity(
            TAKE_CHECKPOINT,
            input,
            result_type=TakeCheckpointResult,
            start_to_close_timeout=CHECKPOINT_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        return result
