"""API fixtures: the app served by uvicorn over real HTTP on a free port, people of every role,
and the real stack (Temporal, a worker, the projection, the API) for tests that walk requests.

``serving``, ``patient`` and ``Person`` live in :mod:`tests.api.support` and are re-exported here.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.app import create_app
from domain.vocabulary import AgencyKind, Role
from infra.directory import AgencyDirectory
from infra.settings import Settings
from infra.users import UserDirectory
from tests.api.stack import Stack
from tests.api.stack import stack_fixture as stack_fixture  # one real stack for tests/api
from tests.api.support import Person as Person
from tests.api.support import patient as patient
from tests.api.support import serving as serving
from tests.conftest import engine_on

if TYPE_CHECKING:
    from tests.conftest import TestDatabase


@pytest.fixture(scope="session")
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    async with engine_on(database.admin_url) as engine:
        yield engine


@pytest.fixture(scope="session")
def agencies(engine: AsyncEngine, settings: Settings) -> AgencyDirectory:
    return AgencyDirectory(engine, settings.key_encryption_key())


@pytest.fixture(scope="session")
def users(engine: AsyncEngine) -> UserDirectory:
    return UserDirectory(engine)


MASHFLOW = Path(sys.executable).parent / "mashflow"
"""The CLI's real entry point, as installed in this environment."""


@pytest.fixture(scope="session")
async def api_url(settings: Settings, engine: AsyncEngine, temporal: Client) -> AsyncIterator[str]:
    async with serving(create_app(patient(settings), engine=engine, temporal=temporal)) as url:
        yield url


@pytest.fixture
async def client(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def cli_env(database: TestDatabase) -> dict[str, str]:
    kek = database.settings.kek
    assert kek is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASHFLOW_")}
    return env | {
        "MASHFLOW_ENVIRONMENT": "test",
        "MASHFLOW_DATABASE_URL": database.admin_url,
        "MASHFLOW_KEK": kek.get_secret_value(),
        "MASHFLOW_DATA_DIR": tempfile.mkdtemp(prefix="mashflow-cli-"),
        "MASHFLOW_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }


def unique_code(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Registered:
    police: str
    health: str
    people: dict[Role, Person]


@pytest.fixture(scope="session")
async def hub(agencies: AgencyDirectory, users: UserDirectory) -> Registered:
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
    return Registered(police, health, people)


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the session's API (``stack``)."""
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        yield client
