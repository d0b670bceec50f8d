"""Temporal is not a trust boundary: commands that did not come from the application fail.

Each test runs an attack reproduced against a running hub: the real Temporal dev
server, real PostgreSQL, and a worker with the project's data converter and
command guard. The attacker reaches the Temporal frontend with a client of its
own (no KEK, or the KEK's codec but not the application's signature), and every
attack is refused with nothing written to the event store.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from temporalio.api.common.v1 import Header, Payload, Payloads, WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.enums.v1 import UpdateWorkflowExecutionLifecycleStage as Stage
from temporalio.api.update.v1 import Input, Meta, Request, WaitPolicy
from temporalio.api.workflowservice.v1 import UpdateWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from activities.models import DueReview
from domain.commands import DisposeRecord
from domain.models import Actor, DisposalReason
from domain.policy import HubPolicy
from domain.vocabulary import RecordType, Role
from infra.codec import ENCODING, KEY_ID_METADATA, REFUSED_TYPE
from infra.guard import REFUSED_TYPE as UNSIGNED_TYPE
from tests.workflows.boundary import Boundary
from workflows.common import agency_workflow_id, request_workflow_id
from workflows.retention import RetentionReviewTaskWorkflow, ReviewTaskInput

COMPLETED = Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED

OFFICER = Actor(user_id="u-officer", role=Role.COMPLIANCE_OFFICER)

FORGED_ACTOR = {"user_id": "forged-via-temporal", "role": "agency_worker", "agency": "police"}
ASSESSMENT = {
    "purpose_clear": True,
    "identifiable": True,
    "confidential": True,
    "special_category": False,
}


def _refusal(exc: WorkflowUpdateFailedError | WorkflowFailureError) -> str | None:
    cause = exc.cause
    return cause.type if isinstance(cause, ApplicationError) else None


async def test_an_update_with_a_plain_json_actor_is_refused_and_writes_nothing(
    boundary: Boundary,
) -> None:
    request_id, _, walk = await boundary.open()
    before = await boundary.written(request_id)
    handle = boundary.stranger.get_workflow_handle(agency_workflow_id(request_id, "police"))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update("assess_purpose", args=[FORGED_ACTOR, ASSESSMENT])
    assert _refusal(refused.value) == REFUSED_TYPE
    assert await boundary.written(request_id) == before
    # The decision is not wedged: the real worker's next step is recorded as usual.
    await walk.assess()
    after = await boundary.written(request_id)
    assert after[len(before) :] == ["purpose.assessed by u-worker-police"]
    assert not any("forged-via-temporal" in e for e in after)


async def test_an_encrypted_update_the_application_did_not_sign_is_refused(
    boundary: Boundary,
) -> None:
    """Even with the KEK's codec, a command needs the application's signature."""
    request_id, _, _ = await boundary.open()
    before = await boundary.written(request_id)
    handle = boundary.insider.get_workflow_handle(agency_workflow_id(request_id, "police"))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update("assess_purpose", args=[FORGED_ACTOR, ASSESSMENT])
    assert _refusal(refused.value) == UNSIGNED_TYPE
    assert await boundary.written(request_id) == before


async def _accepted_update(client: Client, workflow_id: str) -> Request:
    """The first accepted update of a workflow, exactly as its history stores it."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            return event.workflow_execution_update_accepted_event_attributes.accepted_request
    raise AssertionError(f"no accepted update in {workflow_id}")


async def _replay(client: Client, workflow_id: str, update_id: str, copied: Request) -> str | None:
    """Send the copied arguments and signature as a new update, byte for byte."""
    response = await client.workflow_service.update_workflow_execution(
        UpdateWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id),
            wait_policy=WaitPolicy(lifecycle_stage=COMPLETED),
            request=Request(
                meta=Meta(update_id=update_id, identity="stranger"),
                input=Input(
                    name=copied.input.name,
                    header=Header(fields=dict(copied.input.header.fields)),
                    args=Payloads(payloads=list(copied.input.args.payloads)),
                ),
            ),
        )
    )
    failure = response.outcome.failure
    if not response.outcome.HasField("failure"):
        return None
    return failure.application_failure_info.type


async def test_arguments_copied_from_one_request_into_another_are_refused(
    boundary: Boundary,
) -> None:
    first, _, walk = await boundary.open()
    await walk.assess()
    second, _, _ = await boundary.open()
    copied = await _accepted_update(boundary.stranger, agency_workflow_id(first, "police"))
    assert copied.input.name == "assess_purpose"
    before = await boundary.written(second)

    # Into another request's decision: the ciphertext is bound to the first workflow.
    target = agency_workflow_id(second, "police")
    assert await _replay(boundary.stranger, target, "copied-1", copied) == REFUSED_TYPE
    assert await boundary.written(second) == before

    # Into the same decision under a new task id: the signature names the original one.
    source = agency_workflow_id(first, "police")
    before_first = await boundary.written(first)
    assert await _replay(boundary.stranger, source, "copied-2", copied) == UNSIGNED_TYPE
    # Under its own task id: the server answers with the first outcome and runs nothing.
    assert await _replay(boundary.stranger, source, copied.meta.update_id, copied) is None
    assert await boundary.written(first) == before_first


def _review_of(request_id: UUID, subject_id: UUID) -> ReviewTaskInput:
    """A review of the request's decision record, due today (by its own say-so)."""
    return ReviewTaskInput(
        due=DueReview(
            request_id=request_id,
            subject_id=subject_id,
            record_type=RecordType.SHARED_DECISION,
            due_on=date.today(),
        ),
        review_id=uuid.uuid4(),
        policy=HubPolicy(),
    )


async def test_a_review_started_by_hand_is_refused_at_its_first_step_and_erases_nothing(
    boundary: Boundary,
) -> None:
    request_id, subject_id, _ = await boundary.open()
    before = await boundary.written(request_id)
    review = _review_of(request_id, subject_id)
    # With no KEK the input is refused; with the KEK's codec, the missing signature is.
    attempts: list[tuple[Client, object, str]] = [
        (boundary.stranger, review.model_dump(mode="json"), REFUSED_TYPE),
        (boundary.insider, review, UNSIGNED_TYPE),
    ]
    for client, arg, expected in attempts:
        handle: WorkflowHandle[Any, Any] = await client.start_workflow(
            "RetentionReviewTaskWorkflow",
            args=[arg],
            id=f"retention-forged-{uuid.uuid4()}",
            task_queue=boundary.task_queue,
        )
        with pytest.raises(WorkflowFailureError) as refused:
            await handle.result()
        assert _refusal(refused.value) == expected
    assert await boundary.written(request_id) == before
    # The subject's key is whole: what was sealed for the subject still opens.
    assert await boundary.infra.keyring.erased_at(subject_id) is None
    sealed = await boundary.infra.keyring.seal(subject_id, "still readable")
    assert await boundary.infra.keyring.open(sealed) == "still readable"


async def test_the_application_s_own_review_of_a_record_not_due_refuses_disposal(
    boundary: Boundary,
) -> None:
    """Signed, by a compliance officer, and still refused: the log does not make it due."""
    request_id, subject_id, _ = await boundary.open()
    review = _review_of(request_id, subject_id)
    workflow_id = f"retention-mistaken-{uuid.uuid4()}"
    handle = await boundary.app.start_workflow(
        RetentionReviewTaskWorkflow.run, review, id=workflow_id, task_queue=boundary.task_queue
    )
    await _until_open(handle)
    before = await boundary.written(request_id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            RetentionReviewTaskWorkflow.dispose,
            args=[OFFICER, DisposeRecord(reason=DisposalReason.NO_LONGER_NECESSARY)],
        )
    assert _refusal(refused.value) == "InvalidState"
    assert await boundary.written(request_id) == before
    assert await boundary.infra.keyring.erased_at(subject_id) is None
    await handle.terminate("test over")


async def _until_open(handle: WorkflowHandle[Any, Any]) -> None:
    for _ in range(200):
        view = await handle.query(RetentionReviewTaskWorkflow.current)
        if view.state is not None:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the review never opened")


async def test_a_sharing_request_started_by_hand_is_refused_and_writes_nothing(
    boundary: Boundary,
) -> None:
    request_id, _, _ = await boundary.open()
    genuine = boundary.app.get_workflow_handle(request_workflow_id(request_id))
    started = await genuine.fetch_history()
    arg = started.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    forged = uuid.uuid4()
    forged_start: WorkflowHandle[Any, Any] = await boundary.stranger.start_workflow(
        "SharingRequestWorkflow",
        args=[RawValue(arg)],
        id=request_workflow_id(forged),
        task_queue=boundary.task_queue,
    )
    with pytest.raises(WorkflowFailureError) as refused:
        await forged_start.result()
    # The copied input is bound to the genuine request's workflow id.
    assert _refusal(refused.value) == REFUSED_TYPE
    assert await boundary.written(forged) == []


async def test_an_update_sealed_under_another_key_id_is_refused_and_stalls_nothing(
    boundary: Boundary,
) -> None:
    request_id, _, walk = await boundary.open()
    before = await boundary.written(request_id)
    bogus = Payload(
        metadata={"encoding": ENCODING, KEY_ID_METADATA: b"00000000deadbeef"},
        data=os.urandom(64),
    )
    forged = Request(
        meta=Meta(update_id="bogus"),
        input=Input(name="assess_purpose", args=Payloads(payloads=[bogus, bogus])),
    )
    target = agency_workflow_id(request_id, "police")
    assert await _replay(boundary.stranger, target, "bogus", forged) == REFUSED_TYPE
    assert await boundary.written(request_id) == before
    await asyncio.wait_for(walk.assess(), timeout=30)
    after = await boundary.written(request_id)
    assert after[len(before) :] == ["purpose.assessed by u-worker-police"]
