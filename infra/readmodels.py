"""The read models: the request list, each agency's progress and the open tasks.

A projection of the event store, fed batch by batch and exactly once per event
by :class:`Projection` (checkpoint ``read_models``): each batch is folded in
memory with the same pure functions the workflows use (``evolve_request``,
``evolve``, ``open_tasks``), then every row it changed is written in bulk, in
the transaction that moves the checkpoint, so the tables are always the fold
of a prefix of the log. :func:`rebuild` empties them and replays the whole log
through the same code with larger batches; the result equals the live tables.

The retention review queue (``rm_reviews``) is a read model of its own, with its own
checkpoint (``infra.review_queue``); :class:`ProjectionRunner` runs both, and
:func:`rebuild` rebuilds both.

Streams read: ``request:{id}`` (the request) and ``request:{id}:agency:{code}``
(one holding agency's decision), plus the ``retention.subject_erased`` event
from ``retention:{id}``. Every other stream (``access:``, system streams) is
skipped. A task's id is ``{request_id}:{holder}:{kind}:{version}``, ``holder``
being the holding agency whose decision workflow owns the task and ``version``
that agency stream's version after the event; an acknowledgement task's
``agency`` is the recipient agency, whose people act on it.

Erasure: when the subject's key is destroyed (``SubjectErased``), every sealed
value in the request's stored states is replaced by the erased marker
(``{"erased": true}``) and the request is marked ``erased``; its rows keep
every id, role, enum and instant (who decided what, when, on which basis) and
take no further events. :func:`forget_request` (run by the disposal itself) does
the same to the current rows, so it does not matter which of the two comes first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from uuid import UUID

import structlog
from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.events import (
    RecordedEvent,
)
from infra import review_queue
from infra.eventstore import EventStore
from infra.eventstore.subscriptions import Batch, CheckpointFollower
from infra.readmodel_rows import _load, _write, apply_batch

log = structlog.get_logger(__name__)

PROJECTION = "read_models"
TABLES = ("rm_tasks", "rm_agency_decisions", "rm_requests")
"""Children first, so deleting in this order never trips a foreign key."""

LIVE_BATCH = 500
REBUILD_BATCH = 5000
"""Events per transaction. A rebuild folds more at once: fewer round trips, and most of
a request's events then fall in one batch, so its rows are written once."""

Progress = Callable[[int, int], None]
"""Called with (events applied, events in the log) while rebuilding."""


# -- feeding the projection exactly once -----------------------------------------------------


class Projection(CheckpointFollower):
    """Feeds the read models every event exactly once, a batch per transaction
    (the catch-up of ``infra.eventstore.subscriptions``): each batch is read whole
    (``EventStore.read_batch``), folded in memory and written in bulk."""

    CHECKPOINT = PROJECTION
    BATCH = LIVE_BATCH

    async def read(self, after: int) -> Batch:
        return await self.store.read_batch(after, self.batch_size)

    async def apply(self, conn: AsyncConnection, events: list[RecordedEvent]) -> None:
        await apply_batch(conn, events)

    async def empty(self, conn: AsyncConnection) -> None:
        for table in TABLES:
            await conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names


class ProjectionRunner:
    """Keeps the read models live: follows the log until :meth:`stop`.

    Two followers, each with its own checkpoint: the request read models
    (:class:`Projection`) and the retention review queue (``infra.review_queue``).
    """

    def __init__(self, store: EventStore, *, poll_interval: float = 0.2) -> None:
        self.projection = Projection(store, poll_interval=poll_interval)
        self.reviews = review_queue.ReviewQueue(store, poll_interval=poll_interval)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.retry_after_s = 5.0

    async def catch_up(self) -> int:
        """Apply every event available now; returns how many the request models applied."""
        applied = await self.projection.catch_up()
        await self.reviews.catch_up()
        return applied

    async def run(self) -> None:
        """Follow the log; a failed batch is rolled back, logged and retried after a pause."""
        await asyncio.gather(
            self._follow(self.projection, "read_models_batch_failed"),
            self._follow(self.reviews, "review_queue_batch_failed"),
        )

    async def _follow(self, follower: CheckpointFollower, failure: str) -> None:
        while not self._stopping:
            try:
                await follower.run()
            except Exception:
                log.exception(failure)
                await asyncio.sleep(self.retry_after_s)

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name="read_models")
        return self._task

    async def stop(self) -> None:
        """Let the current batches commit, then return (re-raising a failure of the loop)."""
        self._stopping = True
        self.projection.stop()
        self.reviews.stop()
        if self._task is not None:
            task, self._task = self._task, None
            await task


async def reset(store: EventStore) -> None:
    """Empty the read models and rewind their checkpoints, in one transaction (the
    retention review queue, ``infra.review_queue``, with its own checkpoint, too).

    Each checkpoint row is locked first, so a live runner finishes its batch before the
    tables empty and then starts again from the beginning with this rebuild.
    """
    async with store.engine.begin() as conn:
        for follower in followers(store):
            await follower.reset(conn)


def followers(store: EventStore) -> tuple[Projection, review_queue.ReviewQueue]:
    """Every follower of the log that keeps a read model."""
    return Projection(store), review_queue.ReviewQueue(store)


async def rebuild(
    store: EventStore,
    progress: Progress | None = None,
    *,
    batch_size: int = REBUILD_BATCH,
) -> int:
    """Drop every read-model row and replay the whole log; returns the events the rebuilt
    tables reflect.

    A live runner (a worker's or an API's) may share the work: the checkpoint is shared
    and each event is applied once, by whichever gets there first. So the count returned
    is of the log up to the checkpoint reached, whoever applied it, not only what this
    call applied. Memory stays bounded by one batch: nothing is kept between batches
    but the checkpoint, so a request whose events span batches is read back from its rows.
    """
    engine = store.engine
    async with engine.connect() as conn:
        total = int(await conn.scalar(text("SELECT count(*) FROM events")) or 0)
    await reset(store)

    def applied_batch(done: int) -> None:
        if progress is not None:
            progress(done, max(total, done))

    applied = await Projection(store, batch_size=batch_size).catch_up(applied_batch)
    await review_queue.ReviewQueue(store).catch_up()  # its own pass: its own checkpoint
    async with engine.connect() as conn:
        covered = int(
            await conn.scalar(
                text(
                    "SELECT count(*) FROM events WHERE position <= "
                    "(SELECT position FROM projection_checkpoints WHERE name = :name)"
                ),
                {"name": PROJECTION},
            )
            or 0
        )
    applied_batch(max(applied, covered))
    log.info("read_models_rebuilt", events=covered, applied_here=applied)
    return covered


async def forget_request(conn: AsyncConnection, request_id: UUID) -> None:
    """For retention disposal: erase the request's stored states now, as the projection
    does when it reaches ``SubjectErased`` (idempotent: whichever of the two runs first,
    the rows end the same)."""
    batch = await _load(conn, {request_id})
    request = batch.requests.get(request_id)
    if request is None:  # unknown, or erased already
        return
    request.erased = True
    await _write(conn, [request])


async def snapshot(engine: AsyncEngine) -> dict[str, list[RowMapping]]:
    """Every read-model row, in a stable order (for comparing live and rebuilt tables)."""
    keys = {
        "rm_requests": "request_id",
        "rm_agency_decisions": "request_id, agency",
        "rm_tasks": "task_id",
        review_queue.TABLE: "review_id",
    }
    out: dict[str, list[RowMapping]] = {}
    async with engine.connect() as conn:
        for table, order in keys.items():
            result = await conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))  # noqa: S608
            out[table] = list(result.mappings().all())
    return out
