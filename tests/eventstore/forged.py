"""A row written straight into ``events``, chained onto its stream's head as the store
would: what a role holding INSERT on the table could write (migrations before 0008 gave
the app role that privilege)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from infra.db import APP_ROLE, plain_url
from infra.eventstore.rows import CANONICAL_SQL

CHAINED_INSERT = (
    "INSERT INTO events (position, stream_id, version, event_id, event_type, schema_version, "
    "data, metadata, correlation_id, recorded_at, prev_hash, hash) "
    "SELECT coalesce($1::bigint, pg_current_xact_id()::text::bigint * 65536 + 1), $2::text, "
    "coalesce(h.version, 0) + 1, n.id, $4::text, 1, $5::jsonb, '{}'::jsonb, NULL, "
    "coalesce($6::timestamptz, now()), coalesce(h.hash, $3::bytea), "
    "sha256(coalesce(h.hash, $3::bytea) || "
    + CANONICAL_SQL.format(
        stream="$2::text",
        version="coalesce(h.version, 0) + 1",
        event_id="n.id",
        event_type="$4::text",
        schema_version="1",
        data="$5::jsonb",
        metadata="'{}'::jsonb",
        recorded_at="coalesce($6::timestamptz, now())",
    )
    + ") FROM (SELECT gen_random_uuid() AS id) n LEFT JOIN LATERAL ("
    "SELECT version, hash FROM events WHERE stream_id = $2::text "
    "ORDER BY version DESC LIMIT 1) h ON true"
)


async def insert_chained(
    admin_url: str,
    stream_id: str,
    event_type: str,
    data_json: str,
    *,
    position: int | None = None,
    recorded_at: datetime | None = None,
    role: str | None = APP_ROLE,
) -> None:
    """Insert one chained event as ``role`` (None: the superuser who connects), its
    position and time as given, if given."""
    conn = await asyncpg.connect(plain_url(admin_url))
    try:
        if role is not None:
            await conn.execute(f"SET ROLE {role}")
        await conn.execute(
            CHAINED_INSERT, position, stream_id, bytes(32), event_type, data_json, recorded_at
        )
    finally:
        await conn.close()
