"""Migration 0006 on a log that already holds events: no rewrite, same rules, reversible."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from alembic import command

from infra.crypto import Keyring
from infra.db import create_engine, plain_url
from infra.eventstore import EventStore, NewEvent
from infra.migrate import alembic_config, upgrade
from tests.conftest import fresh_database, make_settings
from tests.eventstore.events import ThingHappened
from tests.eventstore.forged import insert_chained

FILES = (
    "SELECT relname, relfilenode FROM pg_class WHERE relname IN "
    "('events', 'events_pkey', 'events_stream_version_key', 'events_event_id_key') "
    "ORDER BY relname"
)
INSERT = (
    "INSERT INTO events (position, stream_id, version, event_id, event_type, schema_version, "
    "data, metadata, recorded_at, prev_hash, hash) VALUES "
    "($1, $2, $3, $4, $5, $6, '{}', '{}', now(), $7, $7)"
)


@pytest.fixture
async def at_0005(pg_server_url: str) -> AsyncIterator[str]:
    """A database migrated only up to 0005 (the table's own CHECKs)."""
    async with fresh_database(pg_server_url, "0005_readmodels_erasure") as made:
        yield made.admin_url


async def refusals(url: str) -> list[str]:
    """The constraint that refuses each bad value, inserted straight past the store."""
    bad = [
        ("", "t.x", 1, 1, bytes(32)),
        ("tab\there", "t.x", 1, 1, bytes(32)),
        ("s", "t\nx", 1, 1, bytes(32)),
        ("s", "t.x", 0, 1, bytes(32)),
        ("s", "t.x", 1, 0, bytes(32)),
        ("s", "t.x", 1, 1, bytes(31)),
    ]
    names = []
    conn = await asyncpg.connect(plain_url(url))
    try:
        stored = await conn.fetchval("SELECT count(*) FROM events")
        for n, (stream_id, event_type, version, schema_version, digest) in enumerate(bad):
            with pytest.raises(asyncpg.CheckViolationError) as caught:
                await conn.execute(
                    INSERT, n + 1, stream_id, version, uuid.uuid4(), event_type, schema_version,
                    digest,
                )  # fmt: skip
            names.append(str(caught.value.constraint_name))
        assert await conn.fetchval("SELECT count(*) FROM events") == stored
    finally:
        await conn.close()
    return names


async def test_0006_keeps_the_files_the_rules_and_the_log(at_0005: str, tmp_path: Path) -> None:
    settings = make_settings(at_0005, tmp_path)
    engine = create_engine(at_0005, pool_size=2)
    store = EventStore(engine, keyring=Keyring.from_settings(engine, settings))
    try:
        for n in range(3):  # as the app role could before 0008 (the store now needs 0008)
            await insert_chained(at_0005, "before-0006", "test.thing_happened", f'{{"n": {n}}}')
        conn = await asyncpg.connect(plain_url(at_0005))
        files = await conn.fetch(FILES)
        await conn.close()
        assert len(files) == 4
        assert await refusals(at_0005) == [
            "events_stream_id_check",
            "events_stream_id_check",
            "events_event_type_check",
            "events_version_check",
            "events_schema_version_check",
            "events_hash_check",  # (checked before prev_hash: by name)
        ]

        await upgrade(settings)

        conn = await asyncpg.connect(plain_url(at_0005))
        # A relabelling, not a rewrite: the table and its indexes keep their files.
        assert await conn.fetch(FILES) == files
        await conn.close()
        assert await refusals(at_0005) == [
            "event_name_valid",
            "event_name_valid",
            "event_name_valid",
            "event_ordinal_valid",
            "event_ordinal_valid",
            "event_digest_valid",
        ]
        # The events appended before still read, chain and verify; appends go on.
        await store.close()
        store = EventStore(engine, keyring=Keyring.from_settings(engine, settings))
        assert [e.version for e in await store.read_stream("before-0006")] == [1, 2, 3]
        await store.append("before-0006", 3, [NewEvent(uuid.uuid4(), ThingHappened(n=3))])
        assert (await store.verify()).ok

        # And back: the table's own CHECKs again, the domains gone.
        await asyncio.to_thread(
            command.downgrade, alembic_config(at_0005), "0005_readmodels_erasure"
        )
        conn = await asyncpg.connect(plain_url(at_0005))
        try:
            assert await conn.fetchval("SELECT count(*) FROM pg_type WHERE typtype = 'd' "
                                       "AND typname LIKE 'event\\_%'") == 0  # fmt: skip
        finally:
            await conn.close()
        assert (await refusals(at_0005))[0] == "events_stream_id_check"
    finally:
        await store.close()
        await engine.dispose()
