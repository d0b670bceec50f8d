"""Fixtures for the event store contract suite: the session database, and fresh ones.

Tests that tamper with the log as a superuser get a database of their own
(cloned from a migrated template), so no other test ever reads a tampered log.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from infra.crypto import Keyring
from infra.db import create_engine, plain_url
from infra.eventstore import EventStore
from infra.migrate import upgrade
from infra.settings import Settings
from infra.stack import with_database
from tests.conftest import TestDatabase, engine_on, fresh_database, make_settings
from tests.eventstore import events as _events  # noqa: F401  (registers the test event types)


@pytest.fixture(scope="session")
async def database(pg_server_url: str) -> AsyncIterator[TestDatabase]:
    """The contract suite's own database: its test-only event types never reach the
    databases that whole-log readers (projections, retention runs) walk in other suites."""
    async with fresh_database(pg_server_url) as made:
        yield made


@pytest.fixture(scope="session")
def settings(database: TestDatabase) -> Settings:
    return database.settings


@pytest.fixture(scope="session")
async def app_engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    async with engine_on(database.admin_url, pool_size=20) as engine:
        yield engine


@pytest.fixture(scope="session")
def keyring(app_engine: AsyncEngine, settings: Settings) -> Keyring:
    return Keyring.from_settings(app_engine, settings)


@pytest.fixture(scope="session")
async def store(app_engine: AsyncEngine, keyring: Keyring) -> AsyncIterator[EventStore]:
    store = EventStore(app_engine, keyring=keyring)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def stream() -> str:
    """A stream id no other test uses (the session database is shared)."""
    return f"test-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Fresh:
    admin_url: str
    store: EventStore
    keyring: Keyring

    async def admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(plain_url(self.admin_url))


@pytest.fixture(scope="session")
async def template_db(
    pg_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    name = f"mashflow_tmpl_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_server_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = with_database(pg_server_url, name)
    await upgrade(make_settings(url, Path(tmp_path_factory.mktemp("tmpl"))))
    try:
        yield name
    finally:
        conn = await asyncpg.connect(pg_server_url)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture
async def fresh(pg_server_url: str, template_db: str, settings: Settings) -> AsyncIterator[Fresh]:
    """An empty migrated database for one test, with a store acting as the app role."""
    name = f"mashflow_fresh_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_server_url)
    await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    await conn.close()
    url = with_database(pg_server_url, name)
    engine = create_engine(url, pool_size=5)
    keyring = Keyring.from_settings(engine, settings)
    store = EventStore(engine, keyring=keyring)
    try:
        yield Fresh(url, store, keyring)
    finally:
        await store.close()
        await engine.dispose()
        conn = await asyncpg.connect(pg_server_url)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
