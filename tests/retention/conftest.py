"""Retention fixtures: a worker with the retention activities, and a hub whose records
come up for review within weeks rather than years."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from app.packages import PackageService
from app.requests import RequestService
from app.retention import RetentionService
from app.scenarios import Hub
from domain.policy import HubPolicy, RetentionPeriod, RetentionPolicy, RetentionRule
from domain.vocabulary import RecordType, RetentionAnchor
from infra.settings import Settings
from tests.workflows.conftest import infra  # noqa: F401 - the shared session fixture
from worker.main import Infrastructure, build_worker

SHORT_RETENTION = HubPolicy(
    retention=RetentionPolicy(
        review_within=timedelta(days=7),
        rules=[
            RetentionRule(
                record_type=RecordType.SHARED_DECISION,
                period=RetentionPeriod(months=3),
                anchor=RetentionAnchor.CASE_CLOSED,
                review_every=RetentionPeriod(months=1),
            ),
            RetentionRule(
                record_type=RecordType.NOT_SHARED_DECISION,
                period=RetentionPeriod(months=1),
                anchor=RetentionAnchor.CASE_CLOSED,
            ),
            RetentionRule(
                record_type=RecordType.WITHDRAWN_REQUEST,
                period=RetentionPeriod(months=1),
                anchor=RetentionAnchor.CASE_CLOSED,
            ),
            RetentionRule(
                record_type=RecordType.PACKAGE,
                period=RetentionPeriod(months=6),
                anchor=RetentionAnchor.DECISION_DATE,
            ),
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


@pytest.fixture(scope="module")
async def time_skipping_env(settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the retention tests' own.

    Review workflows wait for people for weeks; left on the session's shared server
    they would keep it from skipping time for every test that follows.
    """
    from infra.stack import venv_binary
    from infra.temporal import data_converter

    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(settings.key_encryption_key()),
        test_server_existing_path=str(venv_binary("temporal-test-server")),
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def retention_hub(
    time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    infra: Infrastructure,  # noqa: F811 - the fixture imported above
    settings: Settings,
) -> AsyncIterator[RetentionHub]:
    client = time_skipping_env.client
    worker = build_worker(client, task_queue, infra.activities(), infra.retention_activities())
    async with worker:
        requests = RequestService(
            client, infra.keyring, infra.agencies, task_queue, policy=SHORT_RETENTION
        )
        hub = Hub(requests, PackageService(requests, infra.packages, infra.agencies, settings))
        retention = RetentionService(
            client, infra.store, infra.keyring, task_queue, policy=SHORT_RETENTION
        )
        yield RetentionHub(hub, retention, time_skipping_env, infra)
