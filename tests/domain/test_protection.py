"""Harm to others, whoever the subject is; para 18 keyed to the protected individual;
no dead ends; consent not forced where it is inappropriate; an honest record."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.commands import (
    AssessPurpose,
    DetermineLawfulBasis,
    GiveAdvice,
    RecordConsent,
    RecordConsentNotSought,
    RequestAdvice,
    SeekConsent,
    SelectInformation,
)
from domain.errors import InconsistentDecision, InvalidState
from domain.events import DecisionRecorded
from domain.events.values import ProtectedPerson
from domain.handlers import (
    decide_assess_purpose,
    decide_consent_not_sought,
    decide_give_advice,
    decide_lawful_basis,
    decide_record_consent,
    decide_record_decision,
    decide_request_advice,
    decide_seek_consent,
    decide_select_information,
)
from domain.models import (
    AdviceRecommendation,
    AgencyKind,
    Art6Basis,
    Art9Condition,
    ConsentOutcome,
    ConsentRecord,
    CouldNotObtainReason,
    InstrumentKind,
    LawfulBasis,
    LegalInstrument,
    NotShareReason,
    NotSoughtReason,
    PurposeCategory,
    Rating,
    SubjectKind,
    WithoutConsentGround,
)
from domain.rules import DecisionFacts, applicable_bases, decision_problems, lawful_basis_problems
from domain.vocabulary import (
    LEGITIMATE_PURPOSES,
    AtRiskKind,
    OffenceCondition,
    Para18Reason,
    ProtectedRelation,
)
from tests.domain.make import (
    NOW,
    advisor,
    agreeing_advice,
    apply,
    assessed,
    codes,
    consent,
    facts,
    item,
    not_share,
    sealed,
    share,
    state,
    worker,
)

CHILD_OF_SUBJECT = ProtectedPerson(
    relation=ProtectedRelation.CHILD_OF_SUBJECT, kind=AtRiskKind.CHILD
)
PARA18 = Art9Condition.SAFEGUARDING_CHILDREN_AND_INDIVIDUALS_AT_RISK


def adult_who_refused(**changes: Any) -> DecisionFacts:
    """An adult's special category data, their consent refused: where para 18 is asked."""
    return facts(
        subject_kind=SubjectKind.ADULT,
        special_category=True,
        consent=consent(ConsentOutcome.REFUSED),
        **changes,
    )


# --- 1. harm to others, whoever the subject is --------------------------------------------


def test_a_parents_information_may_be_shared_without_consent_to_protect_their_child() -> None:
    basis = LawfulBasis(
        art6=Art6Basis.PUBLIC_TASK,
        art9=PARA18,
        without_consent=WithoutConsentGround.SIGNIFICANT_HARM_TO_CHILD,
        protects=CHILD_OF_SUBJECT,
        para18_reason=Para18Reason.CANNOT_REASONABLY_BE_OBTAINED,
    )
    f = adult_who_refused(lawful_basis=basis, advice=[agreeing_advice()], items=[item()])
    assert decision_problems(f, share()) == []


def test_a_childs_information_may_be_shared_to_protect_an_adult_at_risk() -> None:
    parent = ProtectedPerson(
        relation=ProtectedRelation.PARENT_OR_CARER_OF_SUBJECT, kind=AtRiskKind.ADULT_AT_RISK
    )
    basis = LawfulBasis(
        art6=Art6Basis.PUBLIC_TASK,
        without_consent=WithoutConsentGround.SERIOUS_HARM_TO_ADULT,
        protects=parent,
    )
    f = facts(subject_kind=SubjectKind.CHILD, consent=consent(ConsentOutcome.REFUSED))
    assert lawful_basis_problems(basis, f) == []


def test_an_adult_subject_is_not_taken_for_the_child_at_risk() -> None:
    basis = LawfulBasis(
        art6=Art6Basis.PUBLIC_TASK, without_consent=WithoutConsentGround.SIGNIFICANT_HARM_TO_CHILD
    )
    f = facts(subject_kind=SubjectKind.ADULT, consent=consent(ConsentOutcome.REFUSED))
    assert "protected_person_does_not_fit" in codes(lawful_basis_problems(basis, f))
    named_subject = basis.model_copy(
        update={
            "protects": ProtectedPerson(relation=ProtectedRelation.SUBJECT, kind=AtRiskKind.CHILD)
        }
    )
    assert codes(lawful_basis_problems(named_subject, f)) == {"protected_person_inconsistent"}


def test_consent_about_a_parent_goes_unsought_where_asking_would_put_the_child_at_risk() -> None:
    s = assessed(subject_kind=SubjectKind.ADULT)
    command = RecordConsentNotSought(
        reason=NotSoughtReason.RISK_OF_SIGNIFICANT_HARM_TO_CHILD,
        explanation=sealed(),
        at_risk=CHILD_OF_SUBJECT,
    )
    s = apply(s, decide_consent_not_sought(s, command, worker(), NOW))
    assert s.consent is not None and s.consent.at_risk == CHILD_OF_SUBJECT


# --- 2. para 18 keyed to the protected individual -------------------------------------------


def test_para_18_needs_who_is_protected_and_its_reason() -> None:
    basis = LawfulBasis(
        art6=Art6Basis.PUBLIC_TASK,
        art9=PARA18,
        without_consent=WithoutConsentGround.SAFEGUARDING_CONDITION,
    )
    adult = adult_who_refused()
    assert codes(lawful_basis_problems(basis, adult)) == {
        "protected_person_does_not_fit",
        "para18_reason_missing",
    }
    named = basis.model_copy(
        update={"protects": CHILD_OF_SUBJECT, "para18_reason": Para18Reason.CANNOT_BE_GIVEN}
    )
    assert codes(lawful_basis_problems(named, adult)) == {"para18_reason_contradicts_consent"}
    right = named.model_copy(update={"para18_reason": Para18Reason.CANNOT_REASONABLY_BE_OBTAINED})
    assert lawful_basis_problems(right, adult) == []


def test_para_18_does_not_reach_an_adult_who_is_not_at_risk() -> None:
    partner = ProtectedPerson(relation=ProtectedRelation.PARTNER_OF_SUBJECT, kind=AtRiskKind.ADULT)
    basis = LawfulBasis(
        art6=Art6Basis.PUBLIC_TASK,
        art9=PARA18,
        without_consent=WithoutConsentGround.SERIOUS_HARM_TO_ADULT,
        protects=partner,
        para18_reason=Para18Reason.CANNOT_REASONABLY_BE_OBTAINED,
    )
    f = adult_who_refused()
    assert codes(lawful_basis_problems(basis, f)) == {"protected_person_does_not_fit"}


# --- 3. no dead ends -----------------------------------------------------------------------


@st.composite
def no_consent(draw: st.DrawFn) -> ConsentRecord:
    outcome = draw(
        st.sampled_from(
            [
                ConsentOutcome.REFUSED,
                ConsentOutcome.COULD_NOT_BE_OBTAINED,
                ConsentOutcome.SOUGHT_NO_ANSWER,
                ConsentOutcome.NOT_SOUGHT,
            ]
        )
    )
    return ConsentRecord(
        outcome=outcome,
        could_not_obtain_reason=(
            draw(st.sampled_from(CouldNotObtainReason))
            if outcome is ConsentOutcome.COULD_NOT_BE_OBTAINED
            else None
        ),
        not_sought_reason=(
            draw(st.sampled_from(NotSoughtReason)) if outcome is ConsentOutcome.NOT_SOUGHT else None
        ),
        recorded_at=NOW,
    )


def _candidates(f: DecisionFacts, at_risk: ProtectedPerson) -> list[LawfulBasis]:
    fit = applicable_bases(f)
    art9s: list[Art9Condition | None] = [*fit.art9] if fit.art9_required else [None]
    offences: list[OffenceCondition | None] = [*fit.offence] if fit.offence_required else [None]
    reasons: list[Para18Reason | None] = [*fit.para18_reasons, None]
    return [
        LawfulBasis(
            art6=art6,
            art9=art9,
            offence_condition=offence,
            without_consent=ground,
            protects=at_risk,
            para18_reason=reason,
            rationale=sealed(),
        )
        for art6 in fit.art6
        for art9 in art9s
        for offence in offences
        for ground in fit.without_consent
        for reason in reasons
    ]


@given(
    holder=st.sampled_from(AgencyKind),
    subject=st.sampled_from(SubjectKind),
    special=st.booleans(),
    criminal=st.booleans(),
    purpose=st.sampled_from(sorted(LEGITIMATE_PURPOSES)),
    rating=st.sampled_from(Rating),
    consent_record=no_consent(),
    at_risk=st.sampled_from(
        [
            CHILD_OF_SUBJECT,
            ProtectedPerson(relation=ProtectedRelation.SIBLING_OF_SUBJECT, kind=AtRiskKind.CHILD),
            ProtectedPerson(
                relation=ProtectedRelation.PARTNER_OF_SUBJECT, kind=AtRiskKind.ADULT_AT_RISK
            ),
        ]
    ),
)
def test_every_agency_has_a_lawful_route_to_share_against_significant_harm(
    holder: AgencyKind,
    subject: SubjectKind,
    special: bool,
    criminal: bool,
    purpose: PurposeCategory,
    rating: Rating,
    consent_record: ConsentRecord,
    at_risk: ProtectedPerson,
) -> None:
    f = facts(
        holder_kind=holder,
        subject_kind=subject,
        special_category=special,
        criminal_offence_data=criminal,
        purpose_category=purpose,
        rating=rating,
        consent=consent_record,
        advice=[agreeing_advice()],
        items=[item()],
    )
    routes = [
        b
        for b in _candidates(f, at_risk)
        if not decision_problems(f.model_copy(update={"lawful_basis": b}), share())
    ]
    assert routes, "no lawful basis is offered"


# --- 4. a statutory duty or court order before consent; "inappropriate"; harmful delay -------


ORDER = LegalInstrument(kind=InstrumentKind.COURT_ORDER, citation="Family Court disclosure order")


def test_a_court_order_is_asked_before_consent_and_consent_is_then_not_needed() -> None:
    s = state()
    command = AssessPurpose(
        purpose_clear=True,
        identifiable=True,
        confidential=True,
        special_category=False,
        compelled_by=ORDER,
    )
    s = apply(s, decide_assess_purpose(s, command, worker(), NOW))
    assert s.consent_resolved and not s.consent_needed
    with pytest.raises(InvalidState):
        decide_seek_consent(s, SeekConsent(), worker(), NOW)
    basis = LawfulBasis(art6=Art6Basis.PUBLIC_TASK)
    with pytest.raises(InconsistentDecision) as refused:
        decide_lawful_basis(s, DetermineLawfulBasis(basis=basis), worker(), NOW)
    assert set(refused.value.codes) == {"basis_not_applicable", "instrument_not_named"}
    basis = LawfulBasis(art6=Art6Basis.LEGAL_OBLIGATION, instrument=ORDER)
    s = apply(s, decide_lawful_basis(s, DetermineLawfulBasis(basis=basis), worker(), NOW))
    s = apply(s, decide_select_information(s, SelectInformation(items=[item()]), worker(), NOW))
    event = decide_record_decision(s, share(), worker(), NOW)[0]
    assert isinstance(event, DecisionRecorded)
    assert event.record.consent.outcome is ConsentOutcome.NOT_NEEDED
    assert event.record.lawful_basis is not None and event.record.lawful_basis.instrument == ORDER


def test_consent_may_go_unsought_where_seeking_it_is_inappropriate() -> None:
    s = assessed()
    command = RecordConsentNotSought(reason=NotSoughtReason.INAPPROPRIATE, explanation=sealed())
    s = apply(s, decide_consent_not_sought(s, command, worker(), NOW))
    assert s.consent is not None and s.consent.not_sought_reason is NotSoughtReason.INAPPROPRIATE


# --- 5. the record never says something untrue ---------------------------------------------


@pytest.mark.parametrize(
    ("sought", "recorded"),
    [
        pytest.param(True, ConsentOutcome.SOUGHT_NO_ANSWER, id="sought_and_never_answered"),
        pytest.param(False, ConsentOutcome.UNRESOLVED, id="never_asked_before_not_sharing"),
    ],
)
def test_not_sharing_records_consent_as_it_stood(sought: bool, recorded: ConsentOutcome) -> None:
    """Consent sought and never answered is recorded as such; consent never asked before
    not sharing is recorded as unresolved, not as not required."""
    s = assessed()
    if sought:
        s = apply(s, decide_seek_consent(s, SeekConsent(), worker(), NOW))
    decision = not_share(not_share_reasons=[NotShareReason.INFORMATION_NOT_HELD])
    event = decide_record_decision(s, decision, worker(), NOW)[0]
    assert isinstance(event, DecisionRecorded)
    assert event.record.consent.outcome is recorded


def test_no_answer_to_consent_can_be_recorded_once_sought() -> None:
    s = assessed()
    with pytest.raises(InvalidState):
        decide_record_consent(
            s, RecordConsent(outcome=ConsentOutcome.SOUGHT_NO_ANSWER), worker(), NOW
        )
    s = apply(s, decide_seek_consent(s, SeekConsent(), worker(), NOW))
    s = apply(
        s,
        decide_record_consent(
            s, RecordConsent(outcome=ConsentOutcome.SOUGHT_NO_ANSWER), worker(), NOW
        ),
    )
    assert s.consent is not None and s.consent.outcome is ConsentOutcome.SOUGHT_NO_ANSWER


def test_an_advisor_cannot_agree_to_share_without_consent_while_advising_not_to_share() -> None:
    s = assessed()
    s = apply(s, decide_request_advice(s, RequestAdvice(question=sealed()), worker(), NOW))
    for recommendation in (
        AdviceRecommendation.NOT_SHARE,
        AdviceRecommendation.MORE_INFORMATION_NEEDED,
    ):
        contradictory = GiveAdvice(
            recommendation=recommendation, agrees_to_share_without_consent=True, advice=sealed()
        )
        with pytest.raises(InconsistentDecision) as refused:
            decide_give_advice(s, contradictory, advisor(), NOW)
        assert refused.value.codes == ("agreement_contradicts_recommendation",)
