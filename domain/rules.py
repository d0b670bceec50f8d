"""The guidance's decision rules, as pure functions.

No I/O and no clock: anything time-dependent takes ``now``. Each rule's
docstring says which point of the guidance (``DOMAIN.md``, the golden rules,
the Data Protection Act 2018) it puts into code. The workflows and the API
call these and never restate them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.commands import RecordDecision
from domain.errors import InconsistentDecision, Problem, ValidationFailed
from domain.events.values import AdviceTaken, ConsentRecord, InformationItem, LawfulBasis
from domain.vocabulary import (
    ADULT_KINDS,
    HEALTH_OR_CARE_KINDS,
    LEGITIMATE_PURPOSES,
    UNDER_18_KINDS,
    AgencyKind,
    Art6Basis,
    Art9Condition,
    ConsentOutcome,
    CouldNotObtainReason,
    InstrumentKind,
    NotShareReason,
    NotSoughtReason,
    Outcome,
    PurposeCategory,
    Rating,
    SubjectKind,
    WithoutConsentGround,
)

PROTECTIVE_PURPOSES = frozenset(
    {
        PurposeCategory.SAFEGUARDING_WELFARE,
        PurposeCategory.EARLY_HELP,
        PurposeCategory.PUBLIC_PROTECTION,
    }
)
HARM_PREVENTING_PURPOSES = frozenset(
    {
        PurposeCategory.SAFEGUARDING_WELFARE,
        PurposeCategory.CRIME_PREVENTION_DETECTION,
        PurposeCategory.PUBLIC_PROTECTION,
    }
)
_PROTECTION_NOT_SOUGHT = frozenset(
    {
        NotSoughtReason.RISK_OF_SIGNIFICANT_HARM_TO_CHILD,
        NotSoughtReason.RISK_OF_SERIOUS_HARM_TO_ADULT,
        NotSoughtReason.HARMFUL_DELAY_IN_URGENT_CASE,
    }
)


class DecisionFacts(BaseModel):
    """What is known about one agency's decision when a rule is asked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject_kind: SubjectKind
    rating: Rating
    purpose_category: PurposeCategory
    holder_kind: AgencyKind
    purpose_clear: bool
    identifiable: bool
    confidential: bool
    special_category: bool
    adult_at_risk: bool = False
    consent: ConsentRecord | None = None
    lawful_basis: LawfulBasis | None = None
    advice: list[AdviceTaken] = []
    items: list[InformationItem] = []
    isp_exists: bool = False
    """Recorded for the decision record only: no rule reads it."""


class ApplicableBases(BaseModel):
    """The choices the UI offers; everything else would be refused."""

    model_config = ConfigDict(frozen=True)

    art6: list[Art6Basis]
    art9: list[Art9Condition]
    art9_required: bool
    without_consent: list[WithoutConsentGround]
    without_consent_required: bool


# --- steps 1 to 4: purpose, identity, confidentiality, consent -----------------


def is_legitimate_purpose(category: PurposeCategory, purpose_clear: bool) -> bool:
    """Step 1: share only for a clear purpose that is safeguarding or promoting welfare,
    early help, preventing or detecting crime, or protecting the public."""
    return purpose_clear and category in LEGITIMATE_PURPOSES


def consent_question_arises(identifiable: bool, confidential: bool) -> bool:
    """Steps 2 and 3: consent matters only for confidential information about someone
    who can be identified; otherwise it is not the question (how to share still is)."""
    return identifiable and confidential


def check_not_sought_reason(
    reason: NotSoughtReason, subject_kind: SubjectKind, rating: Rating
) -> None:
    """Step 4: consent may go unsought only where asking would raise the risk of significant
    harm to a child, of serious harm to an adult, would undermine the prevention, detection
    or prosecution of serious crime, or would cause harmful delay in an urgent (red) case."""
    if (
        reason is NotSoughtReason.RISK_OF_SIGNIFICANT_HARM_TO_CHILD
        and subject_kind not in UNDER_18_KINDS
    ):
        raise ValidationFailed(
            "reason", f"risk to a child does not apply when the subject is {subject_kind}"
        )
    if reason is NotSoughtReason.RISK_OF_SERIOUS_HARM_TO_ADULT and subject_kind not in ADULT_KINDS:
        raise ValidationFailed(
            "reason", f"risk to an adult does not apply when the subject is {subject_kind}"
        )
    if reason is NotSoughtReason.HARMFUL_DELAY_IN_URGENT_CASE and rating is not Rating.RED:
        raise ValidationFailed(
            "reason",
            f"harmful delay applies to urgent (red) requests only; this one is {rating}. "
            "Re-rate it with a rationale if it has become urgent",
        )


def has_consent(consent: ConsentRecord | None) -> bool:
    return consent is not None and consent.outcome is ConsentOutcome.GIVEN


def sharing_without_consent(facts: DecisionFacts) -> bool:
    """Step 6 applies: confidential, identifying information and no consent given."""
    return consent_question_arises(facts.identifiable, facts.confidential) and not has_consent(
        facts.consent
    )


def _protection_without_consent_allowed(facts: DecisionFacts) -> bool:
    """DPA 2018 Schedule 1 paragraph 18: a child or adult at risk, and consent not sought
    because it cannot be given, cannot reasonably be obtained, or asking would prejudice
    the protection."""
    at_risk = facts.subject_kind in UNDER_18_KINDS or facts.adult_at_risk
    consent = facts.consent
    if not at_risk or consent is None or facts.purpose_category not in PROTECTIVE_PURPOSES:
        return False
    if consent.outcome is ConsentOutcome.COULD_NOT_BE_OBTAINED:
        return True
    return (
        consent.outcome is ConsentOutcome.NOT_SOUGHT
        and consent.not_sought_reason in _PROTECTION_NOT_SOUGHT
    )


def _vital_interests_arguable(facts: DecisionFacts) -> bool:
    return facts.purpose_category in HARM_PREVENTING_PURPOSES or facts.rating is Rating.RED


# --- steps 5 and 6: lawful basis -----------------------------------------------


def applicable_bases(facts: DecisionFacts) -> ApplicableBases:
    """Steps 5 and 6, and the lawful-basis catalogue: which bases fit these facts.

    Article 6: consent only when given; legal obligation always (naming the duty
    or order); vital interests where life or safety is at stake; public task for
    public authorities; legitimate interests and the recognised legitimate
    interest of Article 6(1)(ea) only for bodies that are not public authorities
    (the voluntary sector), the latter for safeguarding, crime and public
    protection. Article 9 conditions are offered only for special-category data.
    """
    public = facts.holder_kind is not AgencyKind.VOLUNTARY_SECTOR
    consented = has_consent(facts.consent)
    art6 = [Art6Basis.LEGAL_OBLIGATION]
    if consented:
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
        without_consent=_without_consent_grounds(facts) if sharing_without_consent(facts) else [],
        without_consent_required=sharing_without_consent(facts),
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
    if public:
        conditions.append(Art9Condition.STATUTORY_PURPOSES)
    if facts.purpose_category is PurposeCategory.CRIME_PREVENTION_DETECTION or (
        consent is not None
        and consent.not_sought_reason is NotSoughtReason.WOULD_PREJUDICE_SERIOUS_CRIME
    ):
        conditions.append(Art9Condition.PREVENTING_OR_DETECTING_UNLAWFUL_ACTS)
    if _protection_without_consent_allowed(facts):
        conditions.append(Art9Condition.SAFEGUARDING_CHILDREN_AND_INDIVIDUALS_AT_RISK)
    return conditions


def _without_consent_grounds(facts: DecisionFacts) -> list[WithoutConsentGround]:
    grounds = [WithoutConsentGround.STATUTORY_DUTY, WithoutConsentGround.COURT_ORDER]
    if facts.subject_kind in UNDER_18_KINDS:
        grounds.append(WithoutConsentGround.SIGNIFICANT_HARM_TO_CHILD)
    if facts.subject_kind in ADULT_KINDS:
        grounds.append(WithoutConsentGround.SERIOUS_HARM_TO_ADULT)
    if _vital_interests_arguable(facts):
        grounds.append(WithoutConsentGround.VITAL_INTERESTS)
    if _protection_without_consent_allowed(facts):
        grounds.append(WithoutConsentGround.SAFEGUARDING_CONDITION)
    grounds.append(WithoutConsentGround.PUBLIC_INTEREST)
    return grounds


def lawful_basis_problems(basis: LawfulBasis, facts: DecisionFacts) -> list[Problem]:
    """The catalogue's rules for one chosen basis: it must fit the facts, special-category
    data needs an Article 9 condition, a statutory duty or court order must be named, and a
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
    problems.extend(_instrument_problems(basis))
    if ground is WithoutConsentGround.PUBLIC_INTEREST and basis.rationale is None:
        problems.append(
            _p(
                "public_interest_not_explained",
                "a public-interest ground needs the judgement on the facts written down",
            )
        )
    return problems


def _instrument_problems(basis: LawfulBasis) -> list[Problem]:
    """Where the basis is a statutory duty or court order, the record names it."""
    needs: InstrumentKind | None = None
    if basis.without_consent is WithoutConsentGround.STATUTORY_DUTY:
        needs = InstrumentKind.STATUTORY_DUTY
    elif basis.without_consent is WithoutConsentGround.COURT_ORDER:
        needs = InstrumentKind.COURT_ORDER
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


def relies_on_compulsion(basis: LawfulBasis | None) -> bool:
    """Step 5: a statutory duty or court order that applies means the information is shared."""
    return basis is not None and (
        basis.without_consent
        in {WithoutConsentGround.STATUTORY_DUTY, WithoutConsentGround.COURT_ORDER}
        or basis.art6 is Art6Basis.LEGAL_OBLIGATION
    )


# --- step 7: advice -------------------------------------------------------------


def needs_advisor_agreement(facts: DecisionFacts) -> bool:
    """Step 7: sharing confidential information without consent needs an advisor's
    agreement (unless waiting for it would put someone at risk: see check_decision)."""
    return sharing_without_consent(facts)


def advisor_agrees(advice: Sequence[AdviceTaken]) -> bool:
    """The latest advice given before the decision decides; a later change of mind counts."""
    before = [a for a in advice if not a.review_after_urgent_share]
    return bool(before) and before[-1].agrees_to_share_without_consent


# --- step 8: how to share ---------------------------------------------------------


def item_problems(
    items: Sequence[InformationItem], now: datetime, historical_after: timedelta
) -> list[Problem]:
    """Step 8 and golden rule 6: share something, each item once, dated no later than
    today, and flag as historical anything older than the hub's threshold. Fact and
    opinion are kept apart by each item's required kind."""
    if not items:
        return [_p("no_items", "select at least one item of information to share")]
    problems: list[Problem] = []
    ids = [i.item_id for i in items]
    if len(ids) != len(set(ids)):
        problems.append(_p("duplicate_items", "each item may be selected only once"))
    today = now.date()
    oldest_current = (now - historical_after).date()
    for n, item in enumerate(items, start=1):
        if item.dated > today:
            problems.append(_p("item_dated_in_future", f"item {n} is dated in the future"))
        elif item.dated < oldest_current and not item.historical:
            problems.append(
                _p(
                    "historical_not_flagged",
                    f"item {n} is older than the hub's threshold: flag it as historical",
                )
            )
    return problems


# --- steps 9 and 10: the consistency check -----------------------------------------


def decision_problems(facts: DecisionFacts, decision: RecordDecision) -> list[Problem]:
    """Golden rules 4 and 7, steps 1 to 10: every reason a decision cannot stand.

    The existence of an ISP is never consulted: its absence is no reason not
    to share, and its presence is no reason to share.
    """
    if decision.outcome is Outcome.SHARE:
        return _share_problems(facts, decision)
    return _not_share_problems(facts, decision)


def check_decision(facts: DecisionFacts, decision: RecordDecision) -> None:
    """Refuse, all problems listed at once, a decision that contradicts the record."""
    problems = decision_problems(facts, decision)
    if problems:
        raise InconsistentDecision(problems)


def _share_problems(facts: DecisionFacts, decision: RecordDecision) -> list[Problem]:
    problems: list[Problem] = []
    if not is_legitimate_purpose(facts.purpose_category, facts.purpose_clear):
        problems.append(
            _p("purpose_not_legitimate", "there is no clear and legitimate purpose to share for")
        )
    if consent_question_arises(facts.identifiable, facts.confidential) and facts.consent is None:
        problems.append(
            _p("consent_unresolved", "record whether consent was given, refused or not sought")
        )
    if facts.identifiable:
        if facts.lawful_basis is None:
            problems.append(_p("no_lawful_basis", "determine the lawful basis before sharing"))
        else:
            problems.extend(lawful_basis_problems(facts.lawful_basis, facts))
        if decision.inform is None:
            problems.append(
                _p("inform_not_decided", "say whether the person will be told, and if not why")
            )
    problems.extend(_agreement_problems(facts, decision))
    if decision.necessity is None:
        problems.append(
            _p("necessity_not_explained", "explain why sharing is necessary and proportionate")
        )
    if not facts.items:
        problems.append(_p("no_items", "select the information to share first"))
    if decision.not_share_reasons:
        problems.append(_p("reasons_contradict_outcome", "reasons not to share given for a share"))
    return problems


def _agreement_problems(facts: DecisionFacts, decision: RecordDecision) -> list[Problem]:
    needed = needs_advisor_agreement(facts) and not advisor_agrees(facts.advice)
    if needed and decision.urgent_override is None:
        return [
            _p(
                "advisor_agreement_missing",
                "sharing without consent needs an advisor's agreement, or a recorded reason "
                "why waiting for it would put someone at risk",
            )
        ]
    if not needed and decision.urgent_override is not None:
        return [_p("override_not_needed", "no advisor agreement is outstanding to override")]
    return []


def _not_share_problems(facts: DecisionFacts, decision: RecordDecision) -> list[Problem]:
    problems: list[Problem] = []
    reasons = set(decision.not_share_reasons)
    if not reasons:
        problems.append(_p("no_reasons", "give at least one reason for not sharing"))
    legitimate = is_legitimate_purpose(facts.purpose_category, facts.purpose_clear)
    if NotShareReason.NO_LEGITIMATE_PURPOSE in reasons and legitimate:
        problems.append(
            _p("reason_contradicts_assessment", "the purpose was assessed as legitimate")
        )
    refused = facts.consent is not None and facts.consent.outcome is ConsentOutcome.REFUSED
    if NotShareReason.RESPECTING_REFUSAL in reasons and not refused:
        problems.append(_p("reason_contradicts_consent", "consent was not recorded as refused"))
    if relies_on_compulsion(facts.lawful_basis):
        problems.append(
            _p(
                "duty_requires_sharing",
                "a statutory duty or court order was found to apply, so the information is "
                "shared; correct the lawful basis if it does not apply",
            )
        )
    if decision.urgent_override is not None or decision.necessity is not None:
        problems.append(_p("share_fields_on_not_share", "necessity and override are for sharing"))
    return problems


def _p(code: str, message: str) -> Problem:
    return Problem(code=code, message=message)
