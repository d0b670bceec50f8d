"""The guidance, one behaviour per test."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from domain.commands import OpenRequest
from domain.decision import start
from domain.errors import InconsistentDecision, ValidationFailed
from domain.events import RequestOpened, registry
from domain.events.values import ProtectedPerson
from domain.models import (
    Agency,
    AgencyKind,
    AgencyRegister,
    Art6Basis,
    Art9Condition,
    ConsentOutcome,
    CouldNotObtainReason,
    InstrumentKind,
    Isp,
    IspRegister,
    LawfulBasis,
    LegalInstrument,
    NotShareReason,
    NotSoughtReason,
    PurposeCategory,
    Rating,
    SubjectKind,
    WithoutConsentGround,
)
from domain.request import decide_open
from domain.rules import (
    applicable_bases,
    check_decision,
    check_not_sought_reason,
    consent_question_arises,
    decision_problems,
    is_legitimate_purpose,
    item_problems,
    lawful_basis_problems,
)
from domain.vocabulary import AtRiskKind, Para18Reason, ProtectedRelation
from tests.domain import make
from tests.domain.make import NOW, consent, facts, item, not_share, sealed, share

PUBLIC_TASK = LawfulBasis(art6=Art6Basis.PUBLIC_TASK)
WITH_HARM_GROUND = LawfulBasis(
    art6=Art6Basis.PUBLIC_TASK, without_consent=WithoutConsentGround.SIGNIFICANT_HARM_TO_CHILD
)


@pytest.mark.parametrize(
    ("category", "clear", "legitimate"),
    [
        (PurposeCategory.SAFEGUARDING_WELFARE, True, True),
        (PurposeCategory.EARLY_HELP, True, True),
        (PurposeCategory.CRIME_PREVENTION_DETECTION, True, True),
        (PurposeCategory.PUBLIC_PROTECTION, True, True),
        (PurposeCategory.SAFEGUARDING_WELFARE, False, False),
        (PurposeCategory.OTHER, True, False),
        (PurposeCategory.NONE, True, False),
    ],
)
def test_legitimate_purpose_is_a_clear_recognised_one(
    category: PurposeCategory, clear: bool, legitimate: bool
) -> None:
    assert is_legitimate_purpose(category, clear) is legitimate


def test_refuses_sharing_when_the_purpose_is_not_legitimate() -> None:
    f = facts(purpose_clear=False, consent=consent(), lawful_basis=PUBLIC_TASK, items=[item()])
    assert "purpose_not_legitimate" in make.codes(decision_problems(f, share()))


@pytest.mark.parametrize(
    ("identifiable", "confidential", "arises"),
    [(True, True, True), (True, False, False), (False, True, False), (False, False, False)],
)
def test_consent_is_only_the_question_for_confidential_identifying_information(
    identifiable: bool, confidential: bool, arises: bool
) -> None:
    assert consent_question_arises(identifiable, confidential) is arises


def test_information_identifying_no_one_may_be_shared_without_a_lawful_basis() -> None:
    f = facts(identifiable=False, items=[item()])
    assert decision_problems(f, share(inform=None)) == []


def test_refuses_sharing_without_lawful_basis() -> None:
    f = facts(consent=consent(), items=[item()])
    assert "no_lawful_basis" in make.codes(decision_problems(f, share()))


def test_refuses_sharing_without_an_art9_condition_for_special_category_data() -> None:
    f = facts(special_category=True, consent=consent(), lawful_basis=PUBLIC_TASK, items=[item()])
    assert "special_category_condition_missing" in make.codes(decision_problems(f, share()))


def test_consent_basis_only_applies_when_consent_was_given() -> None:
    refused = facts(consent=consent(ConsentOutcome.REFUSED))
    assert Art6Basis.CONSENT not in applicable_bases(refused).art6
    assert Art6Basis.CONSENT in applicable_bases(facts(consent=consent())).art6


def test_public_authorities_use_public_task_and_the_voluntary_sector_legitimate_interests() -> None:
    public = applicable_bases(facts(consent=consent())).art6
    charity = applicable_bases(facts(consent=consent(), holder_kind=AgencyKind.VOLUNTARY_SECTOR))
    assert Art6Basis.PUBLIC_TASK in public and Art6Basis.LEGITIMATE_INTERESTS not in public
    assert Art6Basis.RECOGNISED_LEGITIMATE_INTEREST not in public
    assert Art6Basis.PUBLIC_TASK not in charity.art6
    assert Art6Basis.RECOGNISED_LEGITIMATE_INTEREST in charity.art6


def test_public_authority_is_the_registers_answer_not_the_kinds() -> None:
    """Correction 6: a charity running a commissioned public function, registered as a
    public authority, has public task; a police-kind agency the register says is not a
    public authority (say a private provider) does not."""
    charity = applicable_bases(
        facts(consent=consent(), holder_kind=AgencyKind.VOLUNTARY_SECTOR, public_authority=True)
    ).art6
    assert Art6Basis.PUBLIC_TASK in charity
    assert Art6Basis.LEGITIMATE_INTERESTS not in charity
    private = applicable_bases(
        facts(consent=consent(), holder_kind=AgencyKind.POLICE, public_authority=False)
    ).art6
    assert Art6Basis.PUBLIC_TASK not in private
    assert Art6Basis.LEGITIMATE_INTERESTS in private


def test_the_opening_records_each_holders_register_status_and_the_isp_reference() -> None:
    register = AgencyRegister(
        agencies=[
            Agency(code="police", name="Police", kind=AgencyKind.POLICE, public_key=make.KEY),
            Agency(
                code="charity",
                name="Charity",
                kind=AgencyKind.VOLUNTARY_SECTOR,
                public_authority=True,
            ),
        ]
    )
    isps = IspRegister(
        isps=[
            Isp(
                isp_id=uuid4(),
                agencies=["police", "charity"],
                title="Safeguarding ISP",
                signed_on=date(2025, 1, 1),
                reference="ISP-2025-07",
            )
        ]
    )
    (event,) = decide_open(
        OpenRequest(request=make.request(holding_agencies=["charity"])),
        make.coordinator(),
        make.NOW,
        register,
        isps,
    )
    assert isinstance(event, RequestOpened)
    state = start(event, "charity")
    assert state.holder_public_authority is True
    assert state.isp_reference == "ISP-2025-07"
    assert (
        Art6Basis.PUBLIC_TASK
        in applicable_bases(
            facts(
                consent=consent(),
                holder_kind=state.holder_kind,
                public_authority=state.holder_public_authority,
            )
        ).art6
    )


@pytest.mark.parametrize(
    ("consent_record", "reasons"),
    [
        (
            consent(
                ConsentOutcome.COULD_NOT_BE_OBTAINED,
                could_not_obtain_reason=CouldNotObtainReason.NO_CAPACITY,
            ),
            {Para18Reason.CANNOT_BE_GIVEN, Para18Reason.CANNOT_REASONABLY_BE_OBTAINED},
        ),
        (
            consent(
                ConsentOutcome.COULD_NOT_BE_OBTAINED,
                could_not_obtain_reason=CouldNotObtainReason.NO_CONTACT,
            ),
            {Para18Reason.CANNOT_REASONABLY_BE_OBTAINED},
        ),
        (consent(ConsentOutcome.REFUSED), {Para18Reason.CANNOT_REASONABLY_BE_OBTAINED}),
        (consent(ConsentOutcome.SOUGHT_NO_ANSWER), {Para18Reason.CANNOT_REASONABLY_BE_OBTAINED}),
        (
            consent(
                ConsentOutcome.NOT_SOUGHT,
                not_sought_reason=NotSoughtReason.RISK_OF_SIGNIFICANT_HARM_TO_CHILD,
            ),
            {Para18Reason.WOULD_PREJUDICE_PROTECTION},
        ),
        (consent(), set()),
    ],
)
def test_para_18_reasons_follow_the_consent_outcome(
    consent_record: object, reasons: set[Para18Reason]
) -> None:
    f = facts(special_category=True, consent=consent_record)
    bases = applicable_bases(f)
    assert set(bases.para18_reasons) == reasons
    condition = Art9Condition.SAFEGUARDING_CHILDREN_AND_INDIVIDUALS_AT_RISK
    assert (condition in bases.art9) is bool(reasons)


@pytest.mark.parametrize(
    ("reason", "subject", "rating"),
    [
        (NotSoughtReason.RISK_OF_SIGNIFICANT_HARM_TO_CHILD, SubjectKind.CHILD, Rating.GREEN),
        (NotSoughtReason.RISK_OF_SERIOUS_HARM_TO_ADULT, SubjectKind.ADULT, Rating.AMBER),
        (NotSoughtReason.WOULD_PREJUDICE_SERIOUS_CRIME, SubjectKind.ADULT, Rating.GREEN),
        (NotSoughtReason.HARMFUL_DELAY_IN_URGENT_CASE, SubjectKind.FAMILY, Rating.RED),
        (NotSoughtReason.HARMFUL_DELAY_IN_URGENT_CASE, SubjectKind.FAMILY, Rating.GREEN),
        (NotSoughtReason.INAPPROPRIATE, SubjectKind.YOUNG_PERSON, Rating.AMBER),
    ],
)
def test_consent_goes_unsought_for_the_guidance_reasons(
    reason: NotSoughtReason, subject: SubjectKind, rating: Rating
) -> None:
    check_not_sought_reason(reason, None, facts(subject_kind=subject, rating=rating))


def test_a_risk_to_a_child_about_an_adult_subject_names_the_child() -> None:
    adult = facts(subject_kind=SubjectKind.ADULT)
    with pytest.raises(ValidationFailed) as refused:
        check_not_sought_reason(NotSoughtReason.RISK_OF_SIGNIFICANT_HARM_TO_CHILD, None, adult)
    assert refused.value.field == "at_risk"
    child = ProtectedPerson(relation=ProtectedRelation.CHILD_OF_SUBJECT, kind=AtRiskKind.CHILD)
    check_not_sought_reason(NotSoughtReason.RISK_OF_SIGNIFICANT_HARM_TO_CHILD, child, adult)


def test_sharing_without_consent_needs_a_lawful_reason_for_it() -> None:
    f = facts(
        consent=consent(ConsentOutcome.REFUSED),
        lawful_basis=PUBLIC_TASK,
        advice=[make.agreeing_advice()],
        items=[item()],
    )
    assert "no_ground_without_consent" in make.codes(decision_problems(f, share()))


def test_sharing_without_consent_needs_an_advisors_agreement() -> None:
    f = facts(
        consent=consent(ConsentOutcome.REFUSED), lawful_basis=WITH_HARM_GROUND, items=[item()]
    )
    assert make.codes(decision_problems(f, share())) == {"advisor_agreement_missing"}
    agreed = f.model_copy(update={"advice": [make.agreeing_advice()]})
    assert decision_problems(agreed, share()) == []


def test_urgent_share_without_agreement_is_allowed_with_a_recorded_reason() -> None:
    f = facts(
        consent=consent(ConsentOutcome.REFUSED), lawful_basis=WITH_HARM_GROUND, items=[item()]
    )
    assert decision_problems(f, share(urgent_override=sealed())) == []


def test_an_override_is_refused_when_nothing_needs_overriding() -> None:
    f = facts(consent=consent(), lawful_basis=PUBLIC_TASK, items=[item()])
    assert make.codes(decision_problems(f, share(urgent_override=sealed()))) == {
        "override_not_needed"
    }


def test_statutory_duty_must_be_named() -> None:
    basis = LawfulBasis(
        art6=Art6Basis.LEGAL_OBLIGATION, without_consent=WithoutConsentGround.STATUTORY_DUTY
    )
    f = facts(consent=consent(ConsentOutcome.REFUSED))
    assert "instrument_not_named" in make.codes(lawful_basis_problems(basis, f))
    named = basis.model_copy(
        update={
            "instrument": LegalInstrument(
                kind=InstrumentKind.STATUTORY_DUTY, citation="Children Act 2004 s.11"
            )
        }
    )
    assert lawful_basis_problems(named, f) == []


def test_a_court_order_ground_must_cite_an_order_not_a_statute() -> None:
    basis = LawfulBasis(
        art6=Art6Basis.LEGAL_OBLIGATION,
        without_consent=WithoutConsentGround.COURT_ORDER,
        instrument=LegalInstrument(
            kind=InstrumentKind.STATUTORY_DUTY, citation="Children Act 1989"
        ),
    )
    f = facts(consent=consent(ConsentOutcome.REFUSED))
    assert make.codes(lawful_basis_problems(basis, f)) == {"instrument_mismatch"}


def test_a_statutory_duty_that_applies_means_sharing() -> None:
    basis = LawfulBasis(
        art6=Art6Basis.LEGAL_OBLIGATION,
        instrument=LegalInstrument(kind=InstrumentKind.COURT_ORDER, citation="Family Court order"),
    )
    f = facts(consent=consent(), lawful_basis=basis)
    problems = decision_problems(f, not_share(not_share_reasons=[NotShareReason.OTHER]))
    assert make.codes(problems) == {"duty_requires_sharing"}
    compelled = facts(compelled_by=basis.instrument)
    problems = decision_problems(compelled, not_share(not_share_reasons=[NotShareReason.OTHER]))
    assert make.codes(problems) == {"duty_requires_sharing"}


def test_public_interest_needs_the_judgement_written_down() -> None:
    basis = LawfulBasis(
        art6=Art6Basis.PUBLIC_TASK, without_consent=WithoutConsentGround.PUBLIC_INTEREST
    )
    f = facts(consent=consent(ConsentOutcome.REFUSED))
    assert make.codes(lawful_basis_problems(basis, f)) == {"public_interest_not_explained"}
    assert lawful_basis_problems(basis.model_copy(update={"rationale": sealed()}), f) == []


def test_refuses_not_sharing_without_reasons() -> None:
    with pytest.raises(InconsistentDecision) as refused:
        check_decision(facts(), not_share())
    assert refused.value.codes == ("no_reasons",)


def test_respecting_refusal_needs_a_recorded_refusal() -> None:
    f = facts(consent=consent())
    problems = decision_problems(
        f, not_share(not_share_reasons=[NotShareReason.RESPECTING_REFUSAL])
    )
    assert make.codes(problems) == {"reason_contradicts_consent"}


def test_absence_of_isp_is_never_a_reason_not_to_share() -> None:
    assert "no_isp" not in {r.value for r in NotShareReason}
    for isp in (True, False):
        f = facts(consent=consent(), lawful_basis=PUBLIC_TASK, items=[item()], isp_exists=isp)
        assert decision_problems(f, share()) == []


def test_sharing_needs_necessity_items_and_an_inform_decision() -> None:
    f = facts(consent=consent(), lawful_basis=PUBLIC_TASK)
    problems = decision_problems(f, share(necessity=None, inform=None))
    assert make.codes(problems) == {"necessity_not_explained", "no_items", "inform_not_decided"}


def test_all_problems_are_reported_at_once_without_personal_data() -> None:
    f = facts(purpose_clear=False)
    with pytest.raises(InconsistentDecision) as refused:
        check_decision(f, share(necessity=None))
    assert len(refused.value.problems) >= 4
    assert "A" * 24 not in str(refused.value)


def test_selected_items_must_not_be_empty() -> None:
    assert make.codes(item_problems([], NOW, timedelta(days=365))) == {"no_items"}


def test_old_information_must_be_flagged_historical() -> None:
    old = date(2020, 1, 1)
    assert make.codes(item_problems([item(old)], NOW, timedelta(days=365))) == {
        "historical_not_flagged"
    }
    assert item_problems([item(old, historical=True)], NOW, timedelta(days=365)) == []


def test_information_cannot_be_dated_in_the_future() -> None:
    assert make.codes(item_problems([item(date(2027, 1, 1))], NOW, timedelta(days=365))) == {
        "item_dated_in_future"
    }


def test_an_item_is_selected_once() -> None:
    one = item()
    assert "duplicate_items" in make.codes(item_problems([one, one], NOW, timedelta(days=365)))


def test_a_request_recorded_before_public_authority_was_a_register_field_reads_by_kind() -> None:
    """request.opened version 2 (no public_authority, no ISP reference, no proactive flag)
    reads as today's event: each holder a public authority as its kind then made it."""
    current = make.opened(holding_agencies=["health", "charity"])
    data = current.model_dump(mode="json")
    for holder in data["holders"]:
        del holder["public_authority"], holder["isp_reference"]
    del data["proactive"]
    old = registry.decode("request.opened", 2, data)
    assert isinstance(old, RequestOpened) and not old.proactive
    status = {h.agency: h.public_authority for h in old.holders}
    assert status == {"health": True, "charity": False}
    charity = start(old, "charity")
    assert (
        Art6Basis.PUBLIC_TASK
        not in applicable_bases(
            facts(
                consent=consent(),
                holder_kind=charity.holder_kind,
                public_authority=charity.holder_public_authority,
            )
        ).art6
    )
