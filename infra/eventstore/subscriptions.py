"""Followers of the log: the one exactly-once catch-up that every read model uses.

A follower is a named checkpoint plus two methods: ``read(after)`` returns the
events it needs after a position and the position that read *covered* (every
event it needs up to there is in the list), and ``apply(conn, events)`` writes
them through the batch's transaction. :meth:`CheckpointFollower.catch_up` is the template
that runs them:

1. read after the stored checkpoint (the next batch is read ahead while this
   one is applied, when the batch was full);
2. in one transaction, lock the checkpoint row (``FOR UPDATE``) and compare it
   with the position the batch was read after. If it moved, another runner
   applied that range, or a rebuild rewound it: the batch is dropped and the
   next round reads again from where the checkpoint is now. This is the one
   rewind behaviour of every follower;
3. otherwise apply the batch and move the checkpoint to ``covered``, committed
   together.

So a crash anywhere redoes at most an uncommitted batch, and two runners of the
same follower (a rolling deploy) never apply an event twice: the second waits
on the lock, then reads again. Events are read below the transaction-id
horizon (see ``store``), so none that commits late is ever skipped. A read
that found nothing the follower needs moves the checkpoint only once the range
it skipped is long (``IDLE_STRIDE``), so an idle poll writes nothing.

:meth:`CheckpointFollower.run` follows the log live, polling every ``poll_interval``
while it finds events and backing off to ``IDLE_POLL_S`` while it finds none; an
empty poll is one indexed query.
:meth:`CheckpointFollower.reset` empties the read model and rewinds the checkpoint in the
caller's transaction (a rebuild).
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import RecordedEvent
from infra.eventstore.store import EventStore

Batch = tuple[list[RecordedEvent], int]
"""What a follower's read returns: the events, and the position the read covered."""

IDLE_STRIDE = 1000 * 65536
"""Positions (a thousand transactions' worth) a follower may lag behind the log's end
when none of them holds an event it needs, so an idle poll writes nothing."""

Progress = Callable[[int], None]
"""Called with the running count of applied events after each committed batch."""


IDLE_POLL_S = 1.0
"""The longest pause between two polls of an idle follower."""


class CheckpointFollower(ABC):
    """An exactly-once follower of the log (see the module): subclasses give
    :meth:`read`, :meth:`apply` and :meth:`empty`; the template does the rest."""

    CHECKPOINT: str
    """The checkpoint's name (a row of ``projection_checkpoints``)."""
    BATCH: int
    """Events a batch holds at most, by default."""

    def __init__(
        self,
        store: EventStore,
        *,
        batch_size: int | None = None,
        poll_interval: float = 0.2,
        name: str | None = None,
    ) -> None:
        self.store = store
        self.name = name or self.CHECKPOINT
        self.batch_size = batch_size or self.BATCH
        self.poll_interval = poll_interval
        self._stopping = asyncio.Event()

    @abstractmethod
    async def read(self, after: int) -> Batch:
        """At most ``batch_size`` events this follower needs after ``after``, in position
        order, and the position the read covered: the last event's when the batch is full,
        else as far as the log is settled."""

    @abstractmethod
    async def apply(self, conn: AsyncConnection, events: list[RecordedEvent]) -> None:
        """Write ``events`` into the read model through ``conn`` (the batch's transaction)."""

    @abstractmethod
    async def empty(self, conn: AsyncConnection) -> None:
        """Delete every row of the read model (in the caller's transaction)."""

    async def position(self) -> int:
        """The position the read model has covered (0: nothing yet)."""
        async with self.store.connections.acquire() as raw:  # one round trip, no BEGIN
            value = await raw.fetchval(
                "SELECT position FROM projection_checkpoints WHERE name = $1", self.name
            )
        return int(value or 0)

    async def reset(self, conn: AsyncConnection) -> None:
        """Rewind the checkpoint and empty the read model, in the caller's transaction.

        The checkpoint row is locked first, so a runner mid-batch commits before the rows
        go; its next batch, read from the old checkpoint, is then dropped (see the module).
        """
        await rewind_checkpoint(conn, self.name)
        await self.empty(conn)

    async def catch_up(self, progress: Progress | None = None) -> int:
        """Apply every event available now; returns how many were applied here."""
        applied = 0
        after = await self.position()
        pending: asyncio.Task[Batch] | None = asyncio.create_task(self.read(after))
        try:
            while pending is not None and not self._stopping.is_set():
                events, covered = await pending
                pending = None
                if covered <= after or (not events and covered - after < IDLE_STRIDE):
                    break  # nothing new worth a write
                full = len(events) >= self.batch_size
                if full:  # more may follow: read it while this batch is written
                    pending = asyncio.create_task(self.read(covered))
                stored = await self._commit(events, after, covered)
                if stored != after:
                    # Moved by another runner, or rewound by a rebuild: read again from there.
                    if pending is not None:
                        pending.cancel()
                    after = stored
                    pending = asyncio.create_task(self.read(after))
                    continue
                applied += len(events)
                if progress is not None:
                    progress(applied)
                # A batch that is not full read up to the horizon: done for now (the horizon
                # moves on with every transaction, so "until nothing is left" never ends).
                after = covered
        finally:
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending
        return applied

    async def _commit(self, events: list[RecordedEvent], after: int, covered: int) -> int:
        """Apply a batch read after ``after`` and move the checkpoint to ``covered``, if the
        checkpoint is still at ``after``; returns the checkpoint found."""
        async with self.store.engine.begin() as conn:
            stored = await lock_checkpoint(conn, self.name)
            if stored == after:
                if events:
                    await self.apply(conn, events)
                await move_checkpoint(conn, self.name, covered)
        return stored

    async def run(self) -> None:
        """Follow the log until :meth:`stop`. A failed batch is rolled back and raises.

        Idle, the pause between polls doubles up to ``IDLE_POLL_S``; the first batch
        found brings it back to ``poll_interval``. (A command does not wait for this
        loop: it applies the log itself, ``app.consistency``.)"""
        self._stopping.clear()
        pause = self.poll_interval
        while not self._stopping.is_set():
            if await self.catch_up() == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), pause)
                pause = min(pause * 2, max(IDLE_POLL_S, self.poll_interval))
            else:
                pause = self.poll_interval

    def stop(self) -> None:
        """Finish the current batch, then return from :meth:`run` (and :meth:`catch_up`)."""
        self._stopping.set()


async def lock_checkpoint(conn: AsyncConnection, name: str) -> int:
    """Lock the follower's checkpoint row for this transaction (made at 0 if new) and
    return its position."""
    await conn.execute(
        text(
            "INSERT INTO projection_checkpoints (name, position) VALUES (:name, 0) "
            "ON CONFLICT (name) DO NOTHING"
        ),
        {"name": name},
    )
    stored = await conn.scalar(
        text("SELECT position FROM projection_checkpoints WHERE name = :name FOR UPDATE"),
        {"name": name},
    )
    return int(stored or 0)


async def move_checkpoint(conn: AsyncConnection, name: str, position: int) -> None:
    """Record, in the batch's transaction, that events up to ``position`` are applied."""
    await conn.execute(
        text(
            "UPDATE projection_checkpoints SET position = :position, updated_at = now() "
            "WHERE name = :name"
        ),
        {"name": name, "position": position},
    )


async def rewind_checkpoint(conn: AsyncConnection, name: str) -> None:
    """Set the checkpoint back to 0 (made if new), locking its row for this transaction."""
    await conn.execute(
        text(
            "INSERT INTO projection_checkpoints (name, position) VALUES (:name, 0) "
            "ON CONFLICT (name) DO UPDATE SET position = 0, updated_at = now()"
        ),
        {"name": name},
    )
