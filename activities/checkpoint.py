"""The I/O step of periodic checkpoints: ask the event store for one.

The store does the work (``EventStore.checkpoint``: the digest of the heads
that moved, chained to the previous checkpoint, appended as an event). Two
checkpoints racing for the same version is the store's concurrency error: the
other one stands, so this one reports it did not take one rather than fail.
"""

from __future__ import annotations

from typing import Any

import structlog
from temporalio import activity

from activities.models import TAKE_CHECKPOINT, TakeCheckpointInput, TakeCheckpointResult
from infra.eventstore import ConcurrencyError, EventStore

log = structlog.get_logger(__name__)


class CheckpointActivities:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name=TAKE_CHECKPOINT)
    async def take_checkpoint(self, input: TakeCheckpointInput) -> TakeCheckpointResult:
        try:
            taken = await self.store.checkpoint()
        except ConcurrencyError:
            log.info("checkpoint_raced")
            return TakeCheckpointResult(taken=False)
        log.info(
            "checkpoint_taken",
            position=taken.position,
            horizon=taken.horizon,
            heads_changed=taken.heads_changed,
        )
        return TakeCheckpointResult(
            taken=True,
            position=taken.position,
            horizon=taken.horizon,
            digest=taken.digest,
            heads_changed=taken.heads_changed,
        )

    def all(self) -> list[Any]:
        return [self.take_checkpoint]
