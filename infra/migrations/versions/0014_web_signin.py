"""Signing in through the identity provider: each sign-in's secrets live on the server.

Revision ID: 0014_web_signin
Revises: 0013_form_drafts

``oidc_logins``: one row per sign-in started at the identity provider (the
authorisation-code flow with PKCE). It keeps, on the server, what the browser must
not be trusted with: the state's SHA-256 (the row's key), the nonce the ID token must
carry and the PKCE code verifier, and the local page to return to. A row is used once
(``used_at``) and only within minutes of its start. The app role may read, add and
delete rows, and mark a sign-in used.
"""

from __future__ import annotations

from alembic import op

revision: str = "0014_web_signin"
down_revision: str | None = "0013_form_drafts"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE oidc_logins (
            state_hash bytea PRIMARY KEY CHECK (octet_length(state_hash) = 32),
            nonce text NOT NULL,
            code_verifier text NOT NULL,
            return_to text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            used_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX oidc_logins_created ON oidc_logins (created_at)")
    op.execute("GRANT SELECT, INSERT, DELETE ON oidc_logins TO mashflow_app")
    op.execute("GRANT UPDATE (used_at) ON oidc_logins TO mashflow_app")


def downgrade() -> None:
    op.execute("DROP TABLE oidc_logins")
