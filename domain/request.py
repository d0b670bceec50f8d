"""The whole request as state: opening, re-rating, withdrawal, deadlines and closing.

``SharingRequestState`` is what ``SharingRequestWorkflow`` holds. It follows
every agency's progress against the decision deadline, because late answers
from partner agencies are the commonest complaint about hubs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel

from domain.commands import ChangeRating, WithdrawRequest
from domain.decision import AgencyDecisionState
from domain.errors import InvalidState, ValidationFailed
from domain.events.base import Event
from domain.events.catalogue import (
    AgencyDecisionCompleted,
    DeadlineMissed,
    DecisionRecorded,
    Escalated,
    RatingChanged,
    RequestClosed,
    RequestEvent,
    RequestOpened,
    RequestWithdrawn,
)
from domain.events.values import AgencyCode, UtcDateTime
from domain.frozen import Frozen
from domain.models import Actor, sealed_values
from domain.opening import decide_open as decide_open
from domain.opening import decide_share_proactively as decide_share_proactively
from domain.opening import registered_holders as registered_holders
from domain.permissions import Action, require
from domain.policy import DEFAULT_POLICY, EscalationPoint, HubPolicy, rerated_deadline
from domain.vocabulary import (
    DeadlineKind,
    EscalationLevel,
    NotShareReason,
    Outcome,
    Rating,
)


class RequestStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class AgencyStatus(StrEnum):
    AWAITING_DECISION = "awaiting_decision"
    DECIDED = "decided"
    COMPLETED = "completed"


class AgencyProgress(Frozen):
    agency: AgencyCode
    status: AgencyStatus = AgencyStatus.AWAITING_DECISION
    outcome: Outcome | None = None
    decided_at: UtcDateTime | None = None
    completed_at: UtcDateTime | None = None
    missed: list[DeadlineKind] = []
    not_share_reasons: list[NotShareReason] = []
    """Why the agency did not share, in the structured words the requester is told (the
    2018 advice: explain a decision not to share to the requester; never personal data)."""

    def late(self, due_at: datetime, now: datetime) -> bool:
        """Answered after the deadline, or still unanswered past it."""
        return (self.decided_at or now) > due_at


class SharingRequestState(Frozen):
    request_id: UUID
    subject_id: UUID
    requesting_agency: AgencyCode
    rating: Rating
    opened_at: UtcDateTime
    decision_due_at: UtcDateTime
    agencies: list[AgencyProgress]
    withdrawn_at: UtcDateTime | None = None
    closed_at: UtcDateTime | None = None

    def progress(self, agency: str) -> AgencyProgress:
        found = next((p for p in self.agencies if p.agency == agency), None)
        if found is None:
            raise InvalidState(f"{agency} is not asked in this request")
        return found

    @property
    def status(self) -> RequestStatus:
        """Withdrawn (whether or not it has closed since), closed, or open."""
        if self.withdrawn_at is not None:
            return RequestStatus.WITHDRAWN
        return RequestStatus.CLOSED if self.closed_at is not None else RequestStatus.OPEN

    @property
    def all_completed(self) -> bool:
        return all(p.status is AgencyStatus.COMPLETED for p in self.agencies)


def start_request(opened: RequestOpened) -> SharingRequestState:
    return SharingRequestState(
        request_id=opened.request_id,
        subject_id=opened.subject_id,
        requesting_agency=opened.requesting_agency,
        rating=opened.rating,
        opened_at=opened.opened_at,
        decision_due_at=opened.decision_due_at,
        agencies=[AgencyProgress(agency=a) for a in opened.holding_agencies],
    )


def evolve_request(state: SharingRequestState, event: Event) -> SharingRequestState:
    """Apply one event of the request's stream (agency events update that agency's row)."""
    if isinstance(event, RequestEvent) and event.request_id != state.request_id:
        raise InvalidState("the event belongs to another request")
    match event:
        case RatingChanged():
            return state.model_copy(
                update={"rating": event.rating, "decision_due_at": event.decision_due_at}
            )
        case RequestWithdrawn():
            return state.model_copy(update={"withdrawn_at": event.withdrawn_at})
        case RequestClosed():
            return state.model_copy(update={"closed_at": event.closed_at})
        case DecisionRecorded():
            return _row(
                state,
                event.agency,
                status=AgencyStatus.DECIDED,
                outcome=event.record.outcome,
                decided_at=event.record.decided_at,
                not_share_reasons=event.record.not_share_reasons,
            )
        case AgencyDecisionCompleted():
            # Carries the outcome itself, so a parent that sees only completions knows it.
            return _row(
                state,
                event.agency,
                status=AgencyStatus.COMPLETED,
                outcome=event.outcome,
                decided_at=event.decided_at,
                completed_at=event.completed_at,
                **(
                    {"not_share_reasons": event.not_share_reasons}
                    if event.not_share_reasons
                    else {}
                ),
            )
        case DeadlineMissed():
            missed = state.progress(event.agency).missed
            if event.kind not in missed:
                return _row(state, event.agency, missed=[*missed, event.kind])
    return state


def fold_request(state: SharingRequestState, events: Iterable[Event]) -> SharingRequestState:
    for e in events:
        state = evolve_request(state, e)
    return state


def _row(state: SharingRequestState, agency: str, **changes: object) -> SharingRequestState:
    rows = [p.model_copy(update=changes) if p.agency == agency else p for p in state.agencies]
    return state.model_copy(update={"agencies": rows})


# --- commands -----------------------------------------------------------------------


def _active(state: SharingRequestState) -> None:
    if state.closed_at is not None:
        raise InvalidState("the request is closed")
    if state.withdrawn_at is not None:
        raise InvalidState("the request has been withdrawn")


def _same_subject(subject_id: UUID, command: BaseModel) -> None:
    for path, value in sealed_values(command):
        if value.subject_id != subject_id:
            raise ValidationFailed(path, "sealed for a different subject than this request's")


def decide_change_rating(
    state: SharingRequestState,
    command: ChangeRating,
    actor: Actor,
    now: datetime,
    policy: HubPolicy = DEFAULT_POLICY,
) -> list[Event]:
    """A rating changes as information arrives, always with a written rationale; the
    deadline moves as :func:`domain.policy.rerated_deadline` explains."""
    require(actor, Action.CHANGE_RATING, doing="change the rating")
    _active(state)
    if command.rating is state.rating:
        raise ValidationFailed("rating", f"the request is already rated {state.rating}")
    _same_subject(state.subject_id, command)
    due = rerated_deadline(
        state.opened_at, state.decision_due_at, state.rating, command.rating, now, policy
    )
    return [
        RatingChanged(
            request_id=state.request_id,
            previous=state.rating,
            rating=command.rating,
            rationale=command.rationale,
            changed_by=actor.user_id,
            changed_at=now,
            decision_due_at=due,
        )
    ]


def decide_withdraw(
    state: SharingRequestState, command: WithdrawRequest, actor: Actor, now: datetime
) -> list[Event]:
    require(actor, Action.WITHDRAW_REQUEST, doing="withdraw a request")
    _active(state)
    _same_subject(state.subject_id, command)
    withdrawn = RequestWithdrawn(
        request_id=state.request_id,
        reason=command.reason,
        withdrawn_by=actor.user_id,
        withdrawn_at=now,
    )
    return [withdrawn, *decide_close(evolve_request(state, withdrawn), now)]


def decide_close(state: SharingRequestState, now: datetime) -> list[Event]:
    """Close once every agency's decision is complete, or the request is withdrawn."""
    if state.closed_at is not None or not (state.all_completed or state.withdrawn_at):
        return []
    return [
        RequestClosed(
            request_id=state.request_id,
            shared_by=[p.agency for p in state.agencies if p.outcome is Outcome.SHARE],
            not_shared_by=[p.agency for p in state.agencies if p.outcome is Outcome.NOT_SHARE],
            withdrawn=state.withdrawn_at is not None,
            closed_at=now,
        )
    ]


# --- deadlines ------------------------------------------------------------------------


def outstanding(state: AgencyDecisionState, kind: DeadlineKind) -> datetime | None:
    """When the step of ``kind`` is due, if it is still waiting; otherwise None."""
    if state.withdrawn_at is not None or state.completed_at is not None:
        return None
    package = state.package
    due: dict[DeadlineKind, datetime | None] = {
        DeadlineKind.DECISION: state.decision_due_at if state.decision is None else None,
        DeadlineKind.CONSENT: state.consent_respond_by if state.consent is None else None,
        DeadlineKind.ADVICE: state.advice_respond_by,
        DeadlineKind.ACKNOWLEDGEMENT: (
            package.acknowledge_by
            if package and package.acknowledged_at is None and package.revoked_at is None
            else None
        ),
    }
    return due[kind]


def deadline_reached(
    state: AgencyDecisionState, kind: DeadlineKind, point: EscalationPoint, now: datetime
) -> list[Event]:
    """A timer fired: escalate if the step is still waiting (a breach is also recorded as a
    missed deadline). Never drops the request; returns nothing if the step is done."""
    due_at = outstanding(state, kind)
    if due_at is None:
        return []
    events: list[Event] = []
    if point.level is EscalationLevel.BREACH:
        if now < due_at:
            return []
        events.append(
            DeadlineMissed(
                request_id=state.request_id,
                agency=state.agency,
                kind=kind,
                due_at=due_at,
                missed_at=now,
            )
        )
    events.append(
        Escalated(
            request_id=state.request_id,
            agency=state.agency,
            kind=kind,
            level=point.level,
            notify=point.notify,
            due_at=due_at,
            escalated_at=now,
        )
    )
    return events
