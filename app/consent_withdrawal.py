"""Recording that consent was withdrawn, whether the agency's decision is open or complete.

What follows a withdrawal is the domain's (:mod:`domain.withdrawal`: why a data
protection officer can defend it). While the decision is open, its workflow records
it (the ``record_consent_withdrawn`` update) and tells the recipient if the package has
gone. Once the decision is complete its workflow has ended and writes nothing more, so
the same pure handler runs here on the state the log rebuilds, the event is appended
against the stream's head (a concurrent write is refused, never overwritten), and the
recipient agency's notification is put in the outbox with the same wording.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from uuid import UUID

from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from app.history import RequestNotFound
from app.requests import RequestService
from domain.commands import WithdrawConsent
from domain.decision import AgencyDecisionState, fold, start
from domain.events import EventMetadata, RequestOpened
from domain.events.access import AccessRefused, PersonalDataViewed
from domain.models import Actor
from domain.permissions import Action, require
from domain.vocabulary import ConsentGiver, Role
from domain.withdrawal import decide_consent_withdrawn
from infra.eventstore import EventStore, NewEvent
from infra.packages import Notification, Outbox
from workflows.agency_decision import AgencyDecisionWorkflow
from workflows.common import agency_stream, agency_workflow_id, request_stream
from workflows.consent_steps import CONSENT_WITHDRAWN

UPDATE = "record_consent_withdrawn"


async def subject_of(store: EventStore, request_id: UUID) -> UUID:
    """The request's subject, from its opening in the log (a closed request's workflow
    may no longer answer queries): what free text is sealed under."""
    recorded = await store.read_stream(request_stream(request_id))
    opened = next((r.event for r in recorded if isinstance(r.event, RequestOpened)), None)
    if opened is None:
        raise RequestNotFound(request_id)
    return opened.subject_id


async def record_withdrawal(
    requests: RequestService,
    store: EventStore,
    outbox: Outbox,
    actor: Actor,
    request_id: UUID,
    agency: str,
    *,
    withdrawn_by: ConsentGiver,
    withdrawn_on: date,
    scope: str | None,
    note: str | None,
) -> int:
    """The use case the API and the pages share: a worker of ``agency`` records that the
    consent given for its decision was withdrawn. The free text (what the withdrawal
    covers, a note) is sealed under the request's subject before anything is recorded;
    returns the decision stream's version."""
    require(actor, Action.DECIDE, agency, doing="record that consent was withdrawn")
    subject_id = await subject_of(store, request_id)
    command = WithdrawConsent(
        withdrawn_by=withdrawn_by,
        withdrawn_on=withdrawn_on,
        scope=await requests.seal(subject_id, scope) if scope else None,
        note=await requests.seal(subject_id, note) if note else None,
    )
    return await record_consent_withdrawn(
        requests, store, outbox, actor, request_id, agency, command
    )


async def record_consent_withdrawn(
    requests: RequestService,
    store: EventStore,
    outbox: Outbox,
    actor: Actor,
    request_id: UUID,
    agency: str,
    command: WithdrawConsent,
) -> int:
    """Record the withdrawal against ``agency``'s decision; returns the stream's version."""
    handle = requests.client.get_workflow_handle_for(
        AgencyDecisionWorkflow.run, agency_workflow_id(request_id, agency)
    )
    try:
        running = (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise RequestNotFound(request_id) from None
        raise
    if running:
        return (await requests.step(actor, request_id, agency, UPDATE, command)).version
    return await _after_completion(store, outbox, actor, request_id, agency, command)


async def folded(store: EventStore, request_id: UUID, agency: str) -> AgencyDecisionState:
    """The agency's decision as its log says now: after the decision's workflow has ended,
    what was recorded since (a withdrawal) is only there."""
    recorded = await store.read_correlation(request_id)
    events = [
        r.event for r in recorded if not isinstance(r.event, PersonalDataViewed | AccessRefused)
    ]
    opened = next((e for e in events if isinstance(e, RequestOpened)), None)
    if opened is None:
        raise RequestNotFound(request_id)
    return fold(start(opened, agency), events)


async def _after_completion(
    store: EventStore,
    outbox: Outbox,
    actor: Actor,
    request_id: UUID,
    agency: str,
    command: WithdrawConsent,
) -> int:
    state = await folded(store, request_id, agency)
    now = datetime.now(UTC)
    decided = decide_consent_withdrawn(state, command, actor, now)
    stream = agency_stream(request_id, agency)
    metadata = EventMetadata(
        actor_id=actor.user_id,
        actor_role=actor.role.value,
        actor_agency=actor.agency,
        correlation_id=request_id,
    )
    head = await store.stream_version(stream)
    result = await store.append(
        stream, head, [NewEvent(uuid.uuid4(), e, metadata) for e in decided]
    )
    if state.package is not None:
        await outbox.put(
            Notification(
                notification_id=uuid.uuid4(),
                request_id=request_id,
                agency=state.package.recipient_agency,
                audience_roles=[Role.RECIPIENT.value, Role.AGENCY_WORKER.value],
                kind=CONSENT_WITHDRAWN,
                due_at=None,
                created_at=now,
            )
        )
    return result.version
