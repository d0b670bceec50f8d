"""The lawful-basis catalogue: which bases fit the facts, and what each one needs.

Steps 5 and 6 of the decision (``DOMAIN.md``) and the catalogue of UK GDPR
Articles 6 and 9 and DPA 2018 Schedule 1. Pure: no I/O and no clock. Every
problem carries a stable code; the pages show its sentence.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from domain.errors import Problem
from domain.events.values import ConsentRecord, LawfulBasis, ProtectedPerson
from domain.facts import (
    DecisionFacts,
    has_consent,
    is_legitimate_purpose,
    sharing_without_consent,
)
from domain.vocabulary import (
    ADULT_KINDS,
    HEALTH_OR_CARE_KINDS,
    RISK_NOT_SOUGHT,
    UNDER_18_KINDS,
    AgencyKind,
    Art6Basis,
    Art9Condition,
    AtRiskKind,
    ConsentOutcome,
    CouldNotObtainReason,
    InstrumentKind,
    NotSoughtReason,
    Para18Reason,
    ProtectedRelation,
    PurposeCategory,
    Rating,
    WithoutConsentGround,
)

HARM_PREVENTING_PURPOSES = frozenset(
    {
        PurposeCategory.SAFEGUARDING_WELFARE,
        PurposeCategory.CRIME_PREVENTION_DETECTION,
        PurposeCategory.PUBLIC_PROTECTION,
    }
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


class ApplicableBases(BaseModel):
    """The choices the UI offers; everything else would be refused."""

    model_config = ConfigDict(frozen=True)

    art6: list[Art6Basis]
    art9: list[Art9Condition]
    art9_required: bool
    without_consent: list[WithoutConsentGround]
    without_consent_required: bool
    para18_reasons: list[Para18Reason] = []
    """The para 18(2) reasons the consent outcome supports (empty: para 18 is not open)."""


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
        case ConsentOutcome.REFUSED | ConsentOutcome.SOUGHT_NO_ANSWER:
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
    )


# --- steps 5 and 6: which bases fit ---------------------------------------------------------


def _vital_interests_arguable(facts: DecisionFacts) -> bool:
    return facts.purpose_category in HARM_PREVENTING_PURPOSES or facts.rating is Rating.RED


def applicable_bases(facts: DecisionFacts) -> ApplicableBases:
    """Steps 5 and 6, and the lawful-basis catalogue: which bases fit these facts.

    Article 6: consent only when given; legal obligation always (naming the duty
    or order), and alone where a duty or order was found to apply; vital interests
    where life or safety is at stake; public task for public authorities;
    legitimate interests and the recognised legitimate interest of Article
    6(1)(ea) only for bodies that are not public authorities (the voluntary
    sector), the latter for safeguarding, crime and public protection. Article 9
    conditions are offered only for special-category data. Without consent, the
    harm grounds are offered whoever the subject is: who is protected is named on
    the basis and checked there.
    """
    public = facts.holder_kind is not AgencyKind.VOLUNTARY_SECTOR
    without = sharing_without_consent(facts)
    if facts.compelled_by is not None:
        art6 = [Art6Basis.LEGAL_OBLIGATION]
    else:
        art6 = [Art6Basis.LEGAL_OBLIGATION]
        if has_consent(facts.consent):
            art6.insert(0, Art6Basis.CONSENT)
        if _vital_interests_arguable(facts):
            art6.append(Art6Basis.VITAL_INTERESTS)
        if public:
            art6.append(Art6Basis.PUBLIC_TASK)
        else:
            art6.append(Art6Basis.LEGITIMATE_INTERESTS)
            if facts.purpose_category in HARM_PREVENTING_PURPOSES:
                art6.append(Art6Basis.RECOGNISED_LEGITIMATE_INTEREST)
    return ApplicableBases(
        art6=art6,
        art9=_art9_conditions(facts, public) if facts.special_category else [],
        art9_required=facts.identifiable and facts.special_category,
        without_consent=_without_consent_grounds(facts) if without else [],
        without_consent_required=without,
        para18_reasons=para18_reasons(facts.consent) if para18_open(facts) else [],
    )


def _art9_conditions(facts: DecisionFacts, public: bool) -> list[Art9Condition]:
    consent = facts.consent
    conditions: list[Art9Condition] = []
    if has_consent(consent):
        conditions.append(Art9Condition.EXPLICIT_CONSENT)
    if consent is not None and consent.could_not_obtain_reason is CouldNotObtainReason.NO_CAPACITY:
        conditions.append(Art9Condition.VITAL_INTERESTS)
    if facts.holder_kind in HEALTH_OR_CARE_KINDS:
        conditions.append(Art9Condition.HEALTH_OR_SOCIAL_CARE)
    if public or facts.compelled_by is not None:
        conditions.append(Art9Condition.STATUTORY_PURPOSES)
    if facts.purpose_category is PurposeCategory.CRIME_PREVENTION_DETECTION or (
        consent is not None
        and consent.not_sought_reason is NotSoughtReason.WOULD_PREJUDICE_SERIOUS_CRIME
    ):
        conditions.append(Art9Condition.PREVENTING_OR_DETECTING_UNLAWFUL_ACTS)
    if para18_open(facts):
        conditions.append(Art9Condition.SAFEGUARDING_CHILDREN_AND_INDIVIDUALS_AT_RISK)
    return conditions


def _without_consent_grounds(facts: DecisionFacts) -> list[WithoutConsentGround]:
    grounds = [
        WithoutConsentGround.STATUTORY_DUTY,
        WithoutConsentGround.COURT_ORDER,
        WithoutConsentGround.SIGNIFICANT_HARM_TO_CHILD,
        WithoutConsentGround.SERIOUS_HARM_TO_ADULT,
    ]
    if _vital_interests_arguable(facts):
        grounds.append(WithoutConsentGround.VITAL_INTERESTS)
    if para18_open(facts):
        grounds.append(WithoutConsentGround.SAFEGUARDING_CONDITION)
    grounds.append(WithoutConsentGround.PUBLIC_INTEREST)
    return grounds


# --- one chosen basis ------------------------------------------------------------------------


def lawful_basis_problems(basis: LawfulBasis, facts: DecisionFacts) -> list[Problem]:
    """The catalogue's rules for one chosen basis: it must fit the facts, special-category
    data needs an Article 9 condition, a statutory duty or court order must be named, a
    harm ground or para 18 names who is protected, para 18 gives its reason, and a
    public-interest judgement must be written down."""
    fit = applicable_bases(facts)
    problems: list[Problem] = []
    if basis.art6 not in fit.art6:
        problems.append(_p("basis_not_applicable", f"{basis.art6} does not fit these facts"))
    if fit.art9_required and basis.art9 is None:
        problems.append(
            _p(
                "special_category_condition_missing",
                "special-category data needs an Article 9 condition as well",
            )
        )
    if basis.art9 is not None and basis.art9 not in fit.art9:
        problems.append(
            _p("condition_not_applicable", f"the condition {basis.art9} does not fit these facts")
        )
    if fit.without_consent_required and basis.without_consent is None:
        problems.append(
            _p(
                "no_ground_without_consent",
                "there is no consent, so give the lawful reason for sharing without it",
            )
        )
    ground = basis.without_consent
    if ground is not None and fit.without_consent_required and ground not in fit.without_consent:
        problems.append(
            _p("ground_not_applicable", f"the ground {ground} does not fit these facts")
        )
    problems.extend(_instrument_problems(basis, facts))
    problems.extend(_protection_problems(basis, facts))
    if ground is WithoutConsentGround.PUBLIC_INTEREST and basis.rationale is None:
        problems.append(
            _p(
                "public_interest_not_explained",
                "a public-interest ground needs the judgement on the facts written down",
            )
        )
    return problems


def _protection_problems(basis: LawfulBasis, facts: DecisionFacts) -> list[Problem]:
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


def _instrument_problems(basis: LawfulBasis, facts: DecisionFacts) -> list[Problem]:
    """Where the basis is a statutory duty or court order, the record names it; where one
    was found to apply at the assessment, the basis relies on that same kind."""
    needs: InstrumentKind | None = None
    if basis.without_consent is WithoutConsentGround.STATUTORY_DUTY:
        needs = InstrumentKind.STATUTORY_DUTY
    elif basis.without_consent is WithoutConsentGround.COURT_ORDER:
        needs = InstrumentKind.COURT_ORDER
    elif facts.compelled_by is not None:
        needs = facts.compelled_by.kind
    if basis.instrument is None and (needs is not None or basis.art6 is Art6Basis.LEGAL_OBLIGATION):
        return [
            _p(
                "instrument_not_named",
                "name the statutory duty or court order relied on (its citation)",
            )
        ]
    if needs is not None and basis.instrument is not None and basis.instrument.kind is not needs:
        return [
            _p("instrument_mismatch", f"the ground is a {needs} but the instrument named is not")
        ]
    return []


def relies_on_compulsion(facts: DecisionFacts) -> bool:
    """Step 4: a statutory duty or court order that applies means the information is shared."""
    basis = facts.lawful_basis
    return facts.compelled_by is not None or (
        basis is not None
        and (
            basis.without_consent
            in {WithoutConsentGround.STATUTORY_DUTY, WithoutConsentGround.COURT_ORDER}
            or basis.art6 is Art6Basis.LEGAL_OBLIGATION
        )
    )


def _p(code: str, message: str) -> Problem:
    return Problem(code=code, message=message)
