"""Appends go through the database's functions: the app role cannot write a row itself.

The attack: the app role inserts a well-formed, correctly chained but backdated
``access.personal_data_viewed`` with a position of its choosing. Before migration
0008 it was stored and verified; now the INSERT is refused and nothing is written,
and what the functions store carries the database's time, position and hashes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from alembic import command

from domain.events import EventMetadata
from domain.events.access import PersonalDataViewed, ViewKind
from domain.vocabulary import Role
from infra.crypto import Keyring
from infra.db import APP_ROLE, create_engine, plain_url
from infra.eventstore import NEW_STREAM, EventStore, NewEvent
from infra.eventstore.rows import row_hash
from infra.migrate import alembic_config, upgrade
from tests.conftest import fresh_database, make_settings
from tests.eventstore.conftest import Fresh
from tests.eventstore.events import ThingHappened
from tests.eventstore.forged import insert_chained

VIEWED = PersonalDataViewed(
    request_id=uuid.uuid4(),
    viewer_id="someone",
    viewer_role=Role.COMPLIANCE_OFFICER,
    what=ViewKind.HISTORY,
    viewed_at=datetime(2020, 1, 1, tzinfo=UTC),
).model_dump_json()


async def as_app_role(admin_url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(plain_url(admin_url))
    await conn.execute(f"SET ROLE {APP_ROLE}")
    return conn


async def forge(admin_url: str, stream_id: str, position: int) -> None:
    """A well-formed access.personal_data_viewed, chained, backdated to 2020, at ``position``."""
    await insert_chained(
        admin_url,
        stream_id,
        "access.personal_data_viewed",
        VIEWED,
        position=position,
        recorded_at=datetime(2020, 1, 1, tzinfo=UTC),
    )


def new(n: int, correlation: uuid.UUID | None = None) -> NewEvent:
    return NewEvent(uuid.uuid4(), ThingHappened(n=n), EventMetadata(correlation_id=correlation))


async def test_the_app_role_cannot_insert_a_forged_backdated_event(fresh: Fresh) -> None:
    await fresh.store.append("viewed", NEW_STREAM, [new(1)])
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await forge(fresh.admin_url, "viewed", 42)
    admin = await fresh.admin()
    try:
        assert await admin.fetchval("SELECT count(*) FROM events") == 1
        assert await admin.fetchval("SELECT count(*) FROM events WHERE position = 42") == 0
    finally:
        await admin.close()
    assert (await fresh.store.verify()).ok


async def test_the_database_sets_time_position_chain_and_correlation(fresh: Fresh) -> None:
    correlation = uuid.uuid4()
    admin = await fresh.admin()
    try:
        before = await admin.fetchval("SELECT now()")
        one = await fresh.store.append("stamped", NEW_STREAM, [new(1, correlation)])
        batch = await fresh.store.append("stamped", 1, [new(2), new(3, correlation)])
        after = await admin.fetchval("SELECT now()")
        xact = await admin.fetch(
            "SELECT position, xmin::text::bigint AS xid FROM events ORDER BY position"
        )
        rows = await admin.fetch(
            "SELECT position, stream_id, version, event_id, event_type, schema_version, "
            "data::text, metadata::text, recorded_at, prev_hash, hash, correlation_id "
            "FROM events WHERE stream_id = 'stamped' ORDER BY version"
        )
    finally:
        await admin.close()
    assert [r["position"] for r in rows] == [*one.positions, *batch.positions]
    # Positions are the inserting transaction's id times 65536 plus the place in it.
    assert [r["position"] for r in xact] == [
        r["xid"] * 65536 + n for r, n in zip(xact, (1, 1, 2), strict=True)
    ]
    assert all(before <= r["recorded_at"] <= after for r in rows)
    assert [r["prev_hash"] for r in rows] == [bytes(32), rows[0]["hash"], rows[1]["hash"]]
    assert all(row_hash(r) == r["hash"] for r in rows)
    assert [r["correlation_id"] for r in rows] == [correlation, None, correlation]


async def test_only_the_app_role_may_call_the_append_functions(fresh: Fresh) -> None:
    role = f"mashflow_stranger_{uuid.uuid4().hex[:8]}"
    admin = await fresh.admin()
    try:
        await admin.execute(f"CREATE ROLE {role} NOLOGIN")
        await admin.execute(f"SET ROLE {role}")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await admin.fetch(
                "SELECT * FROM mashflow_append_one('s', 0, gen_random_uuid(), 't.x', 1, '{}', '{}')"
            )
        await admin.execute("RESET ROLE")
        assert await admin.fetchval("SELECT count(*) FROM events") == 0
    finally:
        await admin.execute(f"DROP ROLE IF EXISTS {role}")
        await admin.close()


async def test_a_stale_expected_version_writes_nothing_through_the_function(fresh: Fresh) -> None:
    await fresh.store.append("stale", NEW_STREAM, [new(1)])
    conn = await as_app_role(fresh.admin_url)
    try:
        rows = await conn.fetch(
            "SELECT * FROM mashflow_append_one('stale', 0, gen_random_uuid(), "
            "'test.thing_happened', 1, '{\"n\": 2}', '{}')"
        )
        assert rows == []
        assert await conn.fetchval("SELECT count(*) FROM events") == 1
    finally:
        await conn.close()


@pytest.fixture
async def at_0007(pg_server_url: str) -> AsyncIterator[str]:
    async with fresh_database(pg_server_url, "0007_rm_reviews") as made:
        yield made.admin_url


async def test_0008_takes_insert_away_keeps_the_log_and_goes_back(
    at_0007: str, tmp_path: Path
) -> None:
    # Before 0008 the app role could write the forged row; it chains and verifies.
    await forge(at_0007, "before-0008", 1)
    settings = make_settings(at_0007, tmp_path)
    await upgrade(settings)

    engine = create_engine(at_0007, pool_size=2)
    store = EventStore(engine, keyring=Keyring.from_settings(engine, settings))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await forge(at_0007, "before-0008", 2)
        # Appends chain on from the events stored before the migration.
        await store.append("before-0008", 1, [new(2)])
        assert [e.version for e in await store.read_stream("before-0008")] == [1, 2]
        assert (await store.verify()).ok

        await asyncio.to_thread(command.downgrade, alembic_config(at_0007), "0007_rm_reviews")
        conn = await asyncpg.connect(plain_url(at_0007))
        try:
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM pg_proc WHERE proname LIKE 'mashflow\\_append%'"
                )
                == 0
            )
        finally:
            await conn.close()
        await forge(at_0007, "after-downgrade", 7)  # the old grant is back
    finally:
        await store.close()
        await engine.dispose()
