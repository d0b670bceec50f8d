"""KEK rotation: subject keys and agency keys wrapped again under a new KEK, recorded.

Revision ID: 0015_kek_rotation
Revises: 0014_web_signin

A subject key could only ever be destroyed. Now it may also be wrapped again under
another KEK, and only by ``mashflow_rewrap_subject_keys`` (``SECURITY DEFINER``):
the trigger lets a row keep a key but change its ``kek_id`` only inside that
function (a transaction-local flag it sets, and a current user that is not the app
role, which holds no UPDATE on ``kek_id`` anyway). The function takes a batch,
changes only rows still live under the old KEK (a key erased meanwhile stays
erased), and appends ``keys.subject_keys_rewrapped`` (stream ``keys:kek``) in the
same transaction. ``mashflow_rewrap_agency_key`` swaps one agency's wrapped private
key if it is still the one read (compare and swap) and appends
``keys.agency_key_rewrapped`` to ``agency:<code>``. A partial index finds the live
keys of one KEK generation, in order, without reading the erased ones.
"""

from __future__ import annotations

from alembic import op

revision: str = "0015_kek_rotation"
down_revision: str | None = "0014_web_signin"
branch_labels: str | None = None
depends_on: str | None = None

APP_ROLE = "mashflow_app"
SUBJECTS = "mashflow_rewrap_subject_keys(text, text, uuid[], bytea[], text)"
AGENCY = "mashflow_rewrap_agency_key(text, bytea, bytea, text, text, text)"

_DESTROYED_ONLY = """
    IF NEW.wrapped_key IS NOT NULL OR NEW.subject_id <> OLD.subject_id
       OR NEW.kek_id <> OLD.kek_id OR NEW.created_at <> OLD.created_at THEN
        RAISE EXCEPTION 'a subject key can only be destroyed' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
"""

TRIGGER_BEFORE = (
    """
CREATE OR REPLACE FUNCTION mashflow_subject_key_only_destroyed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.wrapped_key IS NULL THEN
        RAISE EXCEPTION 'subject key already destroyed' USING ERRCODE = 'restrict_violation';
    END IF;"""
    + _DESTROYED_ONLY
)

TRIGGER = (
    f"""
CREATE OR REPLACE FUNCTION mashflow_subject_key_only_destroyed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.wrapped_key IS NULL THEN
        RAISE EXCEPTION 'subject key already destroyed' USING ERRCODE = 'restrict_violation';
    END IF;
    -- A KEK rotation's rewrap, by mashflow_rewrap_subject_keys only.
    IF current_setting('mashflow.rewrapping', true) = 'on' AND current_user <> '{APP_ROLE}'
       AND NEW.wrapped_key IS NOT NULL AND NEW.kek_id <> OLD.kek_id
       AND NEW.subject_id = OLD.subject_id AND NEW.created_at = OLD.created_at
       AND NEW.erased_at IS NULL THEN
        RETURN NEW;
    END IF;"""
    + _DESTROYED_ONLY
)

REWRAP_SUBJECTS = """
CREATE FUNCTION mashflow_rewrap_subject_keys(
    p_from text, p_to text, p_ids uuid[], p_keys bytea[], p_actor text
) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    moved integer;
BEGIN
    IF p_from = p_to THEN
        RAISE EXCEPTION 'a rewrap moves keys to another KEK'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('mashflow.rewrapping', 'on', true);
    UPDATE public.subject_keys s SET wrapped_key = k.key, kek_id = p_to
      FROM unnest(p_ids, p_keys) AS k(id, key)
     WHERE s.subject_id = k.id AND s.kek_id = p_from
       AND s.wrapped_key IS NOT NULL AND k.key IS NOT NULL;
    GET DIAGNOSTICS moved = ROW_COUNT;
    PERFORM set_config('mashflow.rewrapping', 'off', true);
    IF moved > 0 THEN
        PERFORM mashflow_append_one(
            'keys:kek', -1, gen_random_uuid(), 'keys.subject_keys_rewrapped', 1,
            jsonb_build_object('from_kek', p_from, 'to_kek', p_to, 'count', moved)::text,
            jsonb_build_object('actor_id', p_actor, 'actor_role', 'operator')::text);
    END IF;
    RETURN moved;
END
$$;
"""

REWRAP_AGENCY = """
CREATE FUNCTION mashflow_rewrap_agency_key(
    p_code text, p_old bytea, p_new bytea, p_from text, p_to text, p_actor text
) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    UPDATE public.agencies SET wrapped_private_key = p_new
     WHERE code = p_code AND wrapped_private_key = p_old;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM mashflow_append_one(
        'agency:' || p_code, -1, gen_random_uuid(), 'keys.agency_key_rewrapped', 1,
        jsonb_build_object('agency', p_code, 'from_kek', p_from, 'to_kek', p_to)::text,
        jsonb_build_object('actor_id', p_actor, 'actor_role', 'operator')::text);
    RETURN true;
END
$$;
"""


def upgrade() -> None:
    op.execute(TRIGGER)
    op.execute(REWRAP_SUBJECTS)
    op.execute(REWRAP_AGENCY)
    for signature in (SUBJECTS, AGENCY):
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")
    op.execute(
        "CREATE INDEX subject_keys_live_by_kek ON subject_keys (kek_id, subject_id) "
        "WHERE wrapped_key IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX subject_keys_live_by_kek")
    op.execute(f"DROP FUNCTION {AGENCY}")
    op.execute(f"DROP FUNCTION {SUBJECTS}")
    op.execute(TRIGGER_BEFORE)
