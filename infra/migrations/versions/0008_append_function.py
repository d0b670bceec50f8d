"""Appends go through database functions; the application role loses INSERT on ``events``.

Revision ID: 0008_append_function
Revises: 0007_rm_reviews

Before this revision the application role inserted rows itself, so it could write
any ``position``, ``recorded_at``, ``prev_hash`` and ``hash``: a forged, backdated
event that chained correctly passed ``verify``. Now the database computes all four:

- ``mashflow_append_one(stream, expected, event_id, type, schema_version, data,
  metadata)`` appends one event, ``mashflow_append(stream, expected, event_ids[],
  types[], schema_versions[], data[], metadata[])`` a batch;
- each reads the stream's head, checks the expected version (``-1``: any), sets
  the position from the transaction id, ``recorded_at = now()``, ``prev_hash`` to
  the head's hash and ``hash`` over the canonical bytes, and takes the correlation
  id from the metadata; a stale expected version inserts nothing and returns no row;
- both are ``SECURITY DEFINER`` functions owned by the migrating role (which owns
  ``events``), with a fixed ``search_path``; the application role may execute them
  and may no longer INSERT into ``events`` (it keeps SELECT).

PL/pgSQL, not SQL: PostgreSQL before 18 plans a SQL function's body again on every
call, PL/pgSQL keeps the plan for the session. The canonical bytes are the
expression of ``infra.eventstore.rows.CANONICAL_SQL`` (a copy: a migration is a
fixed text, the store's tests check both give the same hashes).
"""

from __future__ import annotations

from alembic import op

revision: str = "0008_append_function"
down_revision: str | None = "0007_rm_reviews"
branch_labels: str | None = None
depends_on: str | None = None

APP_ROLE = "mashflow_app"
ZERO = "'\\x" + "00" * 32 + "'::bytea"


def canonical(
    version: str, event_id: str, event_type: str, schema: str, data: str, meta: str
) -> str:
    """``rows.CANONICAL_SQL`` over the function's own values, stamped now()."""
    return (
        f"convert_to(concat_ws(E'\\n', p_stream, {version}, {event_id}, {event_type}, "
        f"{schema}, {data}::text, {meta}::text, "
        "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')), 'UTF8')"
    )


# Assembled from this module's constants only, never from input: hence the noqa S608.
APPEND_ONE = f"""
CREATE FUNCTION mashflow_append_one(
    p_stream text, p_expected integer, p_event_id uuid, p_type text, p_schema integer,
    p_data text, p_metadata text
) RETURNS TABLE (appended_position bigint, appended_version integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    RETURN QUERY
    INSERT INTO public.events AS e (position, stream_id, version, event_id, event_type,
                                    schema_version, data, metadata, correlation_id,
                                    recorded_at, prev_hash, hash)
    SELECT pg_current_xact_id()::text::bigint * 65536 + 1, p_stream,
           coalesce(h.version, 0) + 1, p_event_id, p_type, p_schema, b.data, b.metadata,
           (b.metadata ->> 'correlation_id')::uuid, now(), coalesce(h.hash, {ZERO}),
           sha256(coalesce(h.hash, {ZERO}) || {
    canonical(
        "coalesce(h.version, 0) + 1", "p_event_id", "p_type", "p_schema", "b.data", "b.metadata"
    )
})
    FROM (SELECT p_data::jsonb AS data, p_metadata::jsonb AS metadata) AS b
    LEFT JOIN LATERAL (
        SELECT x.version, x.hash FROM public.events x
        WHERE x.stream_id = p_stream ORDER BY x.version DESC LIMIT 1
    ) AS h ON true
    WHERE p_expected < 0 OR coalesce(h.version, 0) = p_expected
    RETURNING e.position, e.version::integer;
END
$$;
"""  # noqa: S608

APPEND_BATCH = f"""
CREATE FUNCTION mashflow_append(
    p_stream text, p_expected integer, p_event_ids uuid[], p_types text[],
    p_schemas integer[], p_data text[], p_metadata text[]
) RETURNS TABLE (appended_position bigint, appended_version integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF cardinality(p_event_ids) > 65535 THEN
        RAISE EXCEPTION 'at most 65535 events per append' USING ERRCODE = 'program_limit_exceeded';
    END IF;
    RETURN QUERY
    WITH RECURSIVE
    head AS (
        SELECT x.version, x.hash FROM public.events x
        WHERE x.stream_id = p_stream ORDER BY x.version DESC LIMIT 1
    ),
    batch AS (
        SELECT u.event_id, u.event_type, u.schema_version, u.data::jsonb AS data,
               u.metadata::jsonb AS metadata, u.ord
        FROM unnest(p_event_ids, p_types, p_schemas, p_data, p_metadata)
            WITH ORDINALITY AS u(event_id, event_type, schema_version, data, metadata, ord)
    ),
    chain AS (
        SELECT 0::bigint AS ord,
               coalesce((SELECT head.version FROM head), 0) AS version,
               coalesce((SELECT head.hash FROM head), {ZERO})::bytea AS hash,
               NULL::bytea AS prev
        WHERE p_expected < 0 OR coalesce((SELECT head.version FROM head), 0) = p_expected
      UNION ALL
        SELECT b.ord, c.version + 1, sha256(c.hash || {
    canonical(
        "c.version + 1", "b.event_id", "b.event_type", "b.schema_version", "b.data", "b.metadata"
    )
}), c.hash
        FROM chain c JOIN batch b ON b.ord = c.ord + 1
    ),
    inserted AS (
        INSERT INTO public.events (position, stream_id, version, event_id, event_type,
                                   schema_version, data, metadata, correlation_id,
                                   recorded_at, prev_hash, hash)
        SELECT pg_current_xact_id()::text::bigint * 65536 + c.ord, p_stream, c.version,
               b.event_id, b.event_type, b.schema_version, b.data, b.metadata,
               (b.metadata ->> 'correlation_id')::uuid, now(), c.prev, c.hash
        FROM chain c JOIN batch b USING (ord)
        RETURNING events.position, events.version
    )
    SELECT inserted.position, inserted.version::integer FROM inserted;
END
$$;
"""  # noqa: S608

FUNCTIONS = ("mashflow_append_one", "mashflow_append")
SIGNATURES = {
    "mashflow_append_one": "text, integer, uuid, text, integer, text, text",
    "mashflow_append": "text, integer, uuid[], text[], integer[], text[], text[]",
}


def upgrade() -> None:
    op.execute(APPEND_ONE)
    op.execute(APPEND_BATCH)
    for name in FUNCTIONS:
        signature = f"{name}({SIGNATURES[name]})"
        # Functions are executable by PUBLIC unless revoked: only the app role may append.
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")
    op.execute(f"REVOKE INSERT ON events FROM {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"GRANT INSERT ON events TO {APP_ROLE}")
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION {name}({SIGNATURES[name]})")
