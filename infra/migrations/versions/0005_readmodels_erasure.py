"""Read models: erased requests, and requests by opening time.

Revision ID: 0005_readmodels_erasure
Revises: 0004_read_models

``rm_requests.erased`` marks a request whose subject's key was destroyed: the
projection (``infra.readmodels``) has replaced every sealed value of its stored
states by the erased marker, and the request takes no more events. Rows that an
earlier disposal left without their decision state are marked too; a
``mashflow projections rebuild`` gives them the same redacted states as new
disposals. The index on ``opened_at`` serves the audit export over a date range.
"""

from __future__ import annotations

from alembic import op

revision: str = "0005_readmodels_erasure"
down_revision: str | None = "0004_read_models"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE rm_requests ADD COLUMN erased boolean NOT NULL DEFAULT false")
    op.execute(
        "UPDATE rm_requests SET erased = true WHERE request_id IN "
        "(SELECT request_id FROM rm_agency_decisions WHERE state IS NULL)"
    )
    op.execute("CREATE INDEX rm_requests_opened ON rm_requests (opened_at, request_id)")


def downgrade() -> None:
    op.execute("DROP INDEX rm_requests_opened")
    op.execute("ALTER TABLE rm_requests DROP COLUMN erased")
