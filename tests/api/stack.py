"""The real stack behind the API for tests that walk requests: PostgreSQL, the Temporal dev
server, a worker from ``worker.main``, the read-model projection and the API over uvicorn.

One per test session for all of ``tests/api`` (the ``stack`` fixture, from the conftest):
each extra stack holds its own database pool and worker, and the machine's PostgreSQL is
shared by several test runs at once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from app.container import open_infrastructure
from app.requests import RequestService
from domain.decision import TaskKind
from domain.vocabulary import AgencyKind, Role
from infra.eventstore import EventStore
from infra.readmodels import ProjectionRunner
from infra.settings import Settings
from infra.users import UserDirectory
from tests.api.support import Person, patient, serving
from worker.main import build_worker

WAIT_S = 60.0


@dataclass(frozen=True)
class Stack:
    url: str
    store: EventStore
    requests: RequestService
    holder: str
    requester: str
    other: str
    people: dict[str, Person]

    async def task_id(self, request_id: str, agency: str, kind: TaskKind) -> str:
        """Wait until a task of ``kind`` is open; its id as the inbox would list it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        rid = uuid.UUID(request_id)
        while loop.time() < deadline:
            try:
                tasks = await self.requests.tasks(rid, agency)
                if any(t.kind is kind for t in tasks.tasks):
                    return f"{request_id}:{agency}:{kind}:{tasks.version}"
            except Exception:  # the decision may not have started yet
                pass
            await asyncio.sleep(0.1)
        raise TimeoutError(f"no {kind} task opened for {agency}")

    async def events(self, request_id: str) -> int:
        return len(await self.store.read_correlation(uuid.UUID(request_id)))


ASSESS: dict[str, object] = {
    "action": "assess_purpose",
    "purpose_clear": True,
    "identifiable": True,
    "confidential": True,
    "special_category": False,
}
"""A worker's assessment that the purpose holds (the body of the first step)."""


def _code(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session", name="stack")
async def stack_fixture(
    settings: Settings, dev_server_env: WorkflowEnvironment
) -> AsyncIterator[Stack]:
    """The API, a worker and the store on one Temporal dev server and one database."""
    own = patient(settings).with_overrides(temporal_task_queue=f"api-{uuid.uuid4().hex[:10]}")
    client = dev_server_env.client
    async with open_infrastructure(own) as infra:
        holder = (await infra.agencies.add(_code("police"), "Police", AgencyKind.POLICE)).code
        requester = (
            await infra.agencies.add(
                _code("csc"), "Children's social care", AgencyKind.CHILDRENS_SOCIAL_CARE
            )
        ).code
        other = (await infra.agencies.add(_code("gp"), "GP practice", AgencyKind.HEALTH_GP)).code
        users = UserDirectory(infra.engine)
        people: dict[str, Person] = {}
        for key, role, agency in (
            ("coordinator", Role.COORDINATOR, None),
            ("worker", Role.AGENCY_WORKER, holder),
            ("advisor", Role.ADVISOR, holder),
            ("recipient", Role.RECIPIENT, requester),
            ("compliance", Role.COMPLIANCE_OFFICER, None),
            ("other_worker", Role.AGENCY_WORKER, other),
            ("other_advisor", Role.ADVISOR, other),
            ("other_recipient", Role.RECIPIENT, other),
        ):
            issued = await users.add(f"Flow {key}", role, agency)
            people[key] = Person(issued.user.id, role, agency, issued.token)
        worker = build_worker(client, own.temporal_task_queue, infra)
        requests = RequestService(client, infra.keyring, infra.agencies, own.temporal_task_queue)
        projections = ProjectionRunner(infra.store, poll_interval=0.05)  # the read models
        projections.start()
        try:
            app = create_app(own, engine=infra.engine, temporal=client)
            async with worker, serving(app) as url:
                yield Stack(url, infra.store, requests, holder, requester, other, people)
        finally:
            await projections.stop()
