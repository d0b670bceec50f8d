"""The hub's policy file, read by the one loader, sets the deadlines a workflow keeps:
real workflows on the time-skipping server, the real store on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from temporalio.testing import WorkflowEnvironment

from app import scenarios
from app.container import Infrastructure
from app.packages import PackageService
from app.requests import RequestService
from app.scenario_builder import Hub
from domain.events import DeadlineMissed, Escalated, RequestOpened
from domain.vocabulary import DeadlineKind, EscalationLevel, Role
from infra.policy_file import EXAMPLE_FILE, read_policy
from infra.settings import Settings

# The shipped defaults, with red's decision due in 30 minutes and its warning sent to
# the hub's coordinators as well as the agency's advisors.
RED_IN_30_MINUTES = (
    EXAMPLE_FILE.read_text()
    .replace('red = "4h"', 'red = "30m"')
    .replace('notify = ["advisor"]', 'notify = ["advisor", "coordinator"]', 1)
)


async def test_deadlines_from_the_policy_file_reach_the_workflow_and_the_record(
    time_skipping_env: WorkflowEnvironment,
    service: RequestService,
    infra: Infrastructure,
    settings: Settings,
    tmp_path: Path,
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(RED_IN_30_MINUTES)
    policy = read_policy(path)
    requests = RequestService(
        service.client, infra.keyring, infra.agencies, service.task_queue, policy
    )
    packages = PackageService(requests, infra.packages, infra.agencies, settings, infra.store)
    hub = Hub(requests, packages)
    opened: asyncio.Queue[UUID] = asyncio.Queue()
    answered = asyncio.Event()
    running = asyncio.create_task(scenarios.deadline_missed(hub, opened, answered))
    rid = await opened.get()
    await time_skipping_env.sleep(timedelta(minutes=45))
    events = [e.event for e in await infra.store.read_correlation(rid)]
    (opening,) = [e for e in events if isinstance(e, RequestOpened)]
    assert opening.policy == policy and opening.policy_digest == policy.digest()
    assert opening.decision_due_at == opening.opened_at + timedelta(minutes=30)
    (missed,) = [e for e in events if isinstance(e, DeadlineMissed)]
    assert (missed.kind, missed.due_at) == (DeadlineKind.DECISION, opening.decision_due_at)
    warning = next(e for e in events if isinstance(e, Escalated))
    assert warning.level is EscalationLevel.WARNING
    assert warning.notify == [Role.ADVISOR, Role.COORDINATOR]
    answered.set()
    assert await running == rid
