"""Workflow fixtures: the real store on real PostgreSQL, a worker on a real Temporal server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from app.container import Infrastructure, open_infrastructure
from app.packages import PackageService
from app.requests import RequestService
from app.scenarios import Hub
from infra.directory import AgencyDirectory, AlreadyExistsError
from infra.settings import Settings
from infra.temporal import data_converter
from tests.workflows.boundary import Boundary, kek_bytes
from worker.main import build_worker

HUB = [
    ("police", "Northshire Police", "police"),
    ("csc", "Northshire Children's Social Care", "childrens_social_care"),
    ("asc", "Northshire Adult Social Care", "adult_social_care"),
    ("gp_riverside", "Riverside GP Practice", "health_gp"),
    ("school_oak", "Oak Primary School", "education"),
    ("probation", "Probation Service North", "probation"),
]


async def register_hub(agencies: AgencyDirectory) -> None:
    for code, name, kind in HUB:
        with contextlib.suppress(AlreadyExistsError):
            await agencies.add(code, name, kind)


@pytest.fixture(scope="session")
async def infra(settings: Settings) -> AsyncIterator[Infrastructure]:
    async with open_infrastructure(settings) as made:
        await register_hub(made.agencies)
        yield made


@contextlib.asynccontextmanager
async def running_worker(
    client: Client, task_queue: str, infra: Infrastructure
) -> AsyncIterator[RequestService]:
    async with build_worker(client, task_queue, infra):
        yield RequestService(client, infra.keyring, infra.agencies, task_queue)


@pytest.fixture
async def service(
    time_skipping_env: WorkflowEnvironment, task_queue: str, infra: Infrastructure
) -> AsyncIterator[RequestService]:
    async with running_worker(time_skipping_env.client, task_queue, infra) as made:
        yield made


@pytest.fixture
async def hub(service: RequestService, infra: Infrastructure, settings: Settings) -> Hub:
    return Hub(
        service, PackageService(service, infra.packages, infra.agencies, settings, infra.store)
    )


@pytest.fixture
async def boundary(
    dev_server_env: WorkflowEnvironment, task_queue: str, infra: Infrastructure, settings: Settings
) -> AsyncIterator[Boundary]:
    """A running hub on the dev server, and an attacker's clients of the same frontend."""
    app = dev_server_env.client
    service = app.service_client
    stranger = Client(service, namespace=app.namespace)
    insider = Client(service, namespace=app.namespace, data_converter=data_converter(kek_bytes()))
    async with build_worker(app, task_queue, infra):
        requests = RequestService(app, infra.keyring, infra.agencies, task_queue)
        packages = PackageService(requests, infra.packages, infra.agencies, settings, infra.store)
        yield Boundary(Hub(requests, packages), infra, app, stranger, insider, task_queue)
