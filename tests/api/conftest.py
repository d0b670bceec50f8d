"""API fixtures: the app served by uvicorn over real HTTP on a free port, people of every role."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from domain.vocabulary import AgencyKind, Role
from infra.db import create_engine
from infra.directory import AgencyDirectory, UserDirectory
from infra.settings import Settings
from infra.stack import free_port

if TYPE_CHECKING:
    from tests.conftest import TestDatabase


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 in this event loop; yield its base URL; shut down cleanly."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if not server.started:
        server.should_exit = True
        await task
        raise RuntimeError("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@pytest.fixture(scope="session")
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.admin_url, pool_size=5)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def agencies(engine: AsyncEngine, settings: Settings) -> AgencyDirectory:
    return AgencyDirectory(engine, settings.key_encryption_key())


@pytest.fixture(scope="session")
def users(engine: AsyncEngine) -> UserDirectory:
    return UserDirectory(engine)


def patient(settings: Settings) -> Settings:
    """Settings for a test app shared by many tests, all calling from 127.0.0.1: the failed
    sign-ins they make on purpose must not add up to the limit (tested on its own app)."""
    return settings.with_overrides(signin_failure_limit=10_000)


@pytest.fixture(scope="session")
async def api_url(settings: Settings, engine: AsyncEngine) -> AsyncIterator[str]:
    async with serving(create_app(patient(settings), engine=engine)) as url:
        yield url


@pytest.fixture
async def client(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api_url, timeout=10) as client:
        yield client


def unique_code(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Person:
    user_id: uuid.UUID
    role: Role
    agency: str | None
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Hub:
    police: str
    health: str
    people: dict[Role, Person]


@pytest.fixture(scope="session")
async def hub(agencies: AgencyDirectory, users: UserDirectory) -> Hub:
    """Two agencies of their own and one person of each role (this session's, unique codes)."""
    police = (await agencies.add(unique_code("police"), "Police", AgencyKind.POLICE)).code
    health = (await agencies.add(unique_code("gp"), "GP practice", AgencyKind.HEALTH_GP)).code
    people: dict[Role, Person] = {}
    for role, agency in (
        (Role.COORDINATOR, None),
        (Role.AGENCY_WORKER, police),
        (Role.ADVISOR, police),
        (Role.RECIPIENT, health),
        (Role.COMPLIANCE_OFFICER, None),
    ):
        issued = await users.add(f"Test {role.value}", role, agency)
        people[role] = Person(issued.user.id, role, agency, issued.token)
    return Hub(police, health, people)


# The real stack (Temporal, a worker, the projection, the API) shared by every test here that
# walks a request; imported last because it builds on the helpers above.
from tests.api.stack import stack_fixture as stack_fixture  # noqa: E402
