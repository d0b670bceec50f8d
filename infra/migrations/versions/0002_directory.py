"""The hub's directory: agencies (with their transfer keys), ISPs, users.

Revision ID: 0002_directory
Revises: 0001_event_store

The application role may read and add rows; it may update only what changes
in a user's life (revocation, and the role and agency an OIDC provider
asserts), and it may never delete: a user who leaves is revoked, so the
actors named in the event log always resolve.
"""

from __future__ import annotations

from alembic import op

revision: str = "0002_directory"
down_revision: str | None = "0001_event_store"
branch_labels: str | None = None
depends_on: str | None = None

HUB_ROLES = ("coordinator", "compliance_officer")
ROLES = ("coordinator", "agency_worker", "advisor", "recipient", "compliance_officer")


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE agencies (
            code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            kind text NOT NULL CHECK (kind ~ '^[a-z_]{1,40}$'),
            public_key text NOT NULL,
            wrapped_private_key bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    # One row per protocol between two agencies, stored in a canonical order
    # (agency_a < agency_b) because a protocol binds both parties alike.
    op.execute(
        """
        CREATE TABLE information_sharing_protocols (
            id uuid PRIMARY KEY,
            agency_a text NOT NULL REFERENCES agencies (code),
            agency_b text NOT NULL REFERENCES agencies (code),
            title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
            reference text NOT NULL CHECK (length(reference) BETWEEN 1 AND 100),
            valid_from date NOT NULL,
            valid_to date,
            created_at timestamptz NOT NULL DEFAULT now(),
            CHECK (agency_a < agency_b),
            CHECK (valid_to IS NULL OR valid_to >= valid_from)
        )
        """
    )
    op.execute(
        "CREATE INDEX information_sharing_protocols_b ON information_sharing_protocols (agency_b)"
    )
    op.execute(
        f"""
        CREATE TABLE users (
            id uuid PRIMARY KEY,
            display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
            role text NOT NULL CHECK (role IN ({_sql_list(ROLES)})),
            agency_code text REFERENCES agencies (code),
            token_id text UNIQUE,
            token_salt bytea,
            token_hash bytea,
            oidc_subject text UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz,
            CHECK (agency_code IS NOT NULL OR role IN ({_sql_list(HUB_ROLES)})),
            CHECK ((token_id IS NULL) = (token_hash IS NULL)
                   AND (token_id IS NULL) = (token_salt IS NULL)),
            CHECK (token_id IS NOT NULL OR oidc_subject IS NOT NULL)
        )
        """
    )
    op.execute("CREATE INDEX users_agency_code ON users (agency_code)")
    op.execute("GRANT SELECT, INSERT ON agencies, information_sharing_protocols TO mashflow_app")
    op.execute("GRANT SELECT, INSERT ON users TO mashflow_app")
    op.execute(
        "GRANT UPDATE (revoked_at, role, agency_code, display_name) ON users TO mashflow_app"
    )


def downgrade() -> None:
    op.execute("DROP TABLE users")
    op.execute("DROP TABLE information_sharing_protocols")
    op.execute("DROP TABLE agencies")
