"""Appending: the database computes every field a forger would want to choose.

The application role cannot INSERT into ``events`` (migration 0008). It calls
``mashflow_append_one`` (one event, the common case: scalar parameters) or
``mashflow_append`` (a batch: arrays), ``SECURITY DEFINER`` functions that read
the stream's head, check the expected version, and write the position (from the
transaction id, see ``store``), ``recorded_at = now()``, the previous hash, the
hash over the canonical bytes (``rows.CANONICAL_SQL``) and the correlation id
(from the metadata). The caller supplies only the stream, the expected version
and each event's id, type, schema version, data and metadata. Each call is one
statement: one round trip, one implicit transaction.

A stale expected version inserts nothing and returns no row. Whatever goes wrong
is sorted out afterwards on a slow path: an identical batch already stored is a
retry and returns the original positions; a reused event id with other content is
an :class:`EventIdConflict`; anything else is a :class:`ConcurrencyError`.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Sequence

import asyncpg

from domain.events import Event, EventRegistry
from infra.eventstore.errors import ConcurrencyError, EventIdConflict, UnknownEventType
from infra.eventstore.model import ANY_VERSION, MAX_BATCH, SYSTEM_PREFIX, AppendedBatch, NewEvent
from infra.eventstore.rows import Connections

APPEND_ONE_SQL = (
    "SELECT appended_position, appended_version FROM mashflow_append_one("
    "$1::text, $2::int, $3::uuid, $4::text, $5::int, $6::text, $7::text)"
)
"""One event: every parameter cast, so the prepared statement matches the one signature."""

APPEND_SQL = (
    "SELECT appended_position, appended_version FROM mashflow_append("
    "$1::text, $2::int, $3::uuid[], $4::text[], $5::int[], $6::text[], $7::text[])"
)
"""A batch, atomically: the chain is recursive in the function (each hash covers the one
before it)."""

STORED_SQL = """
SELECT b.event_id, e.position, e.version,
       (e.stream_id = $1 AND e.event_type = b.event_type
        AND e.schema_version = b.schema_version
        AND e.data = b.data::jsonb AND e.metadata = b.metadata::jsonb) AS same
FROM unnest($2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[])
    WITH ORDINALITY AS b(event_id, event_type, schema_version, data, metadata, ord)
JOIN events e ON e.event_id = b.event_id
ORDER BY b.ord
"""

VERSION_SQL = "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1"

MAX_STREAM_ID = 200
_CONTROL = re.compile("[\x01-\x1f\x7f-\x9f]")
"""Unicode's control characters (category Cc). The column's domain (``[[:cntrl:]]``) refuses
them too, as far as the server's locale counts them as controls."""
_ANY_VERSION_RETRIES = 20


def check_stream_id(stream_id: str) -> None:
    """Refuse the store's own streams and ids the column's domain would refuse, plainly."""
    if stream_id.startswith(SYSTEM_PREFIX):
        raise ValueError(f"stream ids starting with {SYSTEM_PREFIX!r} are the store's own")
    if not stream_id or len(stream_id) > MAX_STREAM_ID or _CONTROL.search(stream_id):
        raise ValueError(
            f"a stream id is 1 to {MAX_STREAM_ID} characters, none of them a control character"
        )


class Appender:
    """Calls the append functions and sorts out retries, conflicts and lost races."""

    def __init__(self, connections: Connections, registry: EventRegistry) -> None:
        self.connections = connections
        self.registry = registry

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendedBatch:
        if expected_version < ANY_VERSION:
            raise ValueError("expected_version must be >= 0 or ANY_VERSION")
        columns = self.columns(events)
        args: Sequence[object]
        if len(events) == 1:  # the common case: scalar parameters, the lean function
            sql, args = APPEND_ONE_SQL, [column[0] for column in columns]
        else:
            sql, args = APPEND_SQL, columns
        async with self.connections.acquire() as raw:
            for attempt in range(_ANY_VERSION_RETRIES):
                if attempt:
                    # Writers that lost a race for the same version back off by a random
                    # little while, so they stop colliding instead of colliding in lockstep.
                    await asyncio.sleep(random.uniform(0, 0.002 * attempt))
                lost_race = False
                try:
                    rows = await raw.fetch(sql, stream_id, expected_version, *args)
                except asyncpg.UniqueViolationError as exc:
                    rows = []
                    lost_race = exc.constraint_name == "events_stream_version_key"
                if len(rows) == 1:
                    row = rows[0]
                    return AppendedBatch(stream_id, (row[0],), (row[1],), deduplicated=False)
                if rows:
                    rows.sort(key=lambda r: int(r[0]))
                    return AppendedBatch(
                        stream_id,
                        tuple(r[0] for r in rows),
                        tuple(r[1] for r in rows),
                        deduplicated=False,
                    )
                stored = await raw.fetch(STORED_SQL, stream_id, *columns)
                if stored:
                    return already_stored(stream_id, events, stored)
                if not (expected_version == ANY_VERSION and lost_race):
                    actual = await raw.fetchval(VERSION_SQL, stream_id)
                    raise ConcurrencyError(stream_id, expected_version, int(actual))
            actual = await raw.fetchval(VERSION_SQL, stream_id)
        raise ConcurrencyError(stream_id, expected_version, int(actual))

    def _type_name(self, event: Event) -> str:
        name = type(event).event_type
        if name not in self.registry:
            raise UnknownEventType(name or type(event).__name__)
        return name

    def columns(self, events: Sequence[NewEvent]) -> list[list[object]]:
        """The append's (and STORED_SQL's) parameters, one list per column."""
        if not events:
            raise ValueError("append needs at least one event")
        if len(events) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} events per append")
        ids = [e.event_id for e in events]
        if len(set(ids)) != len(ids):
            raise ValueError("the same event id twice in one batch")
        types: list[object] = [self._type_name(e.event) for e in events]
        return [
            list(ids),
            types,
            [type(e.event).schema_version for e in events],
            [e.event.model_dump_json() for e in events],
            [e.metadata.model_dump_json() for e in events],
        ]


def already_stored(
    stream_id: str, events: Sequence[NewEvent], stored: list[asyncpg.Record]
) -> AppendedBatch:
    for row in stored:
        if not row["same"]:
            raise EventIdConflict(row["event_id"])
    if len(stored) != len(events):
        # Part of this batch was stored as part of another: not a retry of this one.
        raise EventIdConflict(stored[0]["event_id"])
    rows = sorted(stored, key=lambda r: r["position"])
    return AppendedBatch(
        stream_id,
        tuple(r["position"] for r in rows),
        tuple(r["version"] for r in rows),
        deduplicated=True,
    )
