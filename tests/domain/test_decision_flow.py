"""One agency's decision as commands, events, state and open tasks."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.commands import (
    AcknowledgeReceipt,
    AssessPurpose,
    DetermineLawfulBasis,
    GiveAdvice,
    OpenPackage,
    RecordConsent,
    RecordConsentNotSought,
    RecordInforming,
    RecordPackageSent,
    RequestAdvice,
    RevokePackage,
    SeekConsent,
    SelectInformation,
)
from domain.decision import AgencyDecisionState, TaskKind, evolve, open_tasks
from domain.errors import InconsistentDecision, InvalidState, NotPermitted, ValidationFailed
from domain.events import AgencyDecisionCompleted, DecisionRecorded, PersonNotInformed, registry
from domain.handlers import (
    decide_acknowledge,
    decide_assess_purpose,
    decide_consent_not_sought,
    decide_give_advice,
    decide_inform,
    decide_lawful_basis,
    decide_open_package,
    decide_package_sent,
    decide_record_consent,
    decide_record_decision,
    decide_request_advice,
    decide_revoke,
    decide_seek_consent,
    decide_select_information,
)
from domain.models import (
    AdviceRecommendation,
    Art6Basis,
    ConsentOutcome,
    DeadlineKind,
    InformPlan,
    LawfulBasis,
    NotInformedReason,
    NotShareReason,
    NotSoughtReason,
    Rating,
    Role,
    WithoutConsentGround,
)
from domain.policy import DEFAULT_POLICY
from domain.request import deadline_reached
from tests.domain.make import (
    NOW,
    advisor,
    apply,
    assessed,
    item,
    not_share,
    recipient,
    sealed,
    share,
    state,
    worker,
)

DIGEST = "ab" * 32
LATER = NOW + timedelta(minutes=30)


def consented() -> AgencyDecisionState:
    s = assessed()
    s = apply(s, decide_seek_consent(s, SeekConsent(), worker(), NOW))
    given = RecordConsent(outcome=ConsentOutcome.GIVEN)
    return apply(s, decide_record_consent(s, given, worker(), NOW))


def ready_to_share() -> AgencyDecisionState:
    s = consented()
    basis = DetermineLawfulBasis(basis=LawfulBasis(art6=Art6Basis.PUBLIC_TASK))
    s = apply(s, decide_lawful_basis(s, basis, worker(), NOW))
    return apply(s, decide_select_information(s, SelectInformation(items=[item()]), worker(), NOW))


def kinds(s: AgencyDecisionState) -> list[TaskKind]:
    return [t.kind for t in open_tasks(s)]


def test_a_new_decision_waits_for_the_worker_to_assess_the_purpose() -> None:
    tasks = open_tasks(state())
    assert [(t.kind, t.role, t.agency) for t in tasks] == [
        (TaskKind.ASSESS_PURPOSE, Role.AGENCY_WORKER, "health")
    ]


@pytest.mark.parametrize(
    "actor",
    [worker("police"), advisor("health"), recipient("health")],
    ids=["worker of another agency", "advisor", "recipient"],
)
def test_only_a_worker_of_the_holding_agency_assesses(actor: object) -> None:
    command = AssessPurpose(
        purpose_clear=True, identifiable=True, confidential=True, special_category=False
    )
    with pytest.raises(NotPermitted):
        decide_assess_purpose(state(), command, actor, NOW)  # type: ignore[arg-type]


def test_sealed_values_of_another_subject_are_refused() -> None:
    from uuid import UUID

    stranger = sealed(UUID("00000000-0000-4000-8000-000000000999"))
    with pytest.raises(ValidationFailed) as refused:
        decide_request_advice(state(), RequestAdvice(question=stranger), worker(), NOW)
    assert refused.value.field == "question"


def test_confidential_identifying_information_opens_the_consent_task() -> None:
    assert kinds(assessed()) == [TaskKind.RESOLVE_CONSENT]
    assert kinds(assessed(confidential=False)) == [TaskKind.RECORD_DECISION]


def test_consent_cannot_be_refused_before_it_is_sought() -> None:
    with pytest.raises(InvalidState):
        decide_record_consent(
            assessed(), RecordConsent(outcome=ConsentOutcome.REFUSED), worker(), NOW
        )


def test_consent_already_held_is_recorded_without_seeking() -> None:
    s = assessed(consent_already_held=True)
    s = apply(
        s, decide_record_consent(s, RecordConsent(outcome=ConsentOutcome.GIVEN), worker(), NOW)
    )
    assert s.consent is not None and s.consent.outcome is ConsentOutcome.GIVEN


@pytest.mark.parametrize("rating", list(Rating))
def test_harmful_delay_is_a_reason_not_to_seek_consent_at_any_rating(rating: Rating) -> None:
    command = RecordConsentNotSought(
        reason=NotSoughtReason.HARMFUL_DELAY_IN_URGENT_CASE, explanation=sealed()
    )
    s = assessed(rating=rating)
    assert apply(s, decide_consent_not_sought(s, command, worker(), NOW)).consent_resolved


def test_consent_sought_has_a_window_from_the_policy() -> None:
    s = assessed(rating=Rating.RED)
    s = apply(s, decide_seek_consent(s, SeekConsent(), worker(), NOW))
    assert s.consent_respond_by == NOW + DEFAULT_POLICY.consent.red
    assert open_tasks(s)[0].due_at == s.consent_respond_by


def test_lawful_basis_is_refused_when_it_does_not_fit() -> None:
    s = consented()
    charity_only = DetermineLawfulBasis(basis=LawfulBasis(art6=Art6Basis.LEGITIMATE_INTERESTS))
    with pytest.raises(InconsistentDecision) as refused:
        decide_lawful_basis(s, charity_only, worker(), NOW)
    assert refused.value.codes == ("basis_not_applicable",)


def test_a_share_walks_through_sending_acknowledgement_and_informing_to_completion() -> None:
    s = ready_to_share()
    s = apply(s, decide_record_decision(s, share(), worker(), NOW))
    assert kinds(s) == [TaskKind.SEND_PACKAGE, TaskKind.INFORM_PERSON]
    package_id = uuid4()
    s = apply(
        s, decide_package_sent(s, RecordPackageSent(package_id=package_id, sha256=DIGEST), NOW)
    )
    assert kinds(s) == [TaskKind.ACKNOWLEDGE_RECEIPT, TaskKind.INFORM_PERSON]
    assert open_tasks(s)[0].agency == "police"
    s = apply(s, decide_open_package(s, OpenPackage(package_id=package_id), recipient(), LATER))
    s = apply(s, decide_inform(s, RecordInforming(informed=True), worker(), LATER))
    events = decide_acknowledge(
        s, AcknowledgeReceipt(package_id=package_id, sha256=DIGEST), recipient(), LATER
    )
    assert isinstance(events[-1], AgencyDecisionCompleted) and events[-1].on_time
    s = apply(s, events)
    assert s.completed_at == LATER and open_tasks(s) == []


def test_the_decision_record_holds_what_the_guidance_asks() -> None:
    s = ready_to_share()
    event = decide_record_decision(s, share(), worker(), NOW)[0]
    assert isinstance(event, DecisionRecorded)
    record = event.record
    assert record.requesting_agency == "police" and record.shared_with == "police"
    assert record.lawful_basis == LawfulBasis(art6=Art6Basis.PUBLIC_TASK)
    assert record.consent.outcome is ConsentOutcome.GIVEN
    assert record.decided_by == "u-worker" and record.decided_by_role is Role.AGENCY_WORKER
    assert len(record.items) == 1 and record.isp_exists is False


def test_a_receipt_whose_digest_differs_is_refused() -> None:
    s = ready_to_share()
    s = apply(s, decide_record_decision(s, share(), worker(), NOW))
    pid = uuid4()
    s = apply(s, decide_package_sent(s, RecordPackageSent(package_id=pid, sha256=DIGEST), NOW))
    s = apply(s, decide_open_package(s, OpenPackage(package_id=pid), recipient(), NOW))
    with pytest.raises(ValidationFailed) as refused:
        decide_acknowledge(
            s, AcknowledgeReceipt(package_id=pid, sha256="cd" * 32), recipient(), NOW
        )
    assert refused.value.field == "sha256"


def test_a_revoked_package_can_no_longer_be_opened() -> None:
    s = ready_to_share()
    s = apply(s, decide_record_decision(s, share(), worker(), NOW))
    pid = uuid4()
    s = apply(s, decide_package_sent(s, RecordPackageSent(package_id=pid, sha256=DIGEST), NOW))
    s = apply(s, decide_revoke(s, RevokePackage(package_id=pid, reason=sealed()), advisor(), NOW))
    with pytest.raises(InvalidState):
        decide_open_package(s, OpenPackage(package_id=pid), recipient(), NOW)


def test_not_informing_is_recorded_with_its_reason_at_the_decision() -> None:
    s = ready_to_share()
    plan = InformPlan(will_inform=False, reason_not=NotInformedReason.WOULD_PREJUDICE_INVESTIGATION)
    events = decide_record_decision(s, share(inform=plan), worker(), NOW)
    assert isinstance(events[1], PersonNotInformed)
    assert TaskKind.INFORM_PERSON not in kinds(apply(s, events))


def test_not_sharing_completes_the_decision_at_once() -> None:
    s = assessed(purpose_clear=False)
    decision = not_share(not_share_reasons=[NotShareReason.NO_LEGITIMATE_PURPOSE])
    events = decide_record_decision(s, decision, worker(), NOW)
    assert [e.event_type for e in events] == ["decision.recorded", "agency_decision.completed"]


def test_urgent_share_without_agreement_asks_the_advisor_to_review_after() -> None:
    s = assessed(rating=Rating.RED)
    not_sought = RecordConsentNotSought(
        reason=NotSoughtReason.RISK_OF_SIGNIFICANT_HARM_TO_CHILD, explanation=sealed()
    )
    s = apply(s, decide_consent_not_sought(s, not_sought, worker(), NOW))
    basis = LawfulBasis(
        art6=Art6Basis.PUBLIC_TASK, without_consent=WithoutConsentGround.SIGNIFICANT_HARM_TO_CHILD
    )
    s = apply(s, decide_lawful_basis(s, DetermineLawfulBasis(basis=basis), worker(), NOW))
    s = apply(s, decide_select_information(s, SelectInformation(items=[item()]), worker(), NOW))
    with pytest.raises(InconsistentDecision):
        decide_record_decision(s, share(), worker(), NOW)
    s = apply(s, decide_record_decision(s, share(urgent_override=sealed()), worker(), NOW))
    assert TaskKind.REVIEW_URGENT_SHARE in kinds(s)
    review = GiveAdvice(recommendation=AdviceRecommendation.SHARE, advice=sealed())
    events = decide_give_advice(s, review, advisor(), LATER)
    s = apply(s, events)
    assert s.advice[-1].review_after_urgent_share and not s.review_pending


def test_advice_is_given_only_by_the_agencys_advisor_when_asked() -> None:
    s = assessed()
    answer = GiveAdvice(recommendation=AdviceRecommendation.SHARE, advice=sealed())
    with pytest.raises(InvalidState):
        decide_give_advice(s, answer, advisor(), NOW)
    s = apply(s, decide_request_advice(s, RequestAdvice(question=sealed()), worker(), NOW))
    assert TaskKind.GIVE_ADVICE in kinds(s)
    with pytest.raises(NotPermitted):
        decide_give_advice(s, answer, advisor("police"), NOW)
    assert TaskKind.GIVE_ADVICE not in kinds(
        apply(s, decide_give_advice(s, answer, advisor(), NOW))
    )


def test_a_missed_deadline_escalates_and_is_recorded() -> None:
    s = state()
    warning, breach = DEFAULT_POLICY.escalation
    early = deadline_reached(s, DeadlineKind.DECISION, warning, NOW)
    assert [e.event_type for e in early] == ["deadline.escalated"]
    assert deadline_reached(s, DeadlineKind.DECISION, breach, NOW) == []  # timer fired early
    events = deadline_reached(s, DeadlineKind.DECISION, breach, s.decision_due_at)
    assert [e.event_type for e in events] == ["deadline.missed", "deadline.escalated"]
    assert apply(s, events).missed == [DeadlineKind.DECISION]


def test_a_deadline_for_a_finished_step_escalates_nothing() -> None:
    s = assessed(purpose_clear=False)
    decision = not_share(not_share_reasons=[NotShareReason.NO_LEGITIMATE_PURPOSE])
    s = apply(s, decide_record_decision(s, decision, worker(), NOW))
    breach = DEFAULT_POLICY.escalation[-1]
    assert deadline_reached(s, DeadlineKind.DECISION, breach, s.decision_due_at) == []


def test_events_round_trip_through_the_registry() -> None:
    s = ready_to_share()
    for event in decide_record_decision(s, share(), worker(), NOW):
        data = event.model_dump(mode="json")
        assert registry.decode(event.event_type, event.schema_version, data) == event


def test_state_survives_json_as_temporal_would_carry_it() -> None:
    s = ready_to_share()
    assert AgencyDecisionState.model_validate_json(s.model_dump_json()) == s


def test_events_of_another_agency_leave_the_state_unchanged() -> None:
    s = ready_to_share()
    other = state("health").model_copy(update={"agency": "school"})
    event = decide_record_decision(s, share(), worker(), NOW)[0]
    assert evolve(other, event) is other
