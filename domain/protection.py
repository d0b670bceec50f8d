"""Who sharing protects: the person at risk, and DPA 2018 Schedule 1 paragraph 18.

The guidance's harm reasons concern whoever would be harmed, not the kind of
person the information is about; paragraph 18 protects an individual under 18
or an adult at risk, whether or not they are the data subject. Pure: no I/O.
"""

from __future__ import annotations

from domain.errors import Problem
from domain.events.values import ConsentRecord, LawfulBasis, ProtectedPerson
from domain.facts import DecisionFacts, is_legitimate_purpose
from domain.vocabulary import (
    ADULT_KINDS,
    RISK_NOT_SOUGHT,
    UNDER_18_KINDS,
    Art6Basis,
    Art9Condition,
    AtRiskKind,
    ConsentOutcome,
    CouldNotObtainReason,
    NotSoughtReason,
    OffenceCondition,
    Para18Reason,
    ProtectedRelation,
    WithoutConsentGround,
)

PARA18_KINDS = frozenset({AtRiskKind.CHILD, AtRiskKind.ADULT_AT_RISK})
"""DPA 2018 Sch. 1 para 18(1)(a): an individual under 18, or 18 or over and at risk."""

GROUND_PROTECTS: dict[WithoutConsentGround, frozenset[AtRiskKind]] = {
    WithoutConsentGround.SIGNIFICANT_HARM_TO_CHILD: frozenset({AtRiskKind.CHILD}),
    WithoutConsentGround.SERIOUS_HARM_TO_ADULT: frozenset(
        {AtRiskKind.ADULT_AT_RISK, AtRiskKind.ADULT}
    ),
    WithoutConsentGround.SAFEGUARDING_CONDITION: PARA18_KINDS,
}
"""The grounds that protect someone, and whom each can protect."""


# --- who is protected ---------------------------------------------------------------


def subject_as_protected(facts: DecisionFacts) -> ProtectedPerson:
    """Who a harm ground protects when none is named: the subject, as a child if the
    subject is (or, for a family, includes) someone under 18, else as an adult (at risk if
    the assessment found so). Records made before the question was asked read this way."""
    if facts.subject_kind in UNDER_18_KINDS:
        kind = AtRiskKind.CHILD
    elif facts.adult_at_risk:
        kind = AtRiskKind.ADULT_AT_RISK
    else:
        kind = AtRiskKind.ADULT
    return ProtectedPerson(relation=ProtectedRelation.SUBJECT, kind=kind)


def protected_person(basis: LawfulBasis, facts: DecisionFacts) -> ProtectedPerson:
    return basis.protects or subject_as_protected(facts)


def with_protected_named(basis: LawfulBasis, facts: DecisionFacts) -> LawfulBasis:
    """The basis as recorded: where a harm ground or para 18 protects someone and the worker
    left who blank, the record names the subject, so it always says who was protected."""
    needs = basis.without_consent in GROUND_PROTECTS or relies_on_para18(basis)
    if basis.protects is not None or not needs:
        return basis
    return basis.model_copy(update={"protects": subject_as_protected(facts)})


def person_problems(who: ProtectedPerson, facts: DecisionFacts) -> list[Problem]:
    """Where the person at risk is the subject, what is said of them must fit the subject.
    Anyone else (a child of the subject, a partner) may be of any kind: the harm concerns
    whoever would suffer it, not the kind of person the information is about."""
    if who.relation is not ProtectedRelation.SUBJECT:
        return []
    if who.kind is AtRiskKind.CHILD and facts.subject_kind not in UNDER_18_KINDS:
        return [
            _p(
                "protected_person_inconsistent",
                "the subject is an adult; name who the child at risk is "
                "(for example a child of the subject)",
            )
        ]
    if who.kind is not AtRiskKind.CHILD and facts.subject_kind not in ADULT_KINDS:
        return [
            _p(
                "protected_person_inconsistent",
                "the subject is a child; name who the adult at risk is",
            )
        ]
    if who.kind is AtRiskKind.ADULT_AT_RISK and not facts.adult_at_risk:
        return [
            _p(
                "protected_person_inconsistent",
                "the assessment did not find the subject an adult at risk",
            )
        ]
    return []


# --- DPA 2018 Schedule 1 paragraph 18 ---------------------------------------------------


def para18_reasons(consent: ConsentRecord | None) -> list[Para18Reason]:
    """Which of para 18(2)'s reasons the recorded consent outcome supports.

    Consent that could not be given (no capacity) "cannot be given"; no contact, no answer
    and a refusal mean it "cannot reasonably be obtained"; consent not sought because
    asking would put someone at risk, prejudice a serious-crime inquiry or cause harmful
    delay means obtaining it "would prejudice the protection". Where the guidance leaves
    room: a refusal is read as consent that cannot reasonably be obtained, because
    paragraph 18 exists so that a child's protection does not hang on the agreement of the
    person whose information it is; sharing over a refusal still needs the necessity test,
    a named person at risk and an advisor's agreement, and the refusal stays on the record.
    A data protection officer can defend that; refusing every such share could not be.
    """
    if consent is None:
        return []
    match consent.outcome:
        case ConsentOutcome.COULD_NOT_BE_OBTAINED:
            if consent.could_not_obtain_reason is CouldNotObtainReason.NO_CAPACITY:
                return [Para18Reason.CANNOT_BE_GIVEN, Para18Reason.CANNOT_REASONABLY_BE_OBTAINED]
            return [Para18Reason.CANNOT_REASONABLY_BE_OBTAINED]
        case ConsentOutcome.REFUSED | ConsentOutcome.SOUGHT_NO_ANSWER | ConsentOutcome.WITHDRAWN:
            return [Para18Reason.CANNOT_REASONABLY_BE_OBTAINED]
        case ConsentOutcome.NOT_SOUGHT:
            reason = consent.not_sought_reason
            if reason in RISK_NOT_SOUGHT or reason is NotSoughtReason.WOULD_PREJUDICE_SERIOUS_CRIME:
                return [Para18Reason.WOULD_PREJUDICE_PROTECTION]
            return [
                Para18Reason.CANNOT_REASONABLY_BE_OBTAINED,
                Para18Reason.WOULD_PREJUDICE_PROTECTION,
            ]
    return []


def para18_open(facts: DecisionFacts) -> bool:
    """Para 18 can be relied on: a legitimate (protective) purpose and consent not had for
    one of its reasons. Who is protected is checked on the chosen basis."""
    return is_legitimate_purpose(facts.purpose_category, facts.purpose_clear) and bool(
        para18_reasons(facts.consent)
    )


def relies_on_para18(basis: LawfulBasis) -> bool:
    return (
        basis.art9 is Art9Condition.SAFEGUARDING_CHILDREN_AND_INDIVIDUALS_AT_RISK
        or basis.without_consent is WithoutConsentGround.SAFEGUARDING_CONDITION
        or basis.offence_condition is OffenceCondition.SAFEGUARDING_CHILDREN_AND_INDIVIDUALS_AT_RISK
    )


def relies_on_vital_interests(basis: LawfulBasis) -> bool:
    return (
        basis.art6 is Art6Basis.VITAL_INTERESTS
        or basis.art9 is Art9Condition.VITAL_INTERESTS
        or basis.without_consent is WithoutConsentGround.VITAL_INTERESTS
        or basis.offence_condition is OffenceCondition.VITAL_INTERESTS
    )


def protection_problems(basis: LawfulBasis, facts: DecisionFacts) -> list[Problem]:
    """A harm ground or para 18 protects someone: name who (a role, never a name), of the
    kind the ground covers; para 18 also records why the subject's consent is not had."""
    needed: list[tuple[str, frozenset[AtRiskKind]]] = []
    ground = basis.without_consent
    if ground in GROUND_PROTECTS:
        needed.append((f"the ground {ground}", GROUND_PROTECTS[ground]))
    para18 = relies_on_para18(basis)
    if para18:
        needed.append(("DPA 2018 Sch. 1 para 18", PARA18_KINDS))
    if not needed:
        return []
    who = protected_person(basis, facts)
    problems = person_problems(who, facts)
    for what, kinds in needed:
        if who.kind not in kinds:
            allowed = " or ".join(sorted(str(k) for k in kinds))
            problems.append(
                _p(
                    "protected_person_does_not_fit",
                    f"{what} protects a {allowed}; the person named is a {who.kind}",
                )
            )
    if para18:
        reason = basis.para18_reason
        if reason is None:
            problems.append(
                _p(
                    "para18_reason_missing",
                    "para 18 needs its reason: consent cannot be given, cannot reasonably be "
                    "obtained, or seeking it would prejudice the protection",
                )
            )
        elif reason not in para18_reasons(facts.consent):
            problems.append(
                _p(
                    "para18_reason_contradicts_consent",
                    f"the reason {reason} does not match the consent outcome recorded",
                )
            )
    return problems


def _p(code: str, message: str) -> Problem:
    return Problem(code=code, message=message)
