"""Read models: the request list, each agency's progress, and the open tasks.

Revision ID: 0004_read_models
Revises: 0003_delivery

Projections of the event store (``infra.readmodels``), not the record: they
can be dropped and rebuilt at any time (``mashflow projections rebuild``), so
the application may change and delete their rows. They hold no personal data
in clear: ids, agency codes, enums and instants. ``rm_agency_decisions.state``
is the pure decision state, whose free-text fields are :class:`Sealed`
ciphertext only (unreadable once the subject's key is destroyed); retention
disposal should still clear it (see ``infra.readmodels.forget_request``).
"""

from __future__ import annotations

from alembic import op

revision: str = "0004_read_models"
down_revision: str | None = "0003_delivery"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rm_requests (
            request_id uuid PRIMARY KEY,
            subject_id uuid NOT NULL,
            requesting_agency text NOT NULL,
            rating text NOT NULL CHECK (rating IN ('red', 'amber', 'green')),
            status text NOT NULL CHECK (status IN ('open', 'closed', 'withdrawn')),
            opened_at timestamptz NOT NULL,
            decision_due_at timestamptz NOT NULL,
            closed_at timestamptz,
            withdrawn_at timestamptz,
            holders text[] NOT NULL,
            state jsonb NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX rm_requests_status ON rm_requests (status, decision_due_at)")
    op.execute("CREATE INDEX rm_requests_requester ON rm_requests (requesting_agency)")
    op.execute("CREATE INDEX rm_requests_holders ON rm_requests USING gin (holders)")
    op.execute(
        """
        CREATE TABLE rm_agency_decisions (
            request_id uuid NOT NULL REFERENCES rm_requests ON DELETE CASCADE,
            agency text NOT NULL,
            status text NOT NULL,
            outcome text,
            decided_at timestamptz,
            completed_at timestamptz,
            decision_due_at timestamptz NOT NULL,
            missed text[] NOT NULL,
            on_time boolean,
            version integer NOT NULL,
            state jsonb,
            PRIMARY KEY (request_id, agency)
        )
        """
    )
    op.execute("CREATE INDEX rm_agency_decisions_agency ON rm_agency_decisions (agency)")
    op.execute(
        """
        CREATE TABLE rm_tasks (
            task_id text PRIMARY KEY,
            request_id uuid NOT NULL REFERENCES rm_requests ON DELETE CASCADE,
            holder text NOT NULL,
            agency text NOT NULL,
            kind text NOT NULL,
            role text NOT NULL,
            due_at timestamptz,
            rating text NOT NULL,
            version integer NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX rm_tasks_inbox ON rm_tasks (agency, role)")
    op.execute("CREATE INDEX rm_tasks_request ON rm_tasks (request_id, holder)")
    op.execute(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON rm_requests, rm_agency_decisions, rm_tasks "
        "TO mashflow_app"
    )


def downgrade() -> None:
    op.execute("DROP TABLE rm_tasks")
    op.execute("DROP TABLE rm_agency_decisions")
    op.execute("DROP TABLE rm_requests")
    op.execute("DELETE FROM projection_checkpoints WHERE name = 'read_models'")
