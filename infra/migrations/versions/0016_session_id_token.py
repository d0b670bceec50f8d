"""Signing out at the identity provider too: a session keeps its sign-in's ID token, sealed.

Revision ID: 0016_session_id_token
Revises: 0015_kek_rotation

OpenID Connect RP-Initiated Logout sends the ID token back to the provider
(``id_token_hint``) when a person signs out. ``web_sessions.id_token_sealed`` keeps it
for a session started through the provider: AES-256-GCM under a key derived from the
session's cookie, which the server never stores (the row keeps only the cookie's
SHA-256), so the row, or a backup of it, does not open it. Signing out reads it once
and clears it; the app role may clear it.
"""

from __future__ import annotations

from alembic import op

revision: str = "0016_session_id_token"
down_revision: str | None = "0015_kek_rotation"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE web_sessions ADD COLUMN id_token_sealed bytea")
    op.execute("GRANT UPDATE (id_token_sealed) ON web_sessions TO mashflow_app")


def downgrade() -> None:
    op.execute("REVOKE UPDATE (id_token_sealed) ON web_sessions FROM mashflow_app")
    op.execute("ALTER TABLE web_sessions DROP COLUMN id_token_sealed")
