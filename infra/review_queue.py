"""The retention review queue as a read model (``rm_reviews``).

One row per review: opened (``RetentionReviewOpened``), escalated when its decision
is late (``RetentionReviewOverdue``, the first escalation counts) and decided
(``RecordRetained`` or ``RecordDisposed``, the first decision counts). Only ids,
record types, dates, roles and user ids: no personal data, so erasure has nothing
to redact here. Fed exactly once per event by :class:`ReviewQueue`, with its own
checkpoint (``retention_reviews``), run beside the request read models by
``readmodels.ProjectionRunner`` (workers, the API); the queue also catches up
whenever it is read (``app.retention``). ``readmodels.rebuild`` empties and refills
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
from infra.eventstore.subscriptions import Batch, CheckpointFollower

CHECKPOINT = "retention_reviews"
TABLE = "rm_reviews"
BATCH = 2000

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
    """Feeds ``rm_reviews`` its events exactly once (the catch-up of
    ``infra.eventstore.subscriptions``). It reads only the review events
    (``EventStore.read_types``): the server skips the rest of the log, so a rebuild's
    pass over a million events costs a scan, not a decode of every event."""

    CHECKPOINT = CHECKPOINT
    BATCH = BATCH

    async def read(self, after: int) -> Batch:
        return await self.store.read_types(after, TYPES, self.batch_size)

    async def apply(self, conn: AsyncConnection, events: list[RecordedEvent]) -> None:
        for recorded in events:
            await apply(conn, recorded)

    async def empty(self, conn: AsyncConnection) -> None:
        await conn.execute(text("DELETE FROM rm_reviews"))
