"""The checks every ``decide_*`` makes before its own rule, in one place.

A decision still open, the actor in the right role of the right agency, the
step open at this point, every sealed value sealed for this request's subject;
and, after the events, ``agency_decision.completed`` when they complete it.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.decision import AgencyDecisionState, fold, is_complete
from domain.errors import InvalidState, ValidationFailed
from domain.events.base import Event
from domain.events.catalogue import AgencyDecisionCompleted
from domain.models import Actor, sealed_values
from domain.permissions import Action, require


def ensure_open(state: AgencyDecisionState) -> None:
    if state.withdrawn_at is not None:
        raise InvalidState("the request has been withdrawn")
    if state.completed_at is not None:
        raise InvalidState(f"{state.agency}'s decision is already complete")


def ensure_actor(actor: Actor, action: Action, agency: str, doing: str) -> None:
    """The permission matrix's verdict (:mod:`domain.permissions`) for ``agency``."""
    require(actor, action, agency, doing)


def ensure_undecided(state: AgencyDecisionState) -> None:
    if state.decision is not None:
        raise InvalidState("the decision has already been recorded")


def ensure_assessed(state: AgencyDecisionState) -> None:
    if state.assessment is None:
        raise InvalidState("assess the purpose first")


def ensure_same_subject(state: AgencyDecisionState, command: BaseModel) -> None:
    for path, value in sealed_values(command):
        if value.subject_id != state.subject_id:
            raise ValidationFailed(path, "sealed for a different subject than this request's")


def ensure_consent_open(state: AgencyDecisionState) -> None:
    ensure_assessed(state)
    ensure_undecided(state)
    if not state.consent_needed:
        raise InvalidState(
            "consent is not the question here: the purpose is not legitimate, the "
            "information is not confidential or identifies no one, or a statutory duty or "
            "court order requires it (consent is then not needed)"
        )
    if state.consent is not None:
        raise InvalidState("the consent outcome has already been recorded")


def with_completion(state: AgencyDecisionState, events: list[Event], now: datetime) -> list[Event]:
    after = fold(state, events)
    decision = after.decision
    if after.completed_at is None and is_complete(after) and decision is not None:
        events.append(
            AgencyDecisionCompleted(
                request_id=state.request_id,
                agency=state.agency,
                outcome=decision.outcome,
                not_share_reasons=decision.not_share_reasons,
                decided_at=decision.decided_at,
                decision_due_at=after.decision_due_at,
                on_time=decision.decided_at <= after.decision_due_at,
                completed_at=now,
            )
        )
    return events
