"""Secure delivery and the outbox: delivered packages, notifications for people.

Revision ID: 0003_delivery
Revises: 0002_directory

Operational tables, not the record (the event store keeps the digests and
every step). The application may change a package's status and delete its
sealed bytes (revocation, retention disposal), never delete a row.
"""

from __future__ import annotations

from alembic import op

revision: str = "0003_delivery"
down_revision: str | None = "0002_directory"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE packages (
            package_id uuid PRIMARY KEY,
            request_id uuid NOT NULL,
            subject_id uuid NOT NULL,
            sender_agency text NOT NULL,
            recipient_agency text NOT NULL,
            sealed bytea,
            sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            size_bytes integer NOT NULL,
            item_count integer NOT NULL,
            status text NOT NULL
                CHECK (status IN ('delivered', 'opened', 'acknowledged', 'revoked')),
            sent_at timestamptz NOT NULL,
            opened_at timestamptz,
            opened_by text,
            acknowledged_at timestamptz,
            revoked_at timestamptz,
            purged_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX packages_request ON packages (request_id)")
    op.execute("CREATE INDEX packages_subject ON packages (subject_id)")
    op.execute("CREATE INDEX packages_recipient ON packages (recipient_agency, sent_at DESC)")
    op.execute(
        """
        CREATE TABLE notifications (
            notification_id uuid PRIMARY KEY,
            request_id uuid NOT NULL,
            agency text,
            audience_roles text[] NOT NULL,
            kind text NOT NULL CHECK (kind ~ '^[a-z_]{1,60}$'),
            due_at timestamptz,
            created_at timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX notifications_request ON notifications (request_id)")
    op.execute("CREATE INDEX notifications_recent ON notifications (created_at DESC)")
    op.execute("GRANT SELECT, INSERT ON packages, notifications TO mashflow_app")
    op.execute(
        "GRANT UPDATE (sealed, status, opened_at, opened_by, acknowledged_at, revoked_at, "
        "purged_at) ON packages TO mashflow_app"
    )


def downgrade() -> None:
    op.execute("DROP TABLE notifications")
    op.execute("DROP TABLE packages")
