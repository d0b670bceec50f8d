"""The event store: append with optimistic concurrency and idempotency, read, follow.

Global position. A plain sequence is the known trap: numbers are taken at
insert but become visible at commit, so a follower that has read position 11
can later see 10 commit and never look back. Two cures were measured on this
machine (bench/eventstore.py, docs/performance.md):

- serialised append (an advisory lock held to commit, position = max + 1):
  gapless and commit-ordered, but every append waits for the previous one's
  commit flush: 3,200 events/s at 8 writers;
- a transaction-id horizon: 7,100 events/s at 8 writers on the same table
  shape, because commits overlap and share WAL flushes (group commit).

We use the horizon. A position is ``pg_current_xact_id() * 65536 + n`` for
the n-th event of the appending transaction, so position order is
transaction-id order, and readers only read below ``pg_snapshot_xmin``
times 65536: every transaction with a smaller id has ended, so nothing can
later appear below that line. Followers see every committed event exactly
once, in position order. The costs, accepted: positions have gaps (they
carry no meaning, and verify() relies on hash chains and checkpoints, not on
gaps); a transaction left open anywhere on the server holds followers back
until it ends (``idle_in_transaction_session_timeout`` bounds that); and
one append is one transaction, at most 65535 events.

Appends go through database functions that compute the position, the time and
the hashes (see ``append``).

``read_stream`` and ``read_correlation`` return all committed events, with
no horizon (read-your-writes); ``read_all`` and subscriptions, which keep a
position, read below the horizon.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import EventRegistry, RecordedEvent, registry
from infra.eventstore.anchor import DirectoryAnchor
from infra.eventstore.append import VERSION_SQL, Appender, check_stream_id
from infra.eventstore.binding import bind_events
from infra.eventstore.model import (
    SYSTEM_PREFIX,
    AppendedBatch,
    Checkpoint,
    NewEvent,
    VerifyReport,
)
from infra.eventstore.read_sql import (
    ALL_ARRAYS_SQL,
    CORRELATION_SQL,
    RANGE_ARRAYS_SQL,
    STREAM_SQL,
    TYPES_SQL,
)
from infra.eventstore.rows import (
    HORIZON,
    Connections,
    Decoder,
    Row,
)

if TYPE_CHECKING:
    from infra.crypto import Keyring, KeySession

_T = TypeVar("_T")
_DECODE_CHUNK = 20
"""Rows decoded at a time by read_all. Small on purpose: the decoded events still waiting to
be yielded are what a young-generation collection (run by the consumer's own allocations)
finds alive and promotes; promoted objects are what set off full collections of the whole
heap. Measured on a 200,000-event replay: 10 full collections with 200, 3 with 20, about
0.6 s of collector time less; the per-slice overhead is negligible."""

_LOOP_EVERY = 25
"""Slices read_all decodes between two visits to the event loop (see read_all)."""


class EventStore:
    """The append-only, hash-chained event log (see the module for the position strategy)."""

    def __init__(
        self,
        engine: AsyncEngine,
        registry: EventRegistry = registry,
        *,
        keyring: Keyring | None = None,
        pool_size: int | None = None,
        anchor: DirectoryAnchor | None = None,
    ) -> None:
        """``pool_size``: the store's own asyncpg connections; by default as many as the
        engine's pool holds (``MASHFLOW_DATABASE_POOL_SIZE`` through ``infra.db``)."""
        self.engine = engine
        self.anchor = anchor
        """Where checkpoints are also written, and verify compares them (``anchor``)."""
        self.registry = registry
        self.keyring = keyring
        self.connections = Connections(engine, pool_size or _engine_pool_size(engine))
        self._appender = Appender(self.connections, registry)

    async def close(self) -> None:
        """Close the store's own connections (the engine stays the caller's)."""
        await self.connections.close()

    # -- writing --------------------------------------------------------------------------

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendedBatch:
        """Append a batch atomically after ``expected_version`` (0: new stream; ANY_VERSION).

        Safe to retry: a batch already stored with identical content returns its
        original positions, even if ``expected_version`` is stale by now.
        """
        check_stream_id(stream_id)
        bound = await bind_events(self.keyring, stream_id, events, self.connections)
        return await self._appender.append(stream_id, expected_version, bound)

    async def append_system(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendedBatch:
        """Append to one of the store's own streams (``$checkpoints``), as :meth:`append`.

        Only names starting with ``$`` are taken, so an application stream never goes
        through here and a system stream never through :meth:`append`.
        """
        if not stream_id.startswith(SYSTEM_PREFIX):
            raise ValueError(f"system stream ids start with {SYSTEM_PREFIX!r}")
        return await self._appender.append(stream_id, expected_version, events)

    # -- reading --------------------------------------------------------------------------

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0: no such stream)."""
        async with self.connections.acquire() as raw:
            return int(await raw.fetchval(VERSION_SQL, stream_id))

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        async with self.connections.acquire() as raw:
            rows = await raw.fetch(STREAM_SQL, stream_id, from_version)
        return self.decoder().decode_rows(rows)

    async def read_correlation(self, correlation_id: UUID) -> list[RecordedEvent]:
        """Every event of one request, across its streams, in position order."""
        async with self.connections.acquire() as raw:
            rows = await raw.fetch(CORRELATION_SQL, correlation_id)
        return self.decoder().decode_rows(rows)

    async def read_all(
        self,
        from_position: int = 0,
        batch_size: int = 2000,
        *,
        live: bool = False,
        poll_interval: float = 0.05,
        verify: bool = True,
        keys: KeySession | None = None,
    ) -> AsyncIterator[RecordedEvent]:
        """Every event after ``from_position``, in position order, streamed in batches.

        Stops when caught up, unless ``live``: then it keeps following until the
        consumer stops iterating. Each event's hash is checked unless ``verify``
        is False. The next batch is fetched while this one is decoded. With ``keys``,
        a consumer that opens sealed values with that session gets the keys of every
        subject a batch mentions in one query, the first time one of them is missing
        (``keys.open``; ``keys.open_loaded`` for the keys already loaded): one round
        trip per batch that brings new subjects instead of one per subject.
        """
        decoder = self.decoder(verify=verify)
        batches = self._chunk_batches(from_position, batch_size, live, poll_interval)
        async for chunks in batches:
            if keys is not None:
                keys.expect(_stored_texts(chunks))
            # Decoded a slice at a time: few decoded events are alive at once, so the
            # garbage collector has little to scan or promote (see _DECODE_CHUNK).
            for n, (positions, chained, hashes) in enumerate(chunks):
                if n and not n % _LOOP_EVERY:
                    # Back to the event loop now and then, so the prefetched batch is read
                    # off the socket meanwhile: a consumer that awaits nothing between
                    # events would otherwise not return to the loop until the batch ends.
                    await asyncio.sleep(0)
                for recorded in decoder.decode_rows(zip(positions, chained, hashes, strict=True)):
                    yield recorded

    async def read_all_batches(
        self,
        from_position: int = 0,
        batch_size: int = 2000,
        *,
        live: bool = False,
        poll_interval: float = 0.05,
        verify: bool = True,
        keys: KeySession | None = None,
    ) -> AsyncIterator[list[RecordedEvent]]:
        """As :meth:`read_all`, a list per batch: for bulk consumers (projections, exports).

        Same events, same order, same checks; it saves the per-event generator step
        and lets the consumer do per-batch work once (such as
        ``KeySession.load`` of the batch's subjects, which ``keys`` does as in read_all).
        """
        decoder = self.decoder(verify=verify)
        decode = decoder.decode_rows
        batches = self._chunk_batches(from_position, batch_size, live, poll_interval)
        async for chunks in batches:
            if keys is not None:
                keys.expect(_stored_texts(chunks))
            yield [e for columns in chunks for e in decode(zip(*columns, strict=True))]

    async def _chunk_batches(
        self, after: int, batch_size: int, live: bool, poll_interval: float
    ) -> AsyncIterator[list[Slice]]:
        """Batches of rows below the horizon, one fetched ahead, each in slices of
        ``_DECODE_CHUNK`` rows."""
        async for chunks in self._prefetched(
            after,
            lambda a: self._fetch_chunks_after(a, batch_size),
            lambda chunks: chunks[-1][0][-1],
            live,
            poll_interval,
        ):
            yield chunks

    @staticmethod
    async def _prefetched(
        after: int,
        fetch: Callable[[int], Coroutine[Any, Any, list[_T]]],
        last_position: Callable[[list[_T]], int],
        live: bool,
        poll_interval: float,
    ) -> AsyncIterator[list[_T]]:
        """Batches from ``fetch(after)``, one fetched ahead, ``after`` moving on each time."""
        pending = asyncio.create_task(fetch(after))
        try:
            while True:
                batch = await pending
                if batch:
                    after = last_position(batch)
                    pending = asyncio.create_task(fetch(after))
                    await asyncio.sleep(0)  # let the prefetch send its query now
                    yield batch
                elif live:
                    await asyncio.sleep(poll_interval)
                    pending = asyncio.create_task(fetch(after))
                else:
                    return
        finally:
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending

    async def wait_visible(self, position: int, within_s: float = 10.0) -> None:
        """Wait until readers of the log (``read_all``, subscriptions) can see ``position``.

        A committed event stays below the horizon only while an older transaction
        anywhere on the server is still open; callers that must read their own write
        through the log (tests, a projection awaited by a request) wait here.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        async with self.connections.acquire() as raw:
            while int(await raw.fetchval(f"SELECT {HORIZON}")) <= position:
                if loop.time() > deadline:
                    raise TimeoutError(f"position {position} not visible within {within_s}s")
                await asyncio.sleep(0.02)

    async def read_batch(self, after: int, limit: int) -> tuple[list[RecordedEvent], int]:
        """Settled events after position ``after``, at most ``limit``, in position order,
        hash-checked; and the position the read covered: the last event's when the limit
        was reached, else the horizon's (for followers, ``infra.eventstore.subscriptions``)."""
        async with self.connections.acquire() as raw:
            horizon = int(await raw.fetchval(f"SELECT {HORIZON}"))
            positions, chained, hashes = await raw.fetchrow(
                RANGE_ARRAYS_SQL.format(limit=limit), after, horizon
            )
        if positions is None:
            return [], max(after, horizon - 1)
        decode = self.decoder().decode_rows
        events = [
            e
            for columns in _slices(positions, chained, hashes)
            for e in decode(zip(*columns, strict=True))
        ]
        if len(events) == limit:
            return events, events[-1].position
        return events, max(after, horizon - 1)

    async def read_types(
        self, after: int, event_types: Sequence[str], limit: int
    ) -> tuple[list[RecordedEvent], int]:
        """Settled events of ``event_types`` after position ``after``, at most ``limit``,
        in position order, hash-checked; and the position the read covered: every event
        of those types up to it is in the list. That is the last event's position when
        the limit was reached, else the horizon's (so a follower moves past the rest of
        the log without reading it)."""
        async with self.connections.acquire() as raw:
            horizon = int(await raw.fetchval(f"SELECT {HORIZON}"))
            rows = await raw.fetch(TYPES_SQL.format(limit=limit), after, horizon, list(event_types))
        events = self.decoder().decode_rows(rows)
        if len(events) == limit:
            return events, events[-1].position
        return events, max(after, horizon - 1)

    async def _fetch_chunks_after(self, after: int, limit: int) -> list[Slice]:
        async with self.connections.acquire() as raw:
            positions, chained, hashes = await raw.fetchrow(
                ALL_ARRAYS_SQL.format(limit=limit), after
            )
        if positions is None:
            return []
        return _slices(positions, chained, hashes)

    def decoder(self, *, verify: bool = True) -> Decoder:
        return Decoder(self.registry, verify=verify)

    # -- integrity and erasure ------------------------------------------------------------

    async def checkpoint(self) -> Checkpoint:
        """Hash every stream head that changed since the last checkpoint into a new one."""
        from infra.eventstore.integrity import take_checkpoint

        return await take_checkpoint(self)

    async def verify(
        self,
        progress: Callable[[int, int], None] | None = None,
        *,
        trusted_digest: str | None = None,
    ) -> VerifyReport:
        """Walk the whole log and report every broken link (see ``integrity``)."""
        from infra.eventstore.integrity import verify_log

        return await verify_log(self, progress, trusted_digest)

    async def erase_subject(self, subject_id: UUID) -> None:
        """Crypto-shred a data subject: events stay and verify, their sealed values open ERASED."""
        if self.keyring is None:
            raise ValueError("this EventStore was built without a keyring")
        await self.keyring.erase_subject(subject_id)


Slice = tuple[list[int], list[bytes], list[bytes]]
"""``_DECODE_CHUNK`` rows of a batch as three columns: positions, chained bytes, hashes."""


def _slices(positions: list[int], chained: list[bytes], hashes: list[bytes]) -> list[Slice]:
    """A batch in slices of ``_DECODE_CHUNK`` rows, in position order whatever order the
    aggregate kept. Columns are sliced, not zipped into a tuple per row: the decoder zips
    each slice as it goes, and zip reuses one tuple when the loop lets go of it."""
    if positions != sorted(positions):
        rows = sorted(zip(positions, chained, hashes, strict=True), key=_position)
        positions, chained, hashes = (
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
        )
    chunk = _DECODE_CHUNK
    return [
        (positions[i : i + chunk], chained[i : i + chunk], hashes[i : i + chunk])
        for i in range(0, len(positions), chunk)
    ]


def _stored_texts(chunks: list[Slice]) -> Iterator[bytes]:
    """A batch's stored bytes, lazily: a key session reads them only if a key is missing."""
    return (text for _, texts, _ in chunks for text in texts)


def _position(row: Row) -> int:
    return row[0]


def _engine_pool_size(engine: AsyncEngine) -> int:
    size = getattr(engine.sync_engine.pool, "size", None)
    return int(size()) if callable(size) else 5
