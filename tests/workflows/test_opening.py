"""Opening a request: one call that starts its workflow and answers once the opening is
recorded (update with start), with the opening's place in the log; bounded when no
worker takes the start."""

from __future__ import annotations

import uuid

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from app.consistency import ReadModels
from app.container import Infrastructure
from app.request_inputs import NewRequest, SubjectDetails
from app.requests import RequestService
from app.scenario_builder import Hub, open_request
from domain.vocabulary import PurposeCategory, Rating, SubjectKind
from workflows.common import request_stream, request_workflow_id
from workflows.sharing_request import SharingRequestWorkflow


async def test_the_opening_is_recorded_when_the_call_answers_and_says_where(
    hub: Hub, service: RequestService, infra: Infrastructure
) -> None:
    rid, _ = await open_request(hub, "Ola Opening-Example", ["police"])
    # No wait here: the call answered once the opening was in the log.
    stored = await infra.store.read_stream(request_stream(rid))
    assert [(e.version, e.event_type) for e in stored] == [(1, "request.opened")]
    handle = service.client.get_workflow_handle_for(
        SharingRequestWorkflow.run, request_workflow_id(rid)
    )
    assert await handle.execute_update(SharingRequestWorkflow.opening_recorded) == (
        stored[0].position
    )


async def test_without_a_worker_the_call_answers_once_the_start_is_durable(
    time_skipping_env: WorkflowEnvironment, hub: Hub, infra: Infrastructure
) -> None:
    # The same hub's requests sent to a task queue no worker polls: the start is durable
    # but nobody records the opening, so the call gives up waiting, bounded, and answers.
    idle = RequestService(
        time_skipping_env.client,
        infra.keyring,
        infra.agencies,
        f"no-worker-{uuid.uuid4().hex[:8]}",
        read_models=ReadModels(infra.store, wait_s=1.0),
    )
    new = NewRequest(
        subject=SubjectDetails(name="Una Waiting-Example"),
        subject_kind=SubjectKind.CHILD,
        requesting_agency=hub.requesting_agency,
        requested_by="u-coordinator-1",
        holding_agencies=["police"],
        purpose_category=PurposeCategory.SAFEGUARDING_WELFARE,
        purpose="Strategy discussion",
        information_sought="Police contact",
        rating=Rating.AMBER,
    )
    rid = await idle.open_request(hub.coordinator, new)
    handle = idle.client.get_workflow_handle(request_workflow_id(rid))
    try:
        assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
        assert await infra.store.read_stream(request_stream(rid)) == []
    finally:
        await handle.terminate(reason="test over")
