"""The retention review queue as a read model (``rm_reviews``).

One row per review: opened (``RetentionReviewOpened``), escalated when its decision
is late (``RetentionReviewOverdue``, the first escalation counts) and decided
(``RecordRetained`` or ``RecordDisposed``, the first decision counts). Only ids,
record types, dates, roles and user ids: no personal data, so erasure has nothing
to redact here. Fed exactly once per event by :class:`ReviewQueue`, with its own
checkpoint (``retention_reviews``), run beside the request read models by
``readmodels.ProjectionRunner`` (workers, the API); the queue also catches up
whenever it is read (:func:`catch_up`). ``readmodels.rebuild`` empties and refills
it too, in a pass of its own after the request models'.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import (
    RecordDisposed,
    RecordedEvent,
    RecordRetained,
    RetentionReviewOpened,
    RetentionReviewOverdue,
)
from domain.retention import ReviewStatus
from infra.eventstore import EventStore
from infra.eventstore.subscriptions import (
    CheckpointFollower,
    lock_checkpoint,
    move_checkpoint,
    rewind_checkpoint,
)

CHECKPOINT = "retention_reviews"
TABLE = "rm_reviews"
BATCH = 2000
_IDLE_STRIDE = 1000 * 65536
"""Positions (a thousand transactions' worth) the queue may lag behind the log's end
when none of them holds a review event, so an idle poll writes nothing."""

_OPENED = text(
    "INSERT INTO rm_reviews (review_id, request_id, record_type, due_on, opened_at) "
    "VALUES (:review_id, :request_id, :record_type, :due_on, :opened_at) "
    "ON CONFLICT (review_id) DO NOTHING"
)
_ESCALATED = text(
    "UPDATE rm_reviews SET escalated_at = :at WHERE review_id = :review_id AND escalated_at IS NULL"
)
_DECIDED = text(
    "UPDATE rm_reviews SET status = :status, decided_by = :by, decided_at = :at, "
    "next_review_on = :next WHERE review_id = :review_id AND status = 'open'"
)


async def apply(conn: AsyncConnection, recorded: RecordedEvent) -> None:
    """Fold one event into ``rm_reviews`` (every other event is ignored)."""
    match recorded.event:
        case RetentionReviewOpened() as e:
            await conn.execute(
                _OPENED,
                {
                    "review_id": e.review_id,
                    "request_id": e.request_id,
                    "record_type": e.record_type.value,
                    "due_on": e.due_on,
                    "opened_at": e.opened_at,
                },
            )
        case RetentionReviewOverdue() as e:
            await conn.execute(_ESCALATED, {"review_id": e.review_id, "at": e.escalated_at})
        case RecordRetained() as e:
            await conn.execute(
                _DECIDED,
                {
                    "review_id": e.review_id,
                    "status": ReviewStatus.RETAINED.value,
                    "by": e.reviewed_by,
                    "at": e.reviewed_at,
                    "next": e.next_review_on,
                },
            )
        case RecordDisposed() as e:
            await conn.execute(
                _DECIDED,
                {
                    "review_id": e.review_id,
                    "status": ReviewStatus.DISPOSED.value,
                    "by": e.disposed_by,
                    "at": e.disposed_at,
                    "next": None,
                },
            )


TYPES = tuple(
    t.event_type
    for t in (RetentionReviewOpened, RetentionReviewOverdue, RecordRetained, RecordDisposed)
)


class ReviewQueue(CheckpointFollower):
    """Feeds ``rm_reviews`` its events exactly once. It reads only the review events
    (``EventStore.read_types``): the server skips the rest of the log, so a rebuild's
    pass over a million events costs a scan, not a decode of every event."""

    def __init__(
        self, store: EventStore, *, batch_size: int = BATCH, poll_interval: float = 0.2
    ) -> None:
        super().__init__(store, CHECKPOINT, batch_size=batch_size, poll_interval=poll_interval)

    async def catch_up(self) -> int:
        """Apply every review event available now; returns how many were applied."""
        applied = 0
        while not self._stopping.is_set():
            after = await self.position()
            events, covered = await self._store.read_types(after, TYPES, self._batch_size)
            if covered <= after or (not events and covered - after < _IDLE_STRIDE):
                # Nothing new for the queue: a poll with no write, until the rest of the
                # log it has skipped grows long enough to be worth recording.
                return applied
            async with self._store.engine.begin() as conn:
                # Applied only from the checkpoint it was read after: if another runner
                # moved it, or a rebuild rewound it, read again from where it is now.
                if await lock_checkpoint(conn, self.name) != after:
                    continue
                for recorded in events:
                    await apply(conn, recorded)
                await move_checkpoint(conn, self.name, covered)
            applied += len(events)
            if len(events) < self._batch_size:
                # Read up to the horizon: done for now (the horizon itself moves on with
                # every transaction, this one's included, so "until nothing is left to
                # cover" would never end).
                break
        return applied


async def catch_up(store: EventStore) -> int:
    """Apply every event the queue has not seen yet; returns how many were applied."""
    return await ReviewQueue(store).catch_up()


async def reset(conn: AsyncConnection) -> None:
    """Empty the queue and rewind its checkpoint (in the caller's transaction)."""
    await rewind_checkpoint(conn, CHECKPOINT)
    await conn.execute(text("DELETE FROM rm_reviews"))
