"""Retention fixtures: a worker with the retention activities, and a hub whose records
come up for review within weeks rather than years."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest
from temporalio.testing import WorkflowEnvironment

from app import scenarios
from app.container import Infrastructure
from app.packages import PackageService
from app.requests import RequestService
from app.retention import RetentionReview, RetentionService
from app.scenario_builder import Hub
from domain.policy import HubPolicy, RetentionPeriod, RetentionPolicy, RetentionRule
from domain.vocabulary import RecordType, RetentionAnchor
from infra.settings import Settings
from tests.conftest import time_skipping
from tests.workflows.conftest import infra  # noqa: F401 - the shared session fixture
from worker.main import build_worker

CLOSED, DECIDED = RetentionAnchor.CASE_CLOSED, RetentionAnchor.DECISION_DATE
SHORT_RETENTION = HubPolicy(
    retention=RetentionPolicy(
        review_within=timedelta(days=7),
        rules=[
            RetentionRule(
                record_type=record_type,
                period=RetentionPeriod(months=months),
                anchor=anchor,
                review_every=RetentionPeriod(months=every) if every else None,
            )
            for record_type, months, anchor, every in (
                (RecordType.SHARED_DECISION, 3, CLOSED, 1),
                (RecordType.NOT_SHARED_DECISION, 1, CLOSED, None),
                (RecordType.WITHDRAWN_REQUEST, 1, CLOSED, None),
                (RecordType.PACKAGE, 6, DECIDED, None),
            )
        ],
    )
)
"""Shared decisions reviewed a month after the case closes; packages kept half a year."""


@dataclass(frozen=True)
class RetentionHub:
    hub: Hub
    retention: RetentionService
    env: WorkflowEnvironment
    infra: Infrastructure


@pytest.fixture
async def time_skipping_env(settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of each retention test's own.

    Review workflows wait for people for weeks; left on a shared server they would keep
    it from skipping time for the tests that follow, and a server whose clock an earlier
    test moved on by weeks would see a new request's deadlines (set from the wall clock)
    already missed and its items (dated from today) already historical.
    """
    async with time_skipping(settings) as env:
        yield env


@pytest.fixture
async def retention_hub(
    time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    infra: Infrastructure,  # noqa: F811 - the fixture imported above
    settings: Settings,
) -> AsyncIterator[RetentionHub]:
    client = time_skipping_env.client
    worker = build_worker(client, task_queue, infra)
    async with worker:
        requests = RequestService(
            client, infra.keyring, infra.agencies, task_queue, policy=SHORT_RETENTION
        )
        hub = Hub(
            requests,
            PackageService(requests, infra.packages, infra.agencies, settings, infra.store),
        )
        retention = RetentionService(
            client, infra.store, infra.keyring, task_queue, policy=SHORT_RETENTION
        )
        yield RetentionHub(hub, retention, time_skipping_env, infra)


# -- on the real dev server: the CLI, the page and the schedules ------------------------------


@dataclass(frozen=True)
class DevHub:
    """A worker with the retention and checkpoint activities on the session's dev server,
    under the default hub policy (records come up after years: runs are told the day)."""

    hub: Hub
    retention: RetentionService
    env: WorkflowEnvironment
    infra: Infrastructure
    task_queue: str

    @property
    def address(self) -> str:
        return self.env.client.service_client.config.target_host


@pytest.fixture(scope="session")
async def dev_hub(
    dev_server_env: WorkflowEnvironment,
    infra: Infrastructure,  # noqa: F811 - the fixture imported above
    settings: Settings,
) -> AsyncIterator[DevHub]:
    client = dev_server_env.client
    queue = f"retention-dev-{uuid.uuid4().hex[:8]}"
    worker = build_worker(client, queue, infra)
    async with worker:
        requests = RequestService(client, infra.keyring, infra.agencies, queue)
        hub = Hub(
            requests,
            PackageService(requests, infra.packages, infra.agencies, settings, infra.store),
        )
        retention = RetentionService(client, infra.store, infra.keyring, queue)
        yield DevHub(hub, retention, dev_server_env, infra, queue)


async def closed_request(made: Infrastructure, hub: Hub, name: str) -> UUID:
    """A request walked to its end (shared, a package delivered), visible to log readers."""
    request_id = await scenarios.consent_given(hub, name=name)
    await hub.requests.result(request_id)
    # Reviews are found by reading the log, which shows a commit once no older
    # transaction anywhere on the server is still open: wait for that, not race it.
    events = await made.store.read_correlation(request_id)
    await made.store.wait_visible(max(e.position for e in events))
    return request_id


async def review_of(
    retention: RetentionService,
    request_id: UUID,
    record_type: RecordType = RecordType.SHARED_DECISION,
    timeout_s: float = 60,
) -> RetentionReview:
    """Wait for the review of this request's record to be opened (by its own workflow)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        for review in await retention.open_reviews():
            if review.request_id == request_id and review.record_type is record_type:
                return review
        await asyncio.sleep(0.2)
    raise TimeoutError("no review opened")
