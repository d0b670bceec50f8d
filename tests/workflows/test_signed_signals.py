"""Signals between the hub's workflows are signed; a receiving workflow drops any other.

The request tells its agencies' decisions of a re-rating or a withdrawal by signal.
A signal sent by anyone else through the Temporal frontend (a client with no key,
or with the KEK's codec but not the hub's signature), or one copied from a history
and sent again, is dropped by the receiving decision before any handler runs: its
state is unchanged and nothing is written. Real dev server, real PostgreSQL, the
project's worker.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from temporalio.api.common.v1 import Header, Payloads, WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import WorkflowExecutionSignaledEventAttributes
from temporalio.api.workflowservice.v1 import SignalWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.worker import Replayer

from domain.decision import AgencyDecisionState
from domain.events.catalogue import RequestWithdrawn
from domain.vocabulary import Rating
from infra.guard import CommandGuard
from tests.workflows.boundary import Boundary, kek_bytes
from worker.registry import WORKFLOWS
from workflows.agency_decision import AgencyDecisionWorkflow
from workflows.common import agency_workflow_id

SIGNALED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
Signaled = WorkflowExecutionSignaledEventAttributes


def _decision(client: Client, request_id: UUID) -> WorkflowHandle[AgencyDecisionWorkflow, object]:
    return client.get_workflow_handle_for(
        AgencyDecisionWorkflow.run, agency_workflow_id(request_id, "police")
    )


async def _state(boundary: Boundary, request_id: UUID) -> AgencyDecisionState:
    return await _decision(boundary.app, request_id).query(AgencyDecisionWorkflow.current)


async def _signals(client: Client, request_id: UUID) -> list[Signaled]:
    """Every signal the decision received, as its history stores it."""
    history = await _decision(client, request_id).fetch_history()
    return [
        e.workflow_execution_signaled_event_attributes
        for e in history.events
        if e.event_type == SIGNALED
    ]


async def _resend(client: Client, request_id: UUID, copied: Signaled, name: str) -> None:
    """Send a recorded signal again, byte for byte (its arguments end with its signature)."""
    await client.workflow_service.signal_workflow_execution(
        SignalWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(
                workflow_id=agency_workflow_id(request_id, "police")
            ),
            signal_name=name,
            input=Payloads(payloads=list(copied.input.payloads)),
            header=Header(fields=dict(copied.header.fields)),
            identity="stranger",
        )
    )


async def test_a_withdrawal_signalled_by_anyone_but_the_request_is_dropped(
    boundary: Boundary,
) -> None:
    request_id, subject_id, walk = await boundary.open()
    before = await boundary.written(request_id)
    plain = {
        "request_id": str(request_id),
        "reason": {"sealed": 1, "subject_id": str(subject_id), "ct": "A" * 40},
        "withdrawn_by": "forged-via-temporal",
        "withdrawn_at": datetime.now(UTC).isoformat(),
    }
    await _decision(boundary.stranger, request_id).signal("withdrawn", plain)
    # With the KEK's codec: a well-formed withdrawal, encrypted as the hub encrypts.
    encrypted = RequestWithdrawn(
        request_id=request_id,
        reason=await boundary.infra.keyring.seal(subject_id, "forged"),
        withdrawn_by="forged-via-temporal",
        withdrawn_at=datetime.now(UTC),
    )
    await _decision(boundary.insider, request_id).signal("withdrawn", encrypted)

    # The next real step comes after both signals in the history, so they were handled.
    await walk.assess()
    assert len(await _signals(boundary.app, request_id)) == 2
    state = await _state(boundary, request_id)
    assert state.withdrawn_at is None and state.is_open
    after = await boundary.written(request_id)
    assert after[len(before) :] == ["purpose.assessed by u-worker-police"]
    assert not any("forged-via-temporal" in e for e in after)


async def test_a_signed_signal_copied_from_a_history_is_dropped(boundary: Boundary) -> None:
    request_id, subject_id, walk = await boundary.open()
    coordinator = boundary.hub.coordinator
    requests = boundary.hub.requests
    await requests.change_rating(coordinator, request_id, Rating.RED, "a new concern", subject_id)
    await requests.change_rating(coordinator, request_id, Rating.GREEN, "resolved", subject_id)
    genuine = await _signals(boundary.app, request_id)
    assert len(genuine) == 2 and all(len(s.input.payloads) == 2 for s in genuine)  # + signature
    assert (await _state(boundary, request_id)).rating is Rating.GREEN  # signed: taken
    before = await boundary.written(request_id)

    first = genuine[0]  # the re-rating to red, with the request's own signature
    await _resend(boundary.stranger, request_id, first, "rating_changed")  # same id: taken
    await _resend(boundary.stranger, request_id, first, "withdrawn")  # signed for another
    other, _, _ = await boundary.open()
    await _resend(boundary.stranger, other, first, "rating_changed")  # bound elsewhere

    await walk.assess()
    assert len(await _signals(boundary.app, request_id)) == 4
    state = await _state(boundary, request_id)
    assert state.rating is Rating.GREEN and state.withdrawn_at is None
    assert (await _state(boundary, other)).rating is Rating.AMBER
    after = await boundary.written(request_id)
    assert after[len(before) :] == ["purpose.assessed by u-worker-police"]


async def test_histories_from_before_signing_replay_as_they_ran(boundary: Boundary) -> None:
    """A withdrawal's history with the signature taken out of its signal, as a decision
    running before signals were signed recorded it, replays on the guarded worker; so
    does the signed one."""
    request_id, subject_id, _ = await boundary.open()
    await boundary.hub.requests.withdraw(
        boundary.hub.coordinator, request_id, "no longer needed", subject_id
    )
    decision = _decision(boundary.app, request_id)
    await decision.result()
    signed = await decision.fetch_history()
    before = WorkflowHistory.from_json(signed.workflow_id, signed.to_json())
    signals = [
        e.workflow_execution_signaled_event_attributes
        for e in before.events
        if e.event_type == SIGNALED
    ]
    assert [len(s.input.payloads) for s in signals] == [2]  # the withdrawal, its signature
    for signal in signals:
        del signal.input.payloads[1:]
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=boundary.app.data_converter,
        interceptors=[CommandGuard(kek_bytes())],
    )
    for history in (signed, before):
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None
