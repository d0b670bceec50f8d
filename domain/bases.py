"""The lawful-basis catalogue: which bases fit the facts, and what each one needs.

Steps 5 and 6 of the decision (``DOMAIN.md``) and the catalogue of UK GDPR
Articles 6 and 9 and DPA 2018 Schedule 1. Pure: no I/O and no clock. Every
problem carries a stable code; the pages show its sentence.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from domain.errors import Problem
from domain.events.values import LawfulBasis
from domain.facts import (
    DecisionFacts,
    has_consent,
    is_public_authority,
    sharing_without_consent,
)
from domain.protection import (
    para18_open,
    para18_reasons,
    protection_problems,
    relies_on_vital_interests,
)
from domain.vocabulary import (
    COMPETENT_AUTHORITY_KINDS,
    HEALTH_OR_CARE_KINDS,
    Art6Basis,
    Art9Condition,
    CouldNotObtainReason,
    InstrumentKind,
    NotSoughtReason,
    OffenceCondition,
    Para18Reason,
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
    offence: list[OffenceCondition] = []
    offence_required: bool = False


# --- steps 5 and 6: which bases fit ---------------------------------------------------------


def _vital_interests_arguable(facts: DecisionFacts) -> bool:
    return facts.purpose_category in HARM_PREVENTING_PURPOSES or facts.rating is Rating.RED


def applicable_bases(facts: DecisionFacts) -> ApplicableBases:
    """Steps 5 and 6, and the lawful-basis catalogue: which bases fit these facts.

    Article 6: legal obligation always (naming the duty or order), and alone where
    a duty or order was found to apply; vital interests for harm-preventing
    purposes and red requests, accepted only where the worker answers that a life
    is at stake; public task for public authorities; legitimate interests and the
    recognised legitimate interest of Article 6(1)(ea) only for bodies that are
    not public authorities (as the hub's register says of the agency: a property of
    each agency, not of its kind), the latter for safeguarding,
    crime and public protection; consent only when given, and offered last,
    because it is rarely the right basis for safeguarding (it can be withdrawn,
    and a person who feels they cannot refuse has not freely given it). Article 9
    conditions are offered only for special-category data, and criminal offence
    data conditions only for criminal offence data. Without consent, the harm
    grounds are offered whoever the subject is: who is protected is named on the
    basis and checked there.
    """
    public = is_public_authority(facts)
    without = sharing_without_consent(facts)
    if facts.compelled_by is not None:
        art6 = [Art6Basis.LEGAL_OBLIGATION]
    else:
        art6 = [Art6Basis.LEGAL_OBLIGATION]
        if _vital_interests_arguable(facts):
            art6.append(Art6Basis.VITAL_INTERESTS)
        if public:
            art6.append(Art6Basis.PUBLIC_TASK)
        else:
            art6.append(Art6Basis.LEGITIMATE_INTERESTS)
            if facts.purpose_category in HARM_PREVENTING_PURPOSES:
                art6.append(Art6Basis.RECOGNISED_LEGITIMATE_INTEREST)
        if has_consent(facts.consent):
            art6.append(Art6Basis.CONSENT)
    offence_required = facts.identifiable and facts.criminal_offence_data
    return ApplicableBases(
        art6=art6,
        art9=_art9_conditions(facts, public) if facts.special_category else [],
        art9_required=facts.identifiable and facts.special_category,
        without_consent=_without_consent_grounds(facts) if without else [],
        without_consent_required=without,
        para18_reasons=para18_reasons(facts.consent) if para18_open(facts) else [],
        offence=_offence_conditions(facts, public) if facts.criminal_offence_data else [],
        offence_required=offence_required,
    )


def _offence_conditions(facts: DecisionFacts, public: bool) -> list[OffenceCondition]:
    """Criminal offence data, modelled as Article 9 is. Part 3 only for a competent
    authority (police, probation, youth offending) processing for a law-enforcement
    purpose (crime, public protection); for safeguarding and early help even the police
    use UK GDPR with a Schedule 1 condition, chiefly para 18."""
    consent = facts.consent
    conditions: list[OffenceCondition] = []
    if facts.holder_kind in COMPETENT_AUTHORITY_KINDS and facts.purpose_category in {
        PurposeCategory.CRIME_PREVENTION_DETECTION,
        PurposeCategory.PUBLIC_PROTECTION,
    }:
        conditions.append(OffenceCondition.LAW_ENFORCEMENT)
    if has_consent(consent):
        conditions.append(OffenceCondition.CONSENT)
    if consent is not None and consent.could_not_obtain_reason is CouldNotObtainReason.NO_CAPACITY:
        conditions.append(OffenceCondition.VITAL_INTERESTS)
    if public or facts.compelled_by is not None:
        conditions.append(OffenceCondition.STATUTORY_PURPOSES)
    if facts.purpose_category in HARM_PREVENTING_PURPOSES:
        conditions.append(OffenceCondition.PREVENTING_OR_DETECTING_UNLAWFUL_ACTS)
    if para18_open(facts):
        conditions.append(OffenceCondition.SAFEGUARDING_CHILDREN_AND_INDIVIDUALS_AT_RISK)
    return conditions


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
    problems.extend(_offence_problems(basis, fit))
    problems.extend(_instrument_problems(basis, facts))
    problems.extend(protection_problems(basis, facts))
    if relies_on_vital_interests(basis) and not basis.life_or_death:
        problems.append(
            _p(
                "vital_interests_not_life_or_death",
                "vital interests is only for life or death: answer whether someone's life is "
                "at stake, or choose another basis",
            )
        )
    if ground is WithoutConsentGround.PUBLIC_INTEREST and basis.rationale is None:
        problems.append(
            _p(
                "public_interest_not_explained",
                "a public-interest ground needs the judgement on the facts written down",
            )
        )
    return problems


def _offence_problems(basis: LawfulBasis, fit: ApplicableBases) -> list[Problem]:
    if fit.offence_required and basis.offence_condition is None:
        return [
            _p(
                "offence_condition_missing",
                "criminal offence data needs its own condition as well (UK GDPR Article 10 "
                "with DPA 2018 Schedule 1, or Part 3 law enforcement)",
            )
        ]
    if basis.offence_condition is not None and basis.offence_condition not in fit.offence:
        return [
            _p(
                "offence_condition_not_applicable",
                f"the condition {basis.offence_condition} does not fit these facts",
            )
        ]
    return []


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
