"""Rows as stored: the canonical bytes every hash covers, and the fast decoder for reads.

Canonical bytes are defined by the database, once: at insert, PostgreSQL
hashes ``concat_ws(E'\\n', stream_id, version, event_id, event_type,
schema_version, data::text, metadata::text, recorded_at as UTC ISO-8601)``
behind the previous hash of the stream. Readers select ``data::text`` and
``metadata::text`` and rebuild the same bytes from the wire without parsing
or re-serialising anything, which is what makes verifying every event on a
million-event replay cheap. ``stream_id`` and ``event_type`` may not hold
control characters (a CHECK), and JSON text never holds a raw newline, so
the newline-joined form is unambiguous. The hash covers ciphertext only:
personal values are :class:`~domain.events.Sealed` before they get here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from hashlib import sha256
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import Event, EventMetadata, EventRegistry, RecordedEvent
from domain.events import UnknownEventType as DomainUnknownEventType
from infra.eventstore.errors import TamperedEvent, UnknownEventType

ZERO_HASH = bytes(32)
"""The "previous hash" of every stream's first event."""

COLUMNS = (
    "position, stream_id, version, event_id, event_type, schema_version, "
    "data::text, metadata::text, recorded_at, prev_hash, hash, correlation_id"
)
"""Every read selects these, in this order (the decoder indexes rows by place)."""

HORIZON = "(SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 65536)"
"""The first position that may still belong to a running transaction (see store module)."""

CANONICAL_SQL = (
    "convert_to(concat_ws(E'\\n', {stream}, {version}, {event_id}, {event_type}, "
    "{schema_version}, {data}::text, {metadata}::text, "
    "to_char({recorded_at} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')), "
    "'UTF8')"
)

_METADATA_CACHE_LIMIT = 4096


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


class Connections:
    """asyncpg connections acting exactly as the engine's connections do, pooled.

    Hot paths talk to asyncpg directly: binary protocol, prepared statement cache,
    no per-row SQLAlchemy processing, and no pre-ping round trips on checkout (the
    SQLAlchemy pool pings inside a transaction: three round trips per append).
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
                    row = (
                        await conn.execute(text("SELECT current_user, session_user"))
                    ).one()
                settings = {} if row[0] == row[1] else {"role": str(row[0])}
                url = self._engine.url.set(drivername="postgresql")
                pool = await asyncpg.create_pool(
                    url.render_as_string(hide_password=False),
                    min_size=1,
                    max_size=self._size,
                    server_settings=settings,
                )
                assert pool is not None
                self._pool = pool
            return self._pool

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        pool = self._pool or await self._make_pool()
        async with pool.acquire() as conn:
            yield conn

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


class Decoder:
    """Turns rows into RecordedEvents, checking each hash and, where seen, its chain link.

    One per read: it remembers the last hash of the streams it has seen (bounded),
    and caches parsed metadata by text, which repeats across a request's events.
    """

    def __init__(self, registry: EventRegistry, *, verify: bool = True) -> None:
        self._registry = registry
        self._verify = verify
        self._models: dict[str, type[Event]] = {}
        self._metadata: dict[str, EventMetadata] = {}
        self._heads: dict[str, tuple[int, bytes]] = {}

    def _model(self, event_type: str) -> type[Event]:
        model = self._models.get(event_type)
        if model is None:
            try:
                model = self._registry.model_for(event_type)
            except DomainUnknownEventType:
                raise UnknownEventType(event_type) from None
            self._models[event_type] = model
        return model

    def event(self, event_type: str, schema_version: int, data_text: str) -> Event:
        model = self._model(event_type)
        if schema_version == model.schema_version:
            # The common case: pydantic parses the JSON text itself, no dict in between.
            return model.model_validate_json(data_text)
        data: dict[str, Any] = json.loads(data_text)
        return self._registry.decode(event_type, schema_version, data)

    def metadata(self, text: str) -> EventMetadata:
        found = self._metadata.get(text)
        if found is None:
            if len(self._metadata) >= _METADATA_CACHE_LIMIT:
                self._metadata.clear()
            found = self._metadata[text] = EventMetadata.model_validate_json(text)
        return found

    def check(self, row: asyncpg.Record) -> None:
        stream_id: str = row[1]
        version: int = row[2]
        prev: bytes = row[9]
        digest: bytes = row[10]
        if row_hash(row) != digest:
            raise TamperedEvent(stream_id, version, "content does not match its hash")
        head = self._heads.get(stream_id)
        if head is None:
            if version == 1 and prev != ZERO_HASH:
                raise TamperedEvent(stream_id, version, "first event does not start a chain")
        elif head[0] == version - 1 and head[1] != prev:
            raise TamperedEvent(stream_id, version, "previous event's hash does not match")
        if len(self._heads) >= 1_000_000:
            self._heads.clear()  # bounded memory; verify() is the exhaustive check
        self._heads[stream_id] = (version, digest)

    def decode(self, row: asyncpg.Record) -> RecordedEvent:
        if self._verify:
            self.check(row)
        return _recorded(
            {
                "position": row[0],
                "stream_id": row[1],
                "version": row[2],
                "event_id": row[3],
                "event_type": row[4],
                "schema_version": row[5],
                "event": self.event(row[4], row[5], row[6]),
                "metadata": self.metadata(row[7]),
                "recorded_at": row[8],
                "hash": row[10].hex(),
            }
        )


_RECORDED_FIELDS = frozenset(RecordedEvent.model_fields)
_new = object.__new__
_set = object.__setattr__


def _recorded(values: dict[str, Any]) -> RecordedEvent:
    """RecordedEvent.model_construct without its per-call bookkeeping (3x faster).

    Every value comes from a typed column or a validated model, so validation
    would only repeat work; this sets what model_construct sets, nothing else.
    """
    recorded: RecordedEvent = _new(RecordedEvent)
    _set(recorded, "__dict__", values)
    _set(recorded, "__pydantic_fields_set__", _RECORDED_FIELDS)
    _set(recorded, "__pydantic_extra__", None)
    _set(recorded, "__pydantic_private__", None)
    return recorded
