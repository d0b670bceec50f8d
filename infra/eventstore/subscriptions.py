"""Subscriptions: projections catch up from a stored checkpoint and apply each event once.

A batch of events and the projection's checkpoint are committed in one
transaction, after the checkpoint row is locked (``FOR UPDATE``) and events
at or below the stored position are skipped. So a crash anywhere redoes at
most an uncommitted batch, and two runners of the same projection (a
rolling deploy) never apply an event twice: the second waits on the lock and
then skips what the first applied. Events are read below the transaction-id
horizon (see ``store``), so none that commits late is ever skipped.

Live mode polls (``poll_interval``); an empty poll is one indexed query.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import RecordedEvent
from infra.eventstore.store import EventStore

Handler = Callable[[AsyncConnection, RecordedEvent], Awaitable[None]]
"""Applies one event to a read model through the given connection (in the batch's transaction)."""


class CheckpointFollower(ABC):
    """What every exactly-once follower of the log shares: its named checkpoint, the
    follow loop and stopping. Subclasses say how a catch-up reads and applies."""

    def __init__(
        self, store: EventStore, name: str, *, batch_size: int, poll_interval: float
    ) -> None:
        self._store = store
        self.name = name
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._stopping = asyncio.Event()

    async def position(self) -> int:
        """The position of the last event applied (0: none yet)."""
        async with self._store.engine.connect() as conn:
            value = await conn.scalar(
                text("SELECT position FROM projection_checkpoints WHERE name = :name"),
                {"name": self.name},
            )
        return int(value or 0)

    @abstractmethod
    async def catch_up(self) -> int:
        """Apply every event available now; returns how many were applied."""

    async def run(self) -> None:
        """Follow the log until :meth:`stop`. A failed batch is rolled back and raises."""
        self._stopping.clear()
        while not self._stopping.is_set():
            if await self.catch_up() == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._poll_interval)

    def stop(self) -> None:
        """Finish the current batch, then return from :meth:`run`."""
        self._stopping.set()


class Subscription(CheckpointFollower):
    """Feeds a projection's handler every event exactly once, from its checkpoint on."""

    def __init__(
        self,
        store: EventStore,
        name: str,
        handler: Handler,
        *,
        batch_size: int = 500,
        poll_interval: float = 0.2,
    ) -> None:
        super().__init__(store, name, batch_size=batch_size, poll_interval=poll_interval)
        self._handler = handler

    async def catch_up(self) -> int:
        """Apply every event available now; returns how many were applied."""
        applied = 0
        decoder = self._store.decoder()
        while not self._stopping.is_set():
            after = await self.position()
            rows = await self._store._fetch_after(after, self._batch_size)
            if not rows:
                return applied
            events = decoder.decode_rows(rows)
            applied += await self._apply(events, after)
        return applied

    async def _apply(self, events: list[RecordedEvent], after: int) -> int:
        """Apply a batch read after position ``after``. If the checkpoint went back
        meanwhile (a rebuild emptied the read model), nothing is applied: the next
        round reads again from where the checkpoint is now."""
        applied = 0
        async with self._store.engine.begin() as conn:
            stored = await lock_checkpoint(conn, self.name)
            if stored < after:
                return 0
            for recorded in events:
                if recorded.position > stored:  # another runner may have applied it already
                    await self._handler(conn, recorded)
                    applied += 1
            await move_checkpoint(conn, self.name, max(stored, events[-1].position))
        return applied


async def lock_checkpoint(conn: AsyncConnection, name: str) -> int:
    """Lock the projection's checkpoint row for this transaction (made at 0 if new) and
    return its position: events at or below it were applied already."""
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
    """Set the projection's checkpoint back to 0 (made if new), locking its row for this
    transaction: a runner mid-batch finishes first, then finds it rewound (a rebuild)."""
    await conn.execute(
        text(
            "INSERT INTO projection_checkpoints (name, position) VALUES (:name, 0) "
            "ON CONFLICT (name) DO UPDATE SET position = 0, updated_at = now()"
        ),
        {"name": name},
    )
