"""The retention review queue (rm_reviews): first decision and escalation count, each
review event is applied once, the rest of the log is skipped, idle polls write nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from domain.events import (
    EventMetadata,
    RecordDisposed,
    RecordRetained,
    RequestClosed,
    RetentionReviewOpened,
    RetentionReviewOverdue,
    Sealed,
)
from domain.vocabulary import DisposalReason, RecordType, Role
from infra import review_queue
from infra.crypto import Keyring
from infra.db import create_engine
from infra.eventstore import ANY_VERSION, EventStore, NewEvent
from infra.review_queue import ReviewQueue
from tests.conftest import fresh_database

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def store(pg_server_url: str) -> AsyncIterator[EventStore]:
    """A store on a database of its own: the queue sees only this test's events."""
    async with fresh_database(pg_server_url) as made:
        engine = create_engine(made.admin_url, pool_size=5)
        made_store = EventStore(engine, keyring=Keyring.from_settings(engine, made.settings))
        try:
            yield made_store
        finally:
            await made_store.close()
            await engine.dispose()


async def append(store: EventStore, stream: str, *events: object) -> int:
    result = await store.append(
        stream,
        ANY_VERSION,
        [NewEvent(uuid.uuid4(), e, EventMetadata()) for e in events],  # type: ignore[arg-type]
    )
    await store.wait_visible(result.positions[-1])
    return result.positions[-1]


async def queue_rows(store: EventStore) -> dict[uuid.UUID, dict[str, object]]:
    async with store.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM rm_reviews"))).mappings().all()
    return {r["review_id"]: dict(r) for r in rows}


async def checkpoint(store: EventStore) -> tuple[int, datetime]:
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT position, updated_at FROM projection_checkpoints WHERE name = :n"),
                {"n": review_queue.CHECKPOINT},
            )
        ).one()
    return int(row[0]), row[1]


def closed(request: uuid.UUID) -> RequestClosed:
    return RequestClosed(
        request_id=request, shared_by=[], not_shared_by=["police"], withdrawn=False, closed_at=NOW
    )


def sealed() -> Sealed:
    return Sealed(subject_id=uuid.uuid4(), ct="A" * 24)


async def test_the_queue_folds_reviews_once_and_skips_the_rest_of_the_log(
    store: EventStore,
) -> None:
    request = uuid.uuid4()
    kept, disposed = uuid.uuid4(), uuid.uuid4()
    stream = f"retention:{request}"
    opened = [
        RetentionReviewOpened(
            request_id=request, review_id=r, record_type=t, due_on=date(2027, 1, 1), opened_at=NOW
        )
        for r, t in ((kept, RecordType.SHARED_DECISION), (disposed, RecordType.PACKAGE))
    ]
    await append(store, stream, *opened)
    # Not the queue's: read past on the server, never applied.
    await append(store, f"request:{request}", closed(request))
    first_late, second_late = NOW + timedelta(days=28), NOW + timedelta(days=29)
    await append(
        store,
        stream,
        *(
            RetentionReviewOverdue(
                request_id=request,
                review_id=kept,
                record_type=RecordType.SHARED_DECISION,
                due_at=at,
                notify=[Role.COMPLIANCE_OFFICER],
                escalated_at=at,
            )
            for at in (first_late, second_late)
        ),
        RecordRetained(
            request_id=request,
            review_id=kept,
            record_type=RecordType.SHARED_DECISION,
            reason=sealed(),
            next_review_on=date(2028, 1, 1),
            reviewed_by="u-officer-1",
            reviewed_at=NOW + timedelta(days=30),
        ),
        RecordDisposed(  # a second decision on the same review: the first one counts
            request_id=request,
            review_id=kept,
            record_type=RecordType.SHARED_DECISION,
            reason=DisposalReason.NO_LONGER_NECESSARY,
            disposed_by="u-officer-2",
            disposed_at=NOW + timedelta(days=31),
        ),
        RecordDisposed(
            request_id=request,
            review_id=disposed,
            record_type=RecordType.PACKAGE,
            reason=DisposalReason.RETENTION_PERIOD_ENDED,
            disposed_by="u-officer-2",
            disposed_at=NOW + timedelta(days=31),
        ),
    )

    # Two runners at once, in batches of 2: every review event applied exactly once.
    runners = [ReviewQueue(store, batch_size=2) for _ in range(2)]
    applied = await asyncio.gather(*(r.catch_up() for r in runners))
    assert sum(applied) == 7
    rows = await queue_rows(store)
    assert set(rows) == {kept, disposed}
    assert rows[kept]["status"] == "retained" and rows[kept]["decided_by"] == "u-officer-1"
    assert rows[kept]["escalated_at"] == first_late
    assert rows[kept]["next_review_on"] == date(2028, 1, 1)
    assert rows[disposed]["status"] == "disposed" and rows[disposed]["next_review_on"] is None
    assert rows[disposed]["record_type"] == "package" and rows[disposed]["escalated_at"] is None
    assert await ReviewQueue(store).catch_up() == 0

    # Idle: events of other kinds come and go, the queue's polls write nothing.
    position, updated_at = await checkpoint(store)
    for _ in range(3):
        await append(store, f"request:{uuid.uuid4()}", closed(request))
        assert await ReviewQueue(store).catch_up() == 0
    assert await checkpoint(store) == (position, updated_at)

    # Emptied and rewound (a rebuild, or migration 0007 on an older log): the same rows.
    async with store.engine.begin() as conn:
        await ReviewQueue(store).reset(conn)
    assert await queue_rows(store) == {}
    assert await ReviewQueue(store).catch_up() == 7
    assert await queue_rows(store) == rows
