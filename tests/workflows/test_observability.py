"""What operators see of running requests: search attributes and the worker's metrics.

Against the real Temporal dev server (search attributes registered by its start-up
flags, as the embedded stack does), a worker whose client serves Prometheus metrics,
and a red request whose decision deadline passes in two seconds: its workflows are
found by rating, agency and overdue, and the worker's endpoint shows the SDK's
metrics and the hub's business figures, with no personal data in either.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from app.container import Infrastructure
from app.packages import PackageService
from app.requests import RequestService
from app.scenario_builder import Hub, open_request
from domain.policy import HubPolicy, RatingWindows
from domain.vocabulary import Rating
from infra import search_attributes
from infra.readmodels import ProjectionRunner
from infra.search_attributes import SEARCH_ATTRIBUTES
from infra.settings import Settings
from infra.stack import free_port, venv_binary
from infra.temporal import client_interceptors, data_converter
from worker.main import build_worker
from worker.metrics import BusinessGauges, prometheus_runtime
from workflows.common import agency_workflow_id, request_workflow_id
from workflows.search import AGENCIES, DUE_AT, OVERDUE, RATING

SUBJECT = "Ola Searchable-Example"


def windows(red: float) -> RatingWindows:
    hour = timedelta(hours=1)
    return RatingWindows(red=timedelta(seconds=red), amber=hour, green=hour)


RED_IN_2_SECONDS = HubPolicy(
    decision=windows(2),
    consent=windows(600),
    advice=windows(600),
    acknowledgement=windows(600),
    working_hours_ratings=[],
)


class Observed:
    def __init__(self, hub: Hub, client: Client, metrics_url: str) -> None:
        self.hub = hub
        self.client = client
        self.metrics_url = metrics_url


@pytest.fixture
async def observed(
    dev_server_env: WorkflowEnvironment, task_queue: str, infra: Infrastructure, settings: Settings
) -> AsyncIterator[Observed]:
    address = f"127.0.0.1:{free_port()}"
    runtime = prometheus_runtime(address)
    kek = settings.key_encryption_key()
    client = await Client.connect(
        dev_server_env.client.service_client.config.target_host,
        data_converter=data_converter(kek),
        interceptors=client_interceptors(kek),
        runtime=runtime,
    )
    gauges = BusinessGauges(runtime.metric_meter, infra.engine, interval_s=0.2)
    gauging = asyncio.create_task(gauges.run())
    projections = ProjectionRunner(infra.store)  # as the worker process runs it
    projections.start()
    try:
        async with build_worker(client, task_queue, infra, max_cached_workflows=50):
            requests = RequestService(
                client, infra.keyring, infra.agencies, task_queue, RED_IN_2_SECONDS
            )
            packages = PackageService(
                requests, infra.packages, infra.agencies, settings, infra.store
            )
            yield Observed(Hub(requests, packages), client, f"http://{address}/metrics")
    finally:
        gauges.stop()
        await gauging
        await projections.stop()


async def listed(client: Client, query: str) -> list[str]:
    return [w.id async for w in client.list_workflows(query)]


async def eventually_listed(client: Client, query: str, expected: list[str]) -> None:
    found: list[str] = []
    for _ in range(150):  # visibility is written after the workflow task: wait, bounded
        found = sorted(await listed(client, query))
        if found == sorted(expected):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{query!r} listed {found}, expected {expected}")


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the first sample of ``name`` whose labels include ``labels``."""
    for line in text.splitlines():
        match = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return None


async def test_a_late_red_request_is_found_by_its_search_attributes_and_counted(
    observed: Observed,
) -> None:
    client = observed.client
    rid, _ = await open_request(observed.hub, SUBJECT, ["police"], Rating.RED)
    request_id, decision_id = request_workflow_id(rid), agency_workflow_id(rid, "police")
    mine = f'WorkflowId IN ("{request_id}", "{decision_id}")'

    await eventually_listed(
        client,
        f'{mine} AND MashflowRating = "red" AND MashflowAgencies = "police"',
        [request_id, decision_id],
    )
    assert await listed(client, f'{mine} AND MashflowRating = "green"') == []
    assert await listed(client, f'{mine} AND MashflowAgencies = "school_oak"') == []
    # The deadline passes two seconds in: the decision says so, and is found by it.
    await eventually_listed(client, f"{mine} AND MashflowOverdue = true", [decision_id])
    past = (datetime.now(UTC) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    await eventually_listed(
        client,
        f'{mine} AND MashflowDueAt < "{past}" AND ExecutionStatus = "Running"',
        [request_id, decision_id],
    )
    described = await client.get_workflow_handle(decision_id).describe()
    assert SUBJECT not in repr(described.typed_search_attributes)

    async with httpx.AsyncClient() as http:
        text = ""
        for _ in range(100):  # the gauges refresh every 0.2 s; the SDK exports as it goes
            text = (await http.get(observed.metrics_url)).text
            if (sample(text, "mashflow_decisions_late", agency="police") or 0) >= 1 and (
                sample(text, "mashflow_escalations", agency="police", level="breach") or 0
            ) >= 1:
                break
            await asyncio.sleep(0.2)
    assert (sample(text, "mashflow_requests_open", rating="red") or 0) >= 1
    assert (sample(text, "mashflow_decisions_late", agency="police") or 0) >= 1
    assert (sample(text, "mashflow_deadlines_missed", agency="police", kind="decision") or 0) >= 1
    assert (sample(text, "mashflow_escalations", agency="police", level="breach") or 0) >= 1
    assert re.search(r"^temporal_workflow_completed|^temporal_workflow_task", text, re.M), (
        "the SDK's own metrics"
    )
    assert SUBJECT not in text and str(rid) not in text


def test_the_namespace_registers_every_attribute_the_workflows_upsert() -> None:
    upserted = {
        key.name: key.indexed_value_type.name for key in (RATING, AGENCIES, DUE_AT, OVERDUE)
    }
    registered = {name: kind.upper() for name, kind in SEARCH_ATTRIBUTES.items()}
    assert upserted == {n: k.replace("KEYWORDLIST", "KEYWORD_LIST") for n, k in registered.items()}


async def test_a_worker_registers_the_attributes_a_namespace_lacks() -> None:
    env = await WorkflowEnvironment.start_local(  # no --search-attribute flags
        dev_server_existing_path=str(venv_binary("temporal")),
        dev_server_extra_args=["--log-level", "warn"],
        ui=False,
    )
    try:
        request = ListSearchAttributesRequest(namespace=env.client.namespace)
        before = await env.client.operator_service.list_search_attributes(request)
        assert not set(SEARCH_ATTRIBUTES) & set(before.custom_attributes)
        await search_attributes.ensure(env.client)
        await search_attributes.ensure(env.client)  # again: nothing to add, no error
        after = await env.client.operator_service.list_search_attributes(request)
        assert (
            after.custom_attributes["MashflowDueAt"] == IndexedValueType.INDEXED_VALUE_TYPE_DATETIME
        )
        assert set(SEARCH_ATTRIBUTES) <= set(after.custom_attributes)
    finally:
        await env.shutdown()
