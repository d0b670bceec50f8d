"""The event store: immutable events, subject keys, projection checkpoints, the app role.

Revision ID: 0001_event_store
Revises:
Create Date: 2025-01-01

Positions are not a sequence: ``infra.eventstore`` derives them from the
inserting transaction's id (``pg_current_xact_id() * 65536 + ordinal``), so a
reader bounded by ``pg_snapshot_xmin`` never misses a late commit (see
docs/performance.md). Hence no sequence, and no privilege the app could
misuse to leave a hole.
"""

from __future__ import annotations

from alembic import op

revision: str = "0001_event_store"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

APP_ROLE = "mashflow_app"

SCHEMA = f"""
-- The role may already exist: roles are per server, databases are not (other
-- databases on the same server, parallel test sessions). Concurrent creators
-- can collide on the catalog's unique index, hence both exceptions.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

CREATE TABLE events (
    position        bigint      PRIMARY KEY,
    stream_id       text        NOT NULL
        CHECK (stream_id <> '' AND stream_id !~ '[[:cntrl:]]' AND length(stream_id) <= 200),
    version         integer     NOT NULL CHECK (version >= 1),
    event_id        uuid        NOT NULL UNIQUE,
    event_type      text        NOT NULL
        CHECK (event_type <> '' AND event_type !~ '[[:cntrl:]]' AND length(event_type) <= 200),
    schema_version  integer     NOT NULL CHECK (schema_version >= 1),
    data            jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,
    correlation_id  uuid,
    recorded_at     timestamptz NOT NULL,
    prev_hash       bytea       NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash            bytea       NOT NULL CHECK (octet_length(hash) = 32),
    -- Stops forks: two events can never claim the same place in a stream.
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);

CREATE INDEX events_correlation_idx ON events (correlation_id, position)
    WHERE correlation_id IS NOT NULL;

CREATE FUNCTION mashflow_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER events_refuse_update_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION mashflow_refuse_change();
CREATE TRIGGER events_refuse_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION mashflow_refuse_change();

-- One data key per data subject, wrapped by the KEK. Erasure nulls the key and
-- keeps the row as the record that (and when) the subject was erased.
CREATE TABLE subject_keys (
    subject_id   uuid        PRIMARY KEY,
    wrapped_key  bytea,
    kek_id       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    erased_at    timestamptz,
    CONSTRAINT subject_keys_erased_means_no_key
        CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
);

-- The only change a key may undergo is its destruction, once.
CREATE FUNCTION mashflow_subject_key_only_destroyed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.wrapped_key IS NULL THEN
        RAISE EXCEPTION 'subject key already destroyed' USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.wrapped_key IS NOT NULL OR NEW.subject_id <> OLD.subject_id
       OR NEW.kek_id <> OLD.kek_id OR NEW.created_at <> OLD.created_at THEN
        RAISE EXCEPTION 'a subject key can only be destroyed' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER subject_keys_only_destroyed
    BEFORE UPDATE ON subject_keys
    FOR EACH ROW EXECUTE FUNCTION mashflow_subject_key_only_destroyed();
CREATE TRIGGER subject_keys_refuse_delete
    BEFORE DELETE ON subject_keys
    FOR EACH ROW EXECUTE FUNCTION mashflow_refuse_change();
CREATE TRIGGER subject_keys_refuse_truncate
    BEFORE TRUNCATE ON subject_keys
    FOR EACH STATEMENT EXECUTE FUNCTION mashflow_refuse_change();

-- Where each projection has got to; updated in the same transaction as its read model.
CREATE TABLE projection_checkpoints (
    name        text        PRIMARY KEY,
    position    bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

GRANT USAGE ON SCHEMA public TO {APP_ROLE};
GRANT SELECT, INSERT ON events TO {APP_ROLE};
GRANT SELECT, INSERT ON subject_keys TO {APP_ROLE};
GRANT UPDATE (wrapped_key, erased_at) ON subject_keys TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE ON projection_checkpoints TO {APP_ROLE};
"""


def statements(script: str) -> list[str]:
    """Split on ';' at line ends outside dollar-quoted bodies (asyncpg prepares one at a time)."""
    out: list[str] = []
    current: list[str] = []
    in_body = False
    for line in script.splitlines():
        current.append(line)
        in_body ^= line.count("$$") % 2 == 1
        if not in_body and line.rstrip().endswith(";"):
            out.append("\n".join(current).strip())
            current = []
    if "\n".join(current).strip():
        out.append("\n".join(current).strip())
    return out


def upgrade() -> None:
    for statement in statements(SCHEMA):
        op.execute(statement)


def downgrade() -> None:
    raise RuntimeError("mashflow migrations go forward only")
