"""Read model: the retention review queue.

Revision ID: 0007_rm_reviews
Revises: 0006_event_domains

``rm_reviews`` holds one row per retention review (ids, record type, dates, who
decided and how), fed by its own subscription (``infra.review_queue``, checkpoint
``retention_reviews``), so the compliance officers' queue no longer reads the whole
log on every view. Its checkpoint starts at 0: after this migration the first view
of the queue (or ``mashflow projections rebuild``) replays the log into it once.
The other read models are untouched.
"""

from __future__ import annotations

from alembic import op

revision: str = "0007_rm_reviews"
down_revision: str | None = "0006_event_domains"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rm_reviews (
            review_id uuid PRIMARY KEY,
            request_id uuid NOT NULL,
            record_type text NOT NULL,
            due_on date NOT NULL,
            opened_at timestamptz NOT NULL,
            escalated_at timestamptz,
            status text NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'retained', 'disposed')),
            decided_by text,
            decided_at timestamptz,
            next_review_on date
        )
        """
    )
    op.execute("CREATE INDEX rm_reviews_queue ON rm_reviews (status, due_on, opened_at)")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON rm_reviews TO mashflow_app")


def downgrade() -> None:
    op.execute("DROP TABLE rm_reviews")
    op.execute("DELETE FROM projection_checkpoints WHERE name = 'retention_reviews'")
