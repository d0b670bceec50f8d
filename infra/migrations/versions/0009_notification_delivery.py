"""Notifications that reach people: who has read what, e-mail addresses, e-mail deliveries.

Revision ID: 0009_notification_delivery
Revises: 0008_append_function

Operational tables beside the outbox (``notifications``), not the record:

- ``notification_seen``: when each user last opened their notifications page (the
  count in the page header is of notifications for them since then);
- ``user_emails``: the address a user asked to be e-mailed at, and since when (only
  notifications made after that are e-mailed);
- ``notification_emails``: one row per notification and user e-mailed: pending,
  sent or failed (attempts, the last error's class, when to try again). Its key
  makes delivery idempotent: a notification is e-mailed to a person once.
"""

from __future__ import annotations

from alembic import op

revision: str = "0009_notification_delivery"
down_revision: str | None = "0008_append_function"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE notification_seen (
            user_id uuid PRIMARY KEY REFERENCES users (id),
            seen_at timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE user_emails (
            user_id uuid PRIMARY KEY REFERENCES users (id),
            email text NOT NULL
                CHECK (length(email) BETWEEN 3 AND 254 AND email ~ '^[^@\\s]+@[^@\\s]+$'),
            since timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE notification_emails (
            notification_id uuid NOT NULL REFERENCES notifications,
            user_id uuid NOT NULL REFERENCES users (id),
            status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
            attempts integer NOT NULL DEFAULT 0,
            last_error text CHECK (last_error ~ '^[A-Za-z_.0-9]{1,80}$'),
            next_attempt_at timestamptz NOT NULL,
            sent_at timestamptz,
            PRIMARY KEY (notification_id, user_id)
        )
        """
    )
    op.execute(
        "CREATE INDEX notification_emails_due ON notification_emails (next_attempt_at) "
        "WHERE status = 'pending'"
    )
    op.execute("CREATE INDEX notifications_kind ON notifications (kind, created_at)")
    op.execute(
        "GRANT SELECT, INSERT, UPDATE ON notification_seen, notification_emails TO mashflow_app"
    )
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON user_emails TO mashflow_app")


def downgrade() -> None:
    op.execute("DROP TABLE notification_emails")
    op.execute("DROP TABLE user_emails")
    op.execute("DROP TABLE notification_seen")
    op.execute("DROP INDEX notifications_kind")
