"""Answers in progress live on the server, sealed.

Revision ID: 0013_form_drafts
Revises: 0012_agency_public_authority

A decision is asked one question per page, and what has been answered so far is kept
here until the answers are checked and recorded: one row per person and form (a task's
decision, say), so the answers survive a refused step, a closed tab and signing in again.
The answers are sealed under the subject's own key (as every personal value in the event
log is), so destroying that key leaves a draft unreadable too. A person's own rows only
are ever read (every statement names the user); a recorded decision deletes its draft.
"""

from __future__ import annotations

from alembic import op

revision: str = "0013_form_drafts"
down_revision: str | None = "0012_agency_public_authority"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE form_drafts (
            user_id uuid NOT NULL REFERENCES users (id),
            form_key text NOT NULL CHECK (length(form_key) <= 200),
            sealed jsonb NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, form_key)
        )
        """
    )
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON form_drafts TO mashflow_app")


def downgrade() -> None:
    op.execute("DROP TABLE form_drafts")
