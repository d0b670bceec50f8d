"""Command handling for one agency's decision: validate, then return the events to append.

Every ``decide_*`` is pure: ``(state, command, actor, now) -> list[Event]``.
It checks, in this order, that the decision is still open, that the actor has
the right role in the right agency, that the step is open at this point, that
every sealed value belongs to this request's subject, and that the result is
consistent with what is recorded; then it returns the events, adding
``agency_decision.completed`` when they complete the decision. Workflows call
the same function in an update's validator (discarding the events) and in its
handler (appending them), so a refused command writes nothing.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.commands import (
    AcknowledgeReceipt,
    AssessPurpose,
    DetermineLawfulBasis,
    GiveAdvice,
    OpenPackage,
    RecordConsent,
    RecordConsentNotSought,
    RecordDecision,
    RecordInforming,
    RecordPackageSent,
    RequestAdvice,
    RevokePackage,
    SeekConsent,
    SelectInformation,
)
from domain.decision import AgencyDecisionState, PackageState, fold, is_complete
from domain.errors import InconsistentDecision, InvalidState, NotPermitted, ValidationFailed
from domain.events.base import Event
from domain.events.catalogue import (
    AdviceGiven,
    AdviceRequested,
    AgencyDecisionCompleted,
    ConsentNotSought,
    ConsentRecorded,
    ConsentSought,
    DecisionRecorded,
    InformationSelected,
    LawfulBasisDetermined,
    PackageOpened,
    PackageRevoked,
    PackageSent,
    PersonInformed,
    PersonNotInformed,
    PurposeAssessed,
    ReceiptAcknowledged,
)
from domain.events.values import AdviceTaken, ConsentRecord, DecisionRecord
from domain.models import Actor, sealed_values
from domain.policy import DEFAULT_POLICY, HubPolicy, deadline
from domain.rules import (
    check_decision,
    check_not_sought_reason,
    is_legitimate_purpose,
    item_problems,
    lawful_basis_problems,
)
from domain.vocabulary import ConsentOutcome, DeadlineKind, Outcome, Role

# --- guards ----------------------------------------------------------------------


def _open(state: AgencyDecisionState) -> None:
    if state.withdrawn_at is not None:
        raise InvalidState("the request has been withdrawn")
    if state.completed_at is not None:
        raise InvalidState(f"{state.agency}'s decision is already complete")


def _as(actor: Actor, role: Role, agency: str, doing: str) -> None:
    if actor.role is not role:
        raise NotPermitted(f"only a {role} of {agency} may {doing}; you are acting as {actor.role}")
    if actor.agency != agency:
        raise NotPermitted(f"only {agency}'s own {role}s may {doing}")


def _undecided(state: AgencyDecisionState) -> None:
    if state.decision is not None:
        raise InvalidState("the decision has already been recorded")


def _assessed(state: AgencyDecisionState) -> None:
    if state.assessment is None:
        raise InvalidState("assess the purpose first")


def _same_subject(state: AgencyDecisionState, command: BaseModel) -> None:
    for path, value in sealed_values(command):
        if value.subject_id != state.subject_id:
            raise ValidationFailed(path, "sealed for a different subject than this request's")


def _consent_open(state: AgencyDecisionState) -> None:
    _assessed(state)
    _undecided(state)
    if not state.consent_needed:
        raise InvalidState(
            "consent is not the question here: the purpose is not legitimate, or the "
            "information is not confidential or identifies no one"
        )
    if state.consent is not None:
        raise InvalidState("the consent outcome has already been recorded")


def _finish(state: AgencyDecisionState, events: list[Event], now: datetime) -> list[Event]:
    after = fold(state, events)
    decision = after.decision
    if after.completed_at is None and is_complete(after) and decision is not None:
        events.append(
            AgencyDecisionCompleted(
                request_id=state.request_id,
                agency=state.agency,
                outcome=decision.outcome,
                decided_at=decision.decided_at,
                decision_due_at=after.decision_due_at,
                on_time=decision.decided_at <= after.decision_due_at,
                completed_at=now,
            )
        )
    return events


# --- steps 1 to 4 -----------------------------------------------------------------


def decide_assess_purpose(
    state: AgencyDecisionState, command: AssessPurpose, actor: Actor, now: datetime
) -> list[Event]:
    """Steps 1 to 3: purpose, identifiability and confidentiality, assessed once."""
    _open(state)
    _as(actor, Role.AGENCY_WORKER, state.agency, "assess the purpose")
    _undecided(state)
    if state.assessment is not None:
        raise InvalidState("the purpose has already been assessed")
    _same_subject(state, command)
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
    _open(state)
    _as(actor, Role.AGENCY_WORKER, state.agency, "seek consent")
    _consent_open(state)
    if state.consent_sought_at is not None:
        raise InvalidState("consent has already been sought; record the answer")
    _same_subject(state, command)
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
    _open(state)
    _as(actor, Role.AGENCY_WORKER, state.agency, "record consent")
    _consent_open(state)
    _same_subject(state, command)
    asked = state.consent_sought_at is not None
    if command.outcome is ConsentOutcome.REFUSED and not asked:
        raise InvalidState("consent can only be refused once it has been sought")
    if command.outcome is ConsentOutcome.GIVEN and not (asked or state.consent_already_held):
        raise InvalidState("seek consent first, unless the request says it is already held")
    unobtainable = command.outcome is ConsentOutcome.COULD_NOT_BE_OBTAINED
    if unobtainable != (command.could_not_obtain_reason is not None):
        raise ValidationFailed(
            "could_not_obtain_reason", "give a reason exactly when consent could not be obtained"
        )
    record = ConsentRecord(
        outcome=command.outcome,
        could_not_obtain_reason=command.could_not_obtain_reason,
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
    _open(state)
    _as(actor, Role.AGENCY_WORKER, state.agency, "record that consent is not sought")
    _consent_open(state)
    if state.consent_sought_at is not None:
        raise InvalidState("consent has already been sought; record the answer instead")
    check_not_sought_reason(command.reason, state.subject_kind, state.rating)
    _same_subject(state, command)
    return [
        ConsentNotSought(
            request_id=state.request_id,
            agency=state.agency,
            reason=command.reason,
            explanation=command.explanation,
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
    _open(state)
    _as(actor, Role.AGENCY_WORKER, state.agency, "ask for advice")
    _undecided(state)
    if state.advice_respond_by is not None:
        raise InvalidState("advice has already been asked for and not yet given")
    _same_subject(state, command)
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
    _as(actor, Role.ADVISOR, state.agency, "give advice")
    reviewing = state.review_pending
    if state.advice_respond_by is None and not reviewing:
        raise InvalidState("no advice has been asked for")
    _same_subject(state, command)
    advice = AdviceTaken(
        advisor_id=actor.user_id,
        recommendation=command.recommendation,
        agrees_to_share_without_consent=command.agrees_to_share_without_consent,
        advice=command.advice,
        given_at=now,
        review_after_urgent_share=reviewing and state.advice_respond_by is None,
    )
    event = AdviceGiven(request_id=state.request_id, agency=state.agency, advice=advice)
    return _finish(state, [event], now)


# --- steps 5, 6 and 8 ------------------------------------------------------------------


def decide_lawful_basis(
    state: AgencyDecisionState, command: DetermineLawfulBasis, actor: Actor, now: datetime
) -> list[Event]:
    """Steps 5 and 6: a basis from the catalogue that fits the facts; may be revised until
    the decision is recorded."""
    _open(state)
    _as(actor, Role.AGENCY_WORKER, state.agency, "determine the lawful basis")
    _assessed(state)
    _undecided(state)
    if not state.consent_resolved:
        raise InvalidState("record the consent outcome first: it decides which bases apply")
    _same_subject(state, command)
    problems = lawful_basis_problems(command.basis, state.facts())
    if problems:
        raise InconsistentDecision(problems)
    return [
        LawfulBasisDetermined(
            request_id=state.request_id,
            agency=state.agency,
            basis=command.basis,
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
    _open(state)
    _as(actor, Role.AGENCY_WORKER, state.agency, "select information")
    _assessed(state)
    _undecided(state)
    _same_subject(state, command)
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
    _open(state)
    _as(actor, Role.AGENCY_WORKER, state.agency, "record the decision")
    _assessed(state)
    _undecided(state)
    if not state.consent_resolved and command.outcome is Outcome.SHARE:
        raise InvalidState("record the consent outcome before deciding to share")
    _same_subject(state, command)
    facts = state.facts()
    check_decision(facts, command)
    share = command.outcome is Outcome.SHARE
    consent = state.consent or ConsentRecord(outcome=ConsentOutcome.NOT_REQUIRED, recorded_at=now)
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
                note=None,
                recorded_by=actor.user_id,
                recorded_at=now,
            )
        )
    return _finish(state, events, now)


def decide_inform(
    state: AgencyDecisionState, command: RecordInforming, actor: Actor, now: datetime
) -> list[Event]:
    """Step 9 and golden rule 2: tell the person what was shared, unless that is unsafe.
    A person not told at first may be told later, once it is safe."""
    if state.withdrawn_at is not None:
        raise InvalidState("the request has been withdrawn")
    _as(actor, Role.AGENCY_WORKER, state.agency, "record informing the person")
    if not state.shared:
        raise InvalidState("informing follows a decision to share")
    if state.informed is True:
        raise InvalidState("the person has already been informed")
    if state.informed is False and not command.informed:
        raise InvalidState("not informing has already been recorded")
    _same_subject(state, command)
    event: Event
    if command.informed:
        event = PersonInformed(
            request_id=state.request_id,
            agency=state.agency,
            note=command.note,
            informed_by=actor.user_id,
            informed_at=now,
        )
    else:
        assert command.reason_not is not None  # the command's validator guarantees it
        event = PersonNotInformed(
            request_id=state.request_id,
            agency=state.agency,
            reason=command.reason_not,
            note=command.note,
            recorded_by=actor.user_id,
            recorded_at=now,
        )
    return _finish(state, [event], now)


# --- secure transfer -----------------------------------------------------------------------


def decide_package_sent(
    state: AgencyDecisionState,
    command: RecordPackageSent,
    now: datetime,
    policy: HubPolicy = DEFAULT_POLICY,
) -> list[Event]:
    """The engine records the sealed package it delivered to the requesting agency."""
    if not state.shared or state.decision is None:
        raise InvalidState("only a decision to share sends a package")
    if state.package is not None:
        raise InvalidState("the package has already been sent")
    if state.withdrawn_at is not None:
        raise InvalidState("the request has been withdrawn")
    return [
        PackageSent(
            request_id=state.request_id,
            agency=state.agency,
            package_id=command.package_id,
            recipient_agency=state.requesting_agency,
            sha256=command.sha256,
            item_count=len(state.decision.items),
            sent_at=now,
            acknowledge_by=deadline(now, state.rating, policy, DeadlineKind.ACKNOWLEDGEMENT),
        )
    ]


def _package(state: AgencyDecisionState, package_id: object) -> PackageState:
    package = state.package
    if package is None or package.package_id != package_id:
        raise InvalidState("no such package was sent in this decision")
    return package


def decide_open_package(
    state: AgencyDecisionState, command: OpenPackage, actor: Actor, now: datetime
) -> list[Event]:
    """Viewing personal data is itself recorded, every time."""
    package = _package(state, command.package_id)
    _as(actor, Role.RECIPIENT, package.recipient_agency, "open this package")
    if package.revoked_at is not None:
        raise InvalidState("the sending agency has revoked access to this package")
    return [
        PackageOpened(
            request_id=state.request_id,
            agency=state.agency,
            package_id=package.package_id,
            opened_by=actor.user_id,
            opened_at=now,
        )
    ]


def decide_acknowledge(
    state: AgencyDecisionState, command: AcknowledgeReceipt, actor: Actor, now: datetime
) -> list[Event]:
    package = _package(state, command.package_id)
    _as(actor, Role.RECIPIENT, package.recipient_agency, "acknowledge receipt")
    if package.revoked_at is not None:
        raise InvalidState("the sending agency has revoked access to this package")
    if package.acknowledged_at is not None:
        raise InvalidState("receipt has already been acknowledged")
    if package.times_opened == 0:
        raise InvalidState("open the package before acknowledging it")
    if command.sha256 != package.sha256:
        raise ValidationFailed(
            "sha256",
            "does not match what was sent: do not rely on this copy, contact the sending agency",
        )
    event = ReceiptAcknowledged(
        request_id=state.request_id,
        agency=state.agency,
        package_id=package.package_id,
        sha256=command.sha256,
        acknowledged_by=actor.user_id,
        acknowledged_at=now,
    )
    return _finish(state, [event], now)


def decide_revoke(
    state: AgencyDecisionState, command: RevokePackage, actor: Actor, now: datetime
) -> list[Event]:
    """The sender may withdraw access after sending, even once the request is withdrawn,
    as long as nobody at the recipient agency has opened it: what has been read cannot be
    recalled, only followed up with the recipient."""
    package = _package(state, command.package_id)
    if actor.role not in (Role.AGENCY_WORKER, Role.ADVISOR) or actor.agency != state.agency:
        raise NotPermitted(f"only a worker or advisor of {state.agency} may revoke its package")
    if package.revoked_at is not None:
        raise InvalidState("the package has already been revoked")
    if package.times_opened > 0:
        raise InvalidState(
            "the package has already been opened by the recipient agency and cannot be recalled"
        )
    _same_subject(state, command)
    event = PackageRevoked(
        request_id=state.request_id,
        agency=state.agency,
        package_id=package.package_id,
        reason=command.reason,
        revoked_by=actor.user_id,
        revoked_by_role=actor.role,
        revoked_at=now,
    )
    return _finish(state, [event], now) if state.withdrawn_at is None else [event]


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
