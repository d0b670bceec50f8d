"""Rows as stored: the canonical bytes every hash covers, and the fast decoder for reads.

Canonical bytes are defined by the database, once (``CANONICAL_SQL``): at
insert, PostgreSQL hashes ``concat_ws(E'\\n', stream_id, version, event_id,
event_type, schema_version, data::text, metadata::text, recorded_at as UTC
ISO-8601)`` behind the previous hash of the stream. Readers select the same
expression over the stored columns (``READ_COLUMNS``, behind the previous
hash), hash those bytes as they come off the wire, and parse every field of
the event (stream, version, id, type, schema version, data, metadata, time)
from the very bytes they hashed: nothing is re-serialised to be verified, and
nothing decoded escapes the check, which is what makes verifying every event
of a million-event replay cheap. ``stream_id`` and ``event_type`` may not hold
control characters (their domain, ``event_name``), and JSON text never holds a
raw newline, so the newline-joined form is unambiguous. The hash covers ciphertext only:
personal values are :class:`~domain.events.Sealed` before they get here.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from hashlib import sha256
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg.pgproto import pgproto
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import Event, EventMetadata, EventRegistry, RecordedEvent
from domain.events import UnknownEventType as DomainUnknownEventType
from infra.eventstore.binding import misplaced, relabel_moved, sealed_fields
from infra.eventstore.errors import TamperedEvent, UnknownEventType

ZERO_HASH = bytes(32)
"""The "previous hash" of every stream's first event."""

COLUMNS = (
    "position, stream_id, version, event_id, event_type, schema_version, "
    "data::text, metadata::text, recorded_at, prev_hash, hash, correlation_id"
)
"""What verify() selects, in this order (``row_hash`` rebuilds the canonical bytes from them)."""

HORIZON = "(SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 65536)"
"""The first position that may still belong to a running transaction (see store module)."""

CANONICAL_SQL = (
    "convert_to(concat_ws(E'\\n', {stream}, {version}, {event_id}, {event_type}, "
    "{schema_version}, {data}::text, {metadata}::text, "
    "to_char({recorded_at} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')), "
    "'UTF8')"
)

CHAINED_SQL = "prev_hash || " + CANONICAL_SQL.format(
    stream="stream_id",
    version="version",
    event_id="event_id",
    event_type="event_type",
    schema_version="schema_version",
    data="data",
    metadata="metadata",
    recorded_at="recorded_at",
)
"""A stored row's previous hash followed by its canonical bytes: what its hash covers."""

READ_COLUMNS = f"position, {CHAINED_SQL}, hash"
"""What reads select: the position, the previous hash followed by the canonical bytes (exactly
what the stored hash covers), and the hash. Every other field is parsed from those bytes (see
:meth:`Decoder.decode_rows`): three columns cost asyncpg half what the full row costs."""

Row = tuple[int, bytes, bytes]
"""One row of READ_COLUMNS: position, previous hash + canonical bytes, hash."""

_METADATA_CACHE_LIMIT = 4096
_HEADS_LIMIT = 1_000_000
_TIMES_LIMIT = 4096
_sha256 = sha256


def canonical_bytes(
    stream_id: str,
    version: int,
    event_id: UUID,
    event_type: str,
    schema_version: int,
    data_text: str,
    metadata_text: str,
    recorded_at: datetime,
) -> bytes:
    """The bytes an event's hash covers; must equal CANONICAL_SQL for the same row."""
    # One f-string, one encode: this runs for every event of every replay.
    return (
        f"{stream_id}\n{version}\n{event_id}\n{event_type}\n{schema_version}\n"
        f"{data_text}\n{metadata_text}\n{recorded_at.isoformat(timespec='microseconds')}"
    ).encode()


def row_hash(row: asyncpg.Record) -> bytes:
    """Recompute a row's hash from its stored previous hash and content."""
    body = canonical_bytes(row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8])
    return sha256(row[9] + body).digest()


async def _keep_session(conn: asyncpg.Connection) -> None:
    """On release, nothing to reset beyond what asyncpg always does (roll back an open
    transaction, drop listeners): the store never changes session settings, listens,
    takes session advisory locks or leaves cursors open. asyncpg's default reset query
    (``RESET ALL``, ``CLOSE ALL``, ``UNLISTEN *``, unlock all) would cost a round trip
    per append, read and batch."""


class Connections:
    """asyncpg connections acting exactly as the engine's connections do, pooled.

    Hot paths talk to asyncpg directly: binary protocol, prepared statement cache,
    no per-row SQLAlchemy processing, no pre-ping round trips on checkout (the
    SQLAlchemy pool pings inside a transaction: three round trips per append), and
    no reset query on release (see ``_keep_session``).
    The pool is made on first use from the engine's URL, acting as the role the
    engine's connections act as (the app role), and closed by :meth:`close`.
    """

    def __init__(self, engine: AsyncEngine, size: int) -> None:
        self._engine = engine
        self._size = size
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def _make_pool(self) -> asyncpg.Pool:
        async with self._lock:
            if self._pool is None:
                async with self._engine.connect() as conn:
                    row = (await conn.execute(text("SELECT current_user, session_user"))).one()
                settings = {} if row[0] == row[1] else {"role": str(row[0])}
                url = self._engine.url.set(drivername="postgresql")
                pool = await asyncpg.create_pool(
                    url.render_as_string(hide_password=False),
                    min_size=1,
                    max_size=self._size,
                    server_settings=settings,
                    reset=_keep_session,
                )
                assert pool is not None
                self._pool = pool
            return self._pool

    def acquire(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A pooled connection for an ``async with``: asyncpg's own acquire context once
        the pool exists (every call but the first), with no generator-based wrapper
        around it on the path of every append and read."""
        if self._pool is not None:
            acquired: AbstractAsyncContextManager[asyncpg.Connection] = self._pool.acquire()
            return acquired
        return self._first_acquire()

    @asynccontextmanager
    async def _first_acquire(self) -> AsyncIterator[asyncpg.Connection]:
        pool = await self._make_pool()
        async with pool.acquire() as conn:
            yield conn

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


class Decoder:
    """Turns rows into RecordedEvents, checking each hash and, where seen, its chain link.

    One per read: it remembers the last hash of the streams it has seen (bounded),
    caches one validator per (type, schema version), and caches parsed metadata
    by its bytes, which repeat across a request's events. Rows are those of
    ``READ_COLUMNS``: the hash is checked over the bytes exactly as the server
    returns them, and every field of the event (stream, version, id, type, schema
    version, data, metadata, time) is parsed from those same bytes, so what is
    decoded is exactly what was hashed.
    """

    def __init__(self, registry: EventRegistry, *, verify: bool = True) -> None:
        self._registry = registry
        self._verify = verify
        # By the (type, schema version) bytes of the canonical form: the names as str and
        # int, the validator for that version, and the fields that can hold sealed values.
        self._types: dict[tuple[bytes, bytes], _Typed] = {}
        self._metadata: dict[bytes, EventMetadata] = {}
        self._heads: dict[str, tuple[int, bytes]] = {}
        # By the canonical spelling of the instant: every event of one append shares its
        # transaction's now(), so most events find their recorded_at parsed already.
        self._times: dict[bytes, datetime] = {}

    def _validator(self, event_type: str, schema_version: int) -> Callable[[bytes], Event]:
        try:
            model = self._registry.model_for(event_type)
        except DomainUnknownEventType:
            raise UnknownEventType(event_type) from None
        if schema_version == model.schema_version:
            # Stored data was validated against this very model at append: pydantic
            # still validates it (cheaply, in Rust, straight from the wire bytes).
            return model.__pydantic_validator__.validate_json

        # An older version: parse, upcast step by step, validate.
        def validate(data: bytes, _t: str = event_type, _v: int = schema_version) -> Event:
            return self._registry.decode(_t, _v, json.loads(data))

        return validate

    def _type(self, key: tuple[bytes, bytes]) -> _Typed:
        event_type, schema_version = key[0].decode(), int(key[1])
        found = self._types[key] = (
            event_type,
            schema_version,
            self._validator(event_type, schema_version),
            sealed_fields(self._registry.model_for(event_type)),
        )
        return found

    def metadata(self, data: bytes) -> EventMetadata:
        found = self._metadata.get(data)
        if found is None:
            if len(self._metadata) >= _METADATA_CACHE_LIMIT:
                self._metadata.clear()
            found = self._metadata[data] = EventMetadata.model_validate_json(data)
        return found

    def decode(self, row: Row | asyncpg.Record) -> RecordedEvent:
        return self.decode_rows([row])[0]

    def decode_rows(self, rows: Iterable[Row] | Iterable[Any]) -> list[RecordedEvent]:
        """Decode READ_COLUMNS rows, in order; raises TamperedEvent on a bad hash or link.

        The cyclic garbage collector is paused while a batch is decoded (synchronously,
        nothing else runs meanwhile) and resumed after, whatever happens: a replay
        allocates several containers per event, none in a cycle, and otherwise pays
        for a collection every 700 allocations, full heap scans included: measured,
        two thirds of the decoding time. Refcounting frees everything as usual.
        """
        if not gc.isenabled():
            return self._decode_rows(rows)
        gc.disable()
        try:
            return self._decode_rows(rows)
        finally:
            gc.enable()

    def _decode_rows(self, rows: Iterable[Row] | Iterable[Any]) -> list[RecordedEvent]:
        # One tight loop with everything in locals: this runs for every event of every replay.
        out: list[RecordedEvent] = []
        append = out.append
        verify = self._verify
        heads = self._heads
        types = self._types
        metadata_cache = self._metadata
        times = self._times
        new, record, uuid, timestamp = _new, RecordedEvent, _UUID, _timestamp
        sha = _sha256
        for position, chained, digest in rows:
            if verify and sha(chained).digest() != digest:
                raise _tampered(chained, "content does not match its hash")
            # The canonical form is newline-joined and no field after the stream id may
            # hold a newline (CHECKs on the type, JSON text, digits, a uuid, a timestamp),
            # so the last seven newlines delimit the fields whatever the stream id holds.
            # Split in place (no copy of the row without its 32-byte previous hash): the
            # first part is that hash followed by the stream id.
            (stream, version_text, event_id, event_type, schema_version, data, meta,
             recorded_at) = chained.rsplit(b"\n", 7)  # fmt: skip
            stream_id = stream[32:].decode()
            version = int(version_text)
            if verify:
                prev = chained[:32]
                head = heads.get(stream_id)
                if head is None:
                    if version == 1 and prev != ZERO_HASH:
                        raise TamperedEvent(
                            stream_id, version, "first event does not start a chain"
                        )
                elif head[0] == version - 1 and head[1] != prev:
                    raise TamperedEvent(stream_id, version, "previous event's hash does not match")
                if len(heads) >= _HEADS_LIMIT:
                    heads.clear()  # bounded memory; verify() is the exhaustive check
                heads[stream_id] = (version, digest)
            key = (event_type, schema_version)
            typed = types.get(key)
            if typed is None:
                typed = self._type(key)
            metadata = metadata_cache.get(meta)
            if metadata is None:
                metadata = self.metadata(meta)
            event = typed[2](data)
            at = times.get(recorded_at)
            if at is None:
                if len(times) >= _TIMES_LIMIT:
                    times.clear()
                at = times[recorded_at] = timestamp(recorded_at.decode())
            append(
                new(
                    record,
                    (
                        position,
                        stream_id,
                        version,
                        (event_uuid := uuid(event_id.decode())),
                        typed[0],
                        typed[1],
                        (
                            relabel_moved(event, stream_id, event_uuid, typed[0])
                            if typed[3]
                            and misplaced(event, typed[3], stream[32:], event_id, event_type)
                            else event
                        ),
                        metadata,
                        at,
                        digest,
                    ),
                )
            )
        return out


def _tampered(chained: bytes, reason: str) -> TamperedEvent:
    """Name the event a bad row claims to be, as far as its bytes still say (slow path)."""
    stream, _, rest = chained[32:].partition(b"\n")
    version = rest.partition(b"\n")[0]
    return TamperedEvent(
        stream.decode(errors="replace"), int(version) if version.isdigit() else 0, reason
    )


_Typed = tuple[str, int, Callable[[bytes], Event], tuple[tuple[str, bytes], ...]]
"""An event type as the decoder keeps it: its name, schema version, validator, and the
fields that can hold sealed values (``binding.sealed_fields``)."""
_new = tuple.__new__
"""RecordedEvent(...) without the named tuple's keyword handling: every value comes from
bytes whose hash was just checked or from a validated model."""
_UUID = pgproto.UUID
"""asyncpg's UUID (a uuid.UUID subclass, what a uuid column comes back as): parsed in C, 5x
faster than uuid.UUID(str)."""
_timestamp = datetime.fromisoformat
"""The canonical form spells instants ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (see
CANONICAL_SQL), which fromisoformat reads back to the same aware UTC datetime."""
