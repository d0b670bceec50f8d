"""Command handling for one agency's decision: validate, then return the events to append.

Every ``decide_*`` is pure: ``(state, command, actor, now) -> list[Event]``.
It checks, in this order, that the decision is still open, that the actor has
the right role in the right agency, that the step is open at this point, that
every sealed value belongs to this request's subject (:mod:`domain.guards`),
and that the result is consistent with what is recorded (:mod:`domain.rules`);
then it returns the events, adding ``agency_decision.completed`` when they
complete the decision. Workflows call the same function in an update's
validator (discarding the events) and in its handler (appending them), so a
refused command writes nothing. What follows a decision to share (secure
transfer, informing the person) lives in :mod:`domain.transfer_handlers` and
is re-exported here.
"""

from __future__ import annotations

from datetime import datetime

from domain.commands import (
    AssessPurpose,
    DetermineLawfulBasis,
    GiveAdvice,
    RecordConsent,
    RecordConsentNotSought,
    RecordDecision,
    RequestAdvice,
    SeekConsent,
    SelectInformation,
)
from domain.decision import AgencyDecisionState
from domain.errors import InconsistentDecision, InvalidState, ValidationFailed
from domain.events.base import Event
from domain.events.catalogue import (
    AdviceGiven,
    AdviceRequested,
    ConsentNotSought,
    ConsentRecorded,
    ConsentSought,
    DecisionRecorded,
    InformationSelected,
    LawfulBasisDetermined,
    PersonNotInformed,
    PurposeAssessed,
)
from domain.events.values import AdviceTaken, ConsentRecord, DecisionRecord
from domain.guards import (
    ensure_actor,
    ensure_assessed,
    ensure_consent_open,
    ensure_open,
    ensure_same_subject,
    ensure_undecided,
    with_completion,
)
from domain.models import Actor
from domain.permissions import Action
from domain.policy import DEFAULT_POLICY, HubPolicy, deadline
from domain.protection import with_protected_named
from domain.rules import (
    advice_problems,
    check_decision,
    check_not_sought_reason,
    check_review_date,
    is_legitimate_purpose,
    item_problems,
    lawful_basis_problems,
)
from domain.transfer_handlers import (
    decide_acknowledge,
    decide_inform,
    decide_open_package,
    decide_package_sent,
    decide_revoke,
)
from domain.vocabulary import ConsentOutcome, DeadlineKind, Outcome

# --- steps 1 to 4 -----------------------------------------------------------------


def decide_assess_purpose(
    state: AgencyDecisionState, command: AssessPurpose, actor: Actor, now: datetime
) -> list[Event]:
    """Steps 1 to 3: purpose, identifiability and confidentiality, assessed once."""
    ensure_open(state)
    ensure_actor(actor, Action.DECIDE, state.agency, "assess the purpose")
    ensure_undecided(state)
    if state.assessment is not None:
        raise InvalidState("the purpose has already been assessed")
    ensure_same_subject(state, command)
    return [
        PurposeAssessed(
            request_id=state.request_id,
            agency=state.agency,
            **command.model_dump(exclude={"note"}),
            legitimate=is_legitimate_purpose(state.purpose_category, command.purpose_clear),
            note=command.note,
            assessed_by=actor.user_id,
            assessed_at=now,
        )
    ]


def decide_seek_consent(
    state: AgencyDecisionState,
    command: SeekConsent,
    actor: Actor,
    now: datetime,
    policy: HubPolicy = DEFAULT_POLICY,
) -> list[Event]:
    ensure_open(state)
    ensure_actor(actor, Action.DECIDE, state.agency, "seek consent")
    ensure_consent_open(state)
    if state.consent_sought_at is not None:
        raise InvalidState("consent has already been sought; record the answer")
    ensure_same_subject(state, command)
    respond_by = deadline(now, state.rating, policy, DeadlineKind.CONSENT)
    return [
        ConsentSought(
            request_id=state.request_id,
            agency=state.agency,
            note=command.note,
            sought_by=actor.user_id,
            sought_at=now,
            respond_by=respond_by,
        )
    ]


def decide_record_consent(
    state: AgencyDecisionState, command: RecordConsent, actor: Actor, now: datetime
) -> list[Event]:
    """Step 4: consent given or refused is an answer to asking (or consent already held);
    could-not-be-obtained needs its reason (no contact, no capacity)."""
    ensure_open(state)
    ensure_actor(actor, Action.DECIDE, state.agency, "record consent")
    ensure_consent_open(state)
    ensure_same_subject(state, command)
    asked = state.consent_sought_at is not None
    if command.outcome is ConsentOutcome.REFUSED and not asked:
        raise InvalidState("consent can only be refused once it has been sought")
    if command.outcome is ConsentOutcome.SOUGHT_NO_ANSWER and not asked:
        raise InvalidState("no answer can be recorded until consent has been sought")
    if command.outcome is ConsentOutcome.GIVEN and not (asked or state.consent_already_held):
        raise InvalidState("seek consent first, unless the request says it is already held")
    unobtainable = command.outcome is ConsentOutcome.COULD_NOT_BE_OBTAINED
    if unobtainable != (command.could_not_obtain_reason is not None):
        raise ValidationFailed(
            "could_not_obtain_reason", "give a reason exactly when consent could not be obtained"
        )
    given = command.outcome is ConsentOutcome.GIVEN
    if not given and (
        command.given_by is not None
        or command.capacity_considered is not None
        or command.scope is not None
    ):
        raise ValidationFailed("given_by", "who gave it, capacity and scope are for consent given")
    record = ConsentRecord(
        outcome=command.outcome,
        could_not_obtain_reason=command.could_not_obtain_reason,
        given_by=command.given_by,
        capacity_considered=command.capacity_considered,
        scope=command.scope,
        note=command.note,
        recorded_at=now,
    )
    event = ConsentRecorded(
        request_id=state.request_id, agency=state.agency, consent=record, recorded_by=actor.user_id
    )
    return [event]


def decide_consent_not_sought(
    state: AgencyDecisionState, command: RecordConsentNotSought, actor: Actor, now: datetime
) -> list[Event]:
    ensure_open(state)
    ensure_actor(actor, Action.DECIDE, state.agency, "record that consent is not sought")
    ensure_consent_open(state)
    if state.consent_sought_at is not None:
        raise InvalidState("consent has already been sought; record the answer instead")
    check_not_sought_reason(command.reason, command.at_risk, state.facts())
    ensure_same_subject(state, command)
    return [
        ConsentNotSought(
            request_id=state.request_id,
            agency=state.agency,
            reason=command.reason,
            explanation=command.explanation,
            at_risk=command.at_risk,
            recorded_by=actor.user_id,
            recorded_at=now,
        )
    ]


# --- advice --------------------------------------------------------------------------


def decide_request_advice(
    state: AgencyDecisionState,
    command: RequestAdvice,
    actor: Actor,
    now: datetime,
    policy: HubPolicy = DEFAULT_POLICY,
) -> list[Event]:
    """Golden rule 3: seek advice when in doubt, without naming the person where possible."""
    ensure_open(state)
    ensure_actor(actor, Action.DECIDE, state.agency, "ask for advice")
    ensure_undecided(state)
    if state.advice_respond_by is not None:
        raise InvalidState("advice has already been asked for and not yet given")
    ensure_same_subject(state, command)
    return [
        AdviceRequested(
            request_id=state.request_id,
            agency=state.agency,
            question=command.question,
            subject_named=command.subject_named,
            requested_by=actor.user_id,
            requested_at=now,
            respond_by=deadline(now, state.rating, policy, DeadlineKind.ADVICE),
        )
    ]


def decide_give_advice(
    state: AgencyDecisionState, command: GiveAdvice, actor: Actor, now: datetime
) -> list[Event]:
    """Step 7: an advisor answers a request for advice, or reviews an urgent share."""
    if state.withdrawn_at is not None:
        raise InvalidState("the request has been withdrawn")
    ensure_actor(actor, Action.ADVISE, state.agency, "give advice")
    reviewing = state.review_pending
    if state.advice_respond_by is None and not reviewing:
        raise InvalidState("no advice has been asked for")
    problems = advice_problems(command)
    if problems:
        raise InconsistentDecision(problems)
    ensure_same_subject(state, command)
    advice = AdviceTaken(
        advisor_id=actor.user_id,
        capacity=command.capacity,
        position=command.position,
        recommendation=command.recommendation,
        agrees_to_share_without_consent=command.agrees_to_share_without_consent,
        advice=command.advice,
        given_at=now,
        review_after_urgent_share=reviewing and state.advice_respond_by is None,
    )
    event = AdviceGiven(request_id=state.request_id, agency=state.agency, advice=advice)
    return with_completion(state, [event], now)


# --- steps 5, 6 and 8 ------------------------------------------------------------------


def decide_lawful_basis(
    state: AgencyDecisionState, command: DetermineLawfulBasis, actor: Actor, now: datetime
) -> list[Event]:
    """Steps 5 and 6: a basis from the catalogue that fits the facts; may be revised until
    the decision is recorded."""
    ensure_open(state)
    ensure_actor(actor, Action.DECIDE, state.agency, "determine the lawful basis")
    ensure_assessed(state)
    ensure_undecided(state)
    if not state.consent_resolved:
        raise InvalidState("record the consent outcome first: it decides which bases apply")
    ensure_same_subject(state, command)
    problems = lawful_basis_problems(command.basis, state.facts())
    if problems:
        raise InconsistentDecision(problems)
    return [
        LawfulBasisDetermined(
            request_id=state.request_id,
            agency=state.agency,
            basis=with_protected_named(command.basis, state.facts()),
            determined_by=actor.user_id,
            determined_at=now,
        )
    ]


def decide_select_information(
    state: AgencyDecisionState,
    command: SelectInformation,
    actor: Actor,
    now: datetime,
    policy: HubPolicy = DEFAULT_POLICY,
) -> list[Event]:
    """Step 8: choose only what is needed; a new selection replaces the previous one."""
    ensure_open(state)
    ensure_actor(actor, Action.DECIDE, state.agency, "select information")
    ensure_assessed(state)
    ensure_undecided(state)
    ensure_same_subject(state, command)
    problems = item_problems(command.items, now, policy.historical_after)
    if problems:
        raise ValidationFailed("items", "; ".join(p.message for p in problems))
    return [
        InformationSelected(
            request_id=state.request_id,
            agency=state.agency,
            items=command.items,
            selected_by=actor.user_id,
            selected_at=now,
        )
    ]


# --- steps 9 and 10 ----------------------------------------------------------------------


def decide_record_decision(
    state: AgencyDecisionState, command: RecordDecision, actor: Actor, now: datetime
) -> list[Event]:
    """Step 10: record the decision and its reasons, whichever way it goes, after the
    consistency check."""
    ensure_open(state)
    ensure_actor(actor, Action.DECIDE, state.agency, "record the decision")
    ensure_assessed(state)
    ensure_undecided(state)
    if not state.consent_resolved and command.outcome is Outcome.SHARE:
        raise InvalidState("record the consent outcome before deciding to share")
    ensure_same_subject(state, command)
    facts = state.facts()
    check_decision(facts, command)
    check_review_date(command.inform.review_on if command.inform else None, now)
    share = command.outcome is Outcome.SHARE
    consent = state.consent_on_record(now)
    record = DecisionRecord(
        request_id=state.request_id,
        agency=state.agency,
        requesting_agency=state.requesting_agency,
        requested_by=state.requested_by,
        received_at=state.received_at,
        purpose_category=state.purpose_category,
        lawful_basis=state.lawful_basis,
        necessity=command.necessity,
        isp_exists=state.isp_exists,
        isp_reference=state.isp_reference,
        proactive=state.proactive,
        consent=consent,
        advice=state.advice,
        outcome=command.outcome,
        reasons=command.reasons,
        not_share_reasons=command.not_share_reasons,
        items=state.items if share else [],
        shared_with=state.requesting_agency if share else None,
        inform=command.inform if share else None,
        urgent_override=command.urgent_override,
        decided_by=actor.user_id,
        decided_by_role=actor.role,
        decided_by_position=command.position,
        decided_at=now,
    )
    events: list[Event] = [
        DecisionRecorded(request_id=state.request_id, agency=state.agency, record=record)
    ]
    if record.inform is not None and record.inform.reason_not is not None:
        events.append(
            PersonNotInformed(
                request_id=state.request_id,
                agency=state.agency,
                reason=record.inform.reason_not,
                review_on=record.inform.review_on,
                note=None,
                recorded_by=actor.user_id,
                recorded_at=now,
            )
        )
    return with_completion(state, events, now)


__all__ = [
    "decide_acknowledge",
    "decide_assess_purpose",
    "decide_consent_not_sought",
    "decide_give_advice",
    "decide_inform",
    "decide_lawful_basis",
    "decide_open_package",
    "decide_package_sent",
    "decide_record_consent",
    "decide_record_decision",
    "decide_request_advice",
    "decide_revoke",
    "decide_seek_consent",
    "decide_select_information",
]
