"""Web sessions live on the server.

Revision ID: 0011_web_sessions
Revises: 0010_user_register

A session cookie used to be a signed, self-contained token: signing out only asked
the browser to forget it, and a copy kept working until it expired. Now the cookie
holds a random id; the database keeps its SHA-256 (so whoever reads the table cannot
use a row as a cookie), the user, the CSRF secret, when it was last used, when it
expires (at most the configured age; for a sign-on token, the token's expiry) and
when it was ended. The app role may read and add sessions, and update only the last
use and the end.
"""

from __future__ import annotations

from alembic import op

revision: str = "0011_web_sessions"
down_revision: str | None = "0010_user_register"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE web_sessions (
            id_hash bytea PRIMARY KEY CHECK (octet_length(id_hash) = 32),
            user_id uuid NOT NULL REFERENCES users (id),
            csrf text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            ended_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX web_sessions_open ON web_sessions (user_id) WHERE ended_at IS NULL")
    op.execute("GRANT SELECT, INSERT ON web_sessions TO mashflow_app")
    op.execute("GRANT UPDATE (last_seen_at, ended_at) ON web_sessions TO mashflow_app")


def downgrade() -> None:
    op.execute("DROP TABLE web_sessions")
