"""The user register: the app role cannot make itself a compliance officer or bring a
revoked user back; every change the application makes is recorded by the database.

Each attack runs as the app role (or the owner) against the real PostgreSQL and is
refused with nothing written.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.errors import ValidationFailed
from domain.events.register import AgencyPublicAuthorityChanged as Changed
from domain.events.register import (
    UserAdded,
    UserRevoked,
    UserRoleChanged,
    agency_stream,
    user_stream,
)
from domain.vocabulary import Role
from infra.db import APP_ROLE, plain_url
from infra.directory import AgencyDirectory, NotFoundError
from infra.eventstore import EventStore
from infra.migrate import alembic_config, upgrade
from infra.users import UserDirectory
from tests.conftest import TestDatabase, engine_on, fresh_database, make_settings


@pytest.fixture(scope="module")
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    async with engine_on(database.admin_url, pool_size=4) as made:
        yield made


@pytest.fixture(scope="module")
async def store(engine: AsyncEngine) -> AsyncIterator[EventStore]:
    made = EventStore(engine)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture(scope="module")
async def agency(engine: AsyncEngine, database: TestDatabase) -> str:
    code = f"reg_{uuid.uuid4().hex[:8]}"
    kek = database.settings.key_encryption_key()
    await AgencyDirectory(engine, kek).add(code, "Register Test Agency", "police")
    return code


async def as_role(database: TestDatabase, role: str | None) -> asyncpg.Connection:
    conn = await asyncpg.connect(plain_url(database.admin_url))
    if role is not None:
        await conn.execute(f"SET ROLE {role}")
    return conn


async def row(database: TestDatabase, user_id: uuid.UUID) -> asyncpg.Record:
    conn = await as_role(database, None)
    try:
        found = await conn.fetchrow(
            "SELECT role, agency_code, revoked_at FROM users WHERE id = $1", user_id
        )
        assert found is not None
        return found
    finally:
        await conn.close()


async def test_the_app_role_cannot_promote_a_user_or_add_one(
    database: TestDatabase, engine: AsyncEngine, store: EventStore, agency: str
) -> None:
    worker = (await UserDirectory(engine).add("Wendy Worker", Role.AGENCY_WORKER, agency)).user
    before = await store.read_stream(user_stream(worker.id))
    conn = await as_role(database, APP_ROLE)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "UPDATE users SET role = 'compliance_officer', agency_code = NULL WHERE id = $1",
                worker.id,
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "INSERT INTO users (id, display_name, role, oidc_subject) "
                "VALUES ($1, 'Mallory', 'compliance_officer', 'forged#1')",
                uuid.uuid4(),
            )
    finally:
        await conn.close()
    assert (await row(database, worker.id))["role"] == "agency_worker"
    assert await store.read_stream(user_stream(worker.id)) == before


async def test_revocation_is_one_way_for_the_app_role_and_the_owner(
    database: TestDatabase, engine: AsyncEngine, store: EventStore, agency: str
) -> None:
    users = UserDirectory(engine)
    leaver = (await users.add("Larry Leaver", Role.AGENCY_WORKER, agency)).user
    revoked = await users.revoke(leaver.id)
    assert revoked.revoked_at is not None
    app = await as_role(database, APP_ROLE)
    owner = await as_role(database, None)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute("UPDATE users SET revoked_at = NULL WHERE id = $1", leaver.id)
        with pytest.raises(asyncpg.RestrictViolationError, match="revocation is one-way"):
            await owner.execute("UPDATE users SET revoked_at = NULL WHERE id = $1", leaver.id)
        with pytest.raises(asyncpg.RestrictViolationError, match="revocation is one-way"):
            await owner.execute(
                "UPDATE users SET role = 'compliance_officer', agency_code = NULL WHERE id = $1",
                leaver.id,
            )
        with pytest.raises(asyncpg.RestrictViolationError, match="never deleted"):
            await owner.execute("DELETE FROM users WHERE id = $1", leaver.id)
        # Through the application's own function: a revoked user's role cannot change.
        with pytest.raises(asyncpg.RestrictViolationError, match="revocation is one-way"):
            await app.fetch(
                "SELECT * FROM mashflow_change_user($1, 'coordinator', NULL, 'x', 'x')",
                leaver.id,
            )
    finally:
        await app.close()
        await owner.close()
    after = await row(database, leaver.id)
    assert after["revoked_at"] == revoked.revoked_at and after["role"] == "agency_worker"
    with pytest.raises(ValidationFailed, match="revoked"):
        await users.change(leaver.id, Role.COORDINATOR, None)
    # Revoking again keeps the first time and records nothing more.
    assert (await users.revoke(leaver.id)).revoked_at == revoked.revoked_at
    events = [e.event for e in await store.read_stream(user_stream(leaver.id))]
    assert [type(e) for e in events] == [UserAdded, UserRevoked]


async def test_role_and_agency_changes_are_recorded_with_who_made_them(
    engine: AsyncEngine, store: EventStore, agency: str
) -> None:
    users = UserDirectory(engine)
    mover = (await users.add("Mo Mover", Role.AGENCY_WORKER, agency)).user
    changed = await users.change(mover.id, Role.COORDINATOR, None, by="operator")
    assert (changed.role, changed.agency) == (Role.COORDINATOR, None)
    unchanged = await users.change(mover.id, Role.COORDINATOR, None)  # no change, no event
    assert unchanged.role is Role.COORDINATOR
    recorded = await store.read_stream(user_stream(mover.id))
    assert [type(r.event) for r in recorded] == [UserAdded, UserRoleChanged]
    added, change = recorded[0].event, recorded[1].event
    assert isinstance(added, UserAdded) and added.role is Role.AGENCY_WORKER
    assert added.agency == agency and added.sign_in == "token"
    assert change == UserRoleChanged(
        user_id=mover.id,
        role=Role.COORDINATOR,
        agency=None,
        previous_role=Role.AGENCY_WORKER,
        previous_agency=agency,
    )
    assert recorded[1].metadata.actor_id == "operator"
    # No name in the register's events.
    assert "Mo Mover" not in str([r.event for r in recorded])


async def test_a_change_to_an_unknown_agency_is_refused_with_nothing_written(
    engine: AsyncEngine, store: EventStore, agency: str
) -> None:
    users = UserDirectory(engine)
    user = (await users.add("Una Known", Role.AGENCY_WORKER, agency)).user
    with pytest.raises(ValidationFailed, match="no agency"):
        await users.change(user.id, Role.AGENCY_WORKER, "no_such_agency")
    assert (await users.get(user.id)).agency == agency
    assert len(await store.read_stream(user_stream(user.id))) == 1


@pytest.fixture
async def at_0009(pg_server_url: str) -> AsyncIterator[str]:
    async with fresh_database(pg_server_url, "0009_notification_delivery") as made:
        yield made.admin_url


async def test_0010_takes_the_plain_updates_away_and_goes_back(
    at_0009: str, tmp_path: Path
) -> None:
    promote = "UPDATE users SET role = 'compliance_officer', agency_code = NULL WHERE id = $1"
    user_id = uuid.uuid4()
    conn = await asyncpg.connect(plain_url(at_0009))
    try:
        await conn.execute(
            "INSERT INTO users (id, display_name, role, oidc_subject) "
            "VALUES ($1, 'Carl', 'coordinator', 'iss#carl')",
            user_id,
        )
        await conn.execute(f"SET ROLE {APP_ROLE}")
        await conn.execute(promote, user_id)  # before 0010: allowed, unrecorded
    finally:
        await conn.close()
    await upgrade(make_settings(at_0009, tmp_path))
    conn = await asyncpg.connect(plain_url(at_0009))
    try:
        await conn.execute(f"SET ROLE {APP_ROLE}")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(promote, user_id)
    finally:
        await conn.close()
    await asyncio.to_thread(
        command.downgrade, alembic_config(at_0009), "0009_notification_delivery"
    )
    conn = await asyncpg.connect(plain_url(at_0009))
    try:
        await conn.execute(f"SET ROLE {APP_ROLE}")
        await conn.execute(promote, user_id)  # the old grant is back
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM pg_proc WHERE proname LIKE 'mashflow\\_%user%'"
            )
            == 0
        )
    finally:
        await conn.close()


async def test_an_identity_providers_role_change_is_recorded_as_its_own(
    engine: AsyncEngine, store: EventStore, agency: str
) -> None:
    users = UserDirectory(engine)
    subject = f"https://idp#{uuid.uuid4()}"
    first = await users.ensure_oidc_user(subject, "Sso Person", Role.AGENCY_WORKER, agency)
    assert first is not None
    moved = await users.ensure_oidc_user(subject, "Sso Person", Role.ADVISOR, agency)
    assert moved is not None and moved.id == first.id and moved.role is Role.ADVISOR
    recorded = await store.read_stream(user_stream(first.id))
    assert [type(r.event) for r in recorded] == [UserAdded, UserRoleChanged]
    assert {r.metadata.actor_id for r in recorded} == {"identity-provider"}
    assert isinstance(recorded[0].event, UserAdded) and recorded[0].event.sign_in == "oidc"


async def test_public_authority_is_set_in_the_register_and_each_change_is_recorded(
    database: TestDatabase, engine: AsyncEngine, store: EventStore
) -> None:
    """Correction 6: whether an agency is a public authority is its own register field,
    defaulting from its kind, changed only through the recorded function (the app role
    cannot UPDATE the row), each change an event with who made it."""
    kek = database.settings.key_encryption_key()
    directory = AgencyDirectory(engine, kek)
    code = f"vol_{uuid.uuid4().hex[:8]}"
    charity = await directory.add(code, "Family Support Charity", "voluntary_sector")
    assert charity.public_authority is False
    police = await directory.add(f"pol_{uuid.uuid4().hex[:8]}", "Police", "police")
    assert police.public_authority is True
    app = await as_role(database, APP_ROLE)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute("UPDATE agencies SET public_authority = true WHERE code = $1", code)
        # The app role may call the recorded function.
        await app.fetch(
            "SELECT * FROM mashflow_set_public_authority($1, true, 'coordinator-1', 'coordinator')",
            code,
        )
    finally:
        await app.close()
    assert (await directory.get(code)).public_authority is True
    # Unchanged: nothing more recorded. Changed back: recorded again.
    await directory.set_public_authority(code, True, by="operator", by_role="operator")
    back = await directory.set_public_authority(code, False, by="operator", by_role="operator")
    assert back.public_authority is False
    recorded = await store.read_stream(agency_stream(code))
    events = [r.event for r in recorded]
    assert [(e.public_authority, e.previous) for e in events if isinstance(e, Changed)] == [
        (True, False),
        (False, True),
    ]
    assert [r.metadata.actor_id for r in recorded] == ["coordinator-1", "operator"]
    with pytest.raises(NotFoundError):
        await directory.set_public_authority("no_such_agency", True, by="x", by_role="x")
