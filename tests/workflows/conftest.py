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
from app.scenario_builder import Hub, register_agencies
from domain.policy import DEFAULT_POLICY, HubPolicy
from infra.settings import Settings
from infra.temporal import data_converter
from tests.workflows.boundary import Boundary, kek_bytes
from worker.main import build_worker


def hub_of(requests: RequestService, infra: Infrastructure, settings: Settings) -> Hub:
    """The scenario's people, using ``requests`` and a package service beside it."""
    packages = PackageService(requests, infra.packages, infra.agencies, settings, infra.store)
    return Hub(requests, packages)


@pytest.fixture(scope="session")
async def infra(settings: Settings) -> AsyncIterator[Infrastructure]:
    async with open_infrastructure(settings) as made:
        await register_agencies(made.agencies)
        yield made


@contextlib.asynccontextmanager
async def running_worker(
    client: Client, task_queue: str, infra: Infrastructure, policy: HubPolicy = DEFAULT_POLICY
) -> AsyncIterator[RequestService]:
    """A worker on ``task_queue``, and the requests service that starts work on it."""
    async with build_worker(client, task_queue, infra):
        yield RequestService(client, infra.keyring, infra.agencies, task_queue, policy)


@pytest.fixture
async def service(
    time_skipping_env: WorkflowEnvironment, task_queue: str, infra: Infrastructure
) -> AsyncIterator[RequestService]:
    async with running_worker(time_skipping_env.client, task_queue, infra) as made:
        yield made


@pytest.fixture
async def hub(service: RequestService, infra: Infrastructure, settings: Settings) -> Hub:
    return hub_of(service, infra, settings)


@pytest.fixture
async def boundary(
    dev_server_env: WorkflowEnvironment, task_queue: str, infra: Infrastructure, settings: Settings
) -> AsyncIterator[Boundary]:
    """A running hub on the dev server, and an attacker's clients of the same frontend."""
    app = dev_server_env.client
    service = app.service_client
    stranger = Client(service, namespace=app.namespace)
    insider = Client(service, namespace=app.namespace, data_converter=data_converter(kek_bytes()))
    async with running_worker(app, task_queue, infra) as requests:
        yield Boundary(hub_of(requests, infra, settings), infra, app, stranger, insider, task_queue)
