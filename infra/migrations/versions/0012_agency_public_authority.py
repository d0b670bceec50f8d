"""Whether each agency is a public authority: a property of the agency, set in the register.

Revision ID: 0012_agency_public_authority
Revises: 0011_web_sessions

The rules used to infer it from the agency's kind (every kind but the voluntary
sector). Now ``agencies.public_authority`` holds it; existing rows take the value
the kind gave, so no decision reads differently after the upgrade. The app role
cannot UPDATE agencies; the status is changed by ``mashflow_set_public_authority``
(``SECURITY DEFINER``), which appends ``register.agency_public_authority_changed``
(stream ``agency:<code>``) in the same transaction: a change without its event
cannot commit, as for the user register.
"""

from __future__ import annotations

from alembic import op

revision: str = "0012_agency_public_authority"
down_revision: str | None = "0011_web_sessions"
branch_labels: str | None = None
depends_on: str | None = None

APP_ROLE = "mashflow_app"
SIGNATURE = "mashflow_set_public_authority(text, boolean, text, text)"

SET = """
CREATE FUNCTION mashflow_set_public_authority(
    p_code text, p_public boolean, p_actor text, p_actor_role text
) RETURNS SETOF boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    before boolean;
BEGIN
    SELECT a.public_authority INTO before FROM public.agencies a WHERE a.code = p_code FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF before = p_public THEN
        RETURN NEXT before;
        RETURN;
    END IF;
    UPDATE public.agencies SET public_authority = p_public WHERE code = p_code;
    PERFORM mashflow_append_one(
        'agency:' || p_code, -1, gen_random_uuid(), 'register.agency_public_authority_changed',
        1,
        jsonb_build_object('agency', p_code, 'public_authority', p_public,
                           'previous', before)::text,
        jsonb_build_object('actor_id', p_actor, 'actor_role', p_actor_role)::text);
    RETURN NEXT p_public;
END
$$;
"""


def upgrade() -> None:
    op.execute("ALTER TABLE agencies ADD COLUMN public_authority boolean")
    op.execute("UPDATE agencies SET public_authority = (kind <> 'voluntary_sector')")
    op.execute("ALTER TABLE agencies ALTER COLUMN public_authority SET NOT NULL")
    op.execute(SET)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
    op.execute("ALTER TABLE agencies DROP COLUMN public_authority")
