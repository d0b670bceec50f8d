"""The user register: changes go through recorded functions; revocation is one-way.

Revision ID: 0010_user_register
Revises: 0009_notification_delivery

Before this revision the application role could INSERT a user with any role and
UPDATE a user's role, agency and revocation, unrecorded: one plain UPDATE made
anyone a compliance officer, or brought a revoked user back. Now:

- the app role keeps SELECT, and UPDATE of ``display_name`` only (an identity
  provider's name for its users); it has no INSERT on ``users``;
- users are added, changed and revoked by three ``SECURITY DEFINER`` functions
  (``mashflow_add_user``, ``mashflow_change_user``, ``mashflow_revoke_user``),
  each of which appends its event (``register.user_added``,
  ``register.user_role_changed``, ``register.user_revoked``, stream
  ``user:<id>``) through ``mashflow_append_one`` in the same transaction: a
  change without its event cannot commit;
- a trigger refuses, for every role including the owner's, any change to a
  revoked user's revocation, role or agency, any change of a user's id, token,
  identity-provider subject or creation time, and any DELETE: revocation is
  one-way, whoever asks.
"""

from __future__ import annotations

from alembic import op

revision: str = "0010_user_register"
down_revision: str | None = "0009_notification_delivery"
branch_labels: str | None = None
depends_on: str | None = None

APP_ROLE = "mashflow_app"
DEFINER = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"

RECORD = f"""
CREATE FUNCTION mashflow_record_user_event(
    p_user uuid, p_type text, p_data jsonb, p_actor text, p_actor_role text
) RETURNS void {DEFINER} AS $$
BEGIN
    PERFORM mashflow_append_one(
        'user:' || p_user::text, -1, gen_random_uuid(), p_type, 1, p_data::text,
        jsonb_build_object('actor_id', p_actor, 'actor_role', p_actor_role)::text);
END
$$;
"""

ADD = f"""
CREATE FUNCTION mashflow_add_user(
    p_id uuid, p_name text, p_role text, p_agency text, p_token_id text,
    p_token_salt bytea, p_token_hash bytea, p_oidc_subject text,
    p_actor text, p_actor_role text
) RETURNS SETOF users {DEFINER} AS $$
DECLARE
    added public.users;
BEGIN
    INSERT INTO public.users AS u (id, display_name, role, agency_code, token_id, token_salt,
                                   token_hash, oidc_subject, created_at)
    VALUES (p_id, p_name, p_role, p_agency, p_token_id, p_token_salt, p_token_hash,
            p_oidc_subject, now())
    ON CONFLICT (oidc_subject) DO NOTHING
    RETURNING u.* INTO added;
    IF FOUND THEN
        PERFORM mashflow_record_user_event(added.id, 'register.user_added',
            jsonb_build_object('user_id', added.id, 'role', added.role,
                               'agency', added.agency_code,
                               'sign_in', CASE WHEN added.oidc_subject IS NULL
                                          THEN 'token' ELSE 'oidc' END),
            p_actor, p_actor_role);
        RETURN NEXT added;
    END IF;
END
$$;
"""  # noqa: S608

CHANGE = f"""
CREATE FUNCTION mashflow_change_user(
    p_id uuid, p_role text, p_agency text, p_actor text, p_actor_role text
) RETURNS SETOF users {DEFINER} AS $$
DECLARE
    before public.users;
    after public.users;
BEGIN
    SELECT * INTO before FROM public.users WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF before.role = p_role AND before.agency_code IS NOT DISTINCT FROM p_agency THEN
        RETURN NEXT before;
        RETURN;
    END IF;
    UPDATE public.users SET role = p_role, agency_code = p_agency
    WHERE id = p_id RETURNING * INTO after;
    PERFORM mashflow_record_user_event(p_id, 'register.user_role_changed',
        jsonb_build_object('user_id', p_id, 'role', p_role, 'agency', p_agency,
                           'previous_role', before.role,
                           'previous_agency', before.agency_code),
        p_actor, p_actor_role);
    RETURN NEXT after;
END
$$;
"""  # noqa: S608

REVOKE = f"""
CREATE FUNCTION mashflow_revoke_user(
    p_id uuid, p_actor text, p_actor_role text
) RETURNS SETOF users {DEFINER} AS $$
DECLARE
    revoked public.users;
BEGIN
    UPDATE public.users SET revoked_at = now()
    WHERE id = p_id AND revoked_at IS NULL RETURNING * INTO revoked;
    IF FOUND THEN
        PERFORM mashflow_record_user_event(p_id, 'register.user_revoked',
            jsonb_build_object('user_id', p_id), p_actor, p_actor_role);
        RETURN NEXT revoked;
    ELSE
        RETURN QUERY SELECT * FROM public.users WHERE id = p_id;
    END IF;
END
$$;
"""  # noqa: S608

GUARD = """
CREATE FUNCTION mashflow_user_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'users are revoked, never deleted' USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.revoked_at IS NOT NULL AND (
        NEW.revoked_at IS DISTINCT FROM OLD.revoked_at OR NEW.role IS DISTINCT FROM OLD.role
        OR NEW.agency_code IS DISTINCT FROM OLD.agency_code) THEN
        RAISE EXCEPTION 'user % is revoked: revocation is one-way', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.id <> OLD.id OR NEW.token_id IS DISTINCT FROM OLD.token_id
       OR NEW.token_salt IS DISTINCT FROM OLD.token_salt
       OR NEW.token_hash IS DISTINCT FROM OLD.token_hash
       OR NEW.oidc_subject IS DISTINCT FROM OLD.oidc_subject
       OR NEW.created_at <> OLD.created_at THEN
        RAISE EXCEPTION 'a user''s identity and credentials never change'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
"""

SIGNATURES = {
    "mashflow_record_user_event": "uuid, text, jsonb, text, text",
    "mashflow_add_user": "uuid, text, text, text, text, bytea, bytea, text, text, text",
    "mashflow_change_user": "uuid, text, text, text, text",
    "mashflow_revoke_user": "uuid, text, text",
}


def upgrade() -> None:
    for statement in (RECORD, ADD, CHANGE, REVOKE, GUARD):
        op.execute(statement)
    op.execute(
        "CREATE TRIGGER users_guard BEFORE UPDATE OR DELETE ON users "
        "FOR EACH ROW EXECUTE FUNCTION mashflow_user_guard()"
    )
    for name, args in SIGNATURES.items():
        op.execute(f"REVOKE ALL ON FUNCTION {name}({args}) FROM PUBLIC")
        if name != "mashflow_record_user_event":
            op.execute(f"GRANT EXECUTE ON FUNCTION {name}({args}) TO {APP_ROLE}")
    op.execute(f"REVOKE INSERT ON users FROM {APP_ROLE}")
    op.execute(f"REVOKE UPDATE (revoked_at, role, agency_code) ON users FROM {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"GRANT INSERT ON users TO {APP_ROLE}")
    op.execute(f"GRANT UPDATE (revoked_at, role, agency_code) ON users TO {APP_ROLE}")
    op.execute("DROP TRIGGER users_guard ON users")
    op.execute("DROP FUNCTION mashflow_user_guard()")
    for name, args in reversed(SIGNATURES.items()):
        op.execute(f"DROP FUNCTION {name}({args})")
