"""The guidance's decision rules, as pure functions.

No I/O and no clock: anything time-dependent takes ``now``. Each rule's
docstring says which point of the guidance (``DOMAIN.md``, the golden rules,
the Data Protection Act 2018) it puts into code, and why where the guidance
leaves room. The workflows and the API call these and never restate them.
Steps 1 to 4 live in :mod:`domain.facts`, the lawful-basis catalogue (steps 5
and 6) in :mod:`domain.bases`, who is protected and DPA 2018 Sch. 1 para 18 in
:mod:`domain.protection`; what the floors above need is re-exported here, the
one door they use.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from domain.bases import (
    ApplicableBases,
    applicable_bases,
    lawful_basis_problems,
    relies_on_compulsion,
)
from domain.commands import GiveAdvice, RecordDecision
from domain.errors import InconsistentDecision, Problem, ValidationFailed
from domain.events.values import AdviceTaken, ConsentRecord, InformationItem, ProtectedPerson
from domain.facts import (
    DecisionFacts,
    consent_needed,
    consent_question_arises,
    has_consent,
    is_legitimate_purpose,
    sharing_without_consent,
)
from domain.protection import (
    para18_reasons,
    person_problems,
    protected_person,
    subject_as_protected,
)
from domain.vocabulary import (
    RISK_NOT_SOUGHT,
    AdviceRecommendation,
    AtRiskKind,
    ConsentOutcome,
    NotShareReason,
    NotSoughtReason,
    Outcome,
)

__all__ = [
    "ApplicableBases",
    "DecisionFacts",
    "advice_problems",
    "advisor_agrees",
    "applicable_bases",
    "check_decision",
    "check_not_sought_reason",
    "check_review_date",
    "consent_needed",
    "consent_on_record",
    "consent_question_arises",
    "decision_problems",
    "has_consent",
    "is_legitimate_purpose",
    "item_problems",
    "lawful_basis_problems",
    "needs_advisor_agreement",
    "para18_reasons",
    "protected_person",
    "relies_on_compulsion",
    "sharing_without_consent",
    "subject_as_protected",
]

_REASON_PROTECTS = {
    NotSoughtReason.RISK_OF_SIGNIFICANT_HARM_TO_CHILD: AtRiskKind.CHILD,
    NotSoughtReason.RISK_OF_SERIOUS_HARM_TO_ADULT: AtRiskKind.ADULT,
}


# --- step 4: consent -----------------------------------------------------------------


def check_not_sought_reason(
    reason: NotSoughtReason, at_risk: ProtectedPerson | None, facts: DecisionFacts
) -> None:
    """Step 5 of DOMAIN.md: consent may go unsought only where asking would put a child at
    increased risk of significant harm or an adult at risk of serious harm (whoever that
    person is: a parent's information is often shared to protect a child), would undermine
    the prevention, detection or prosecution of serious crime, would cause harmful delay
    (at any rating: the harm of delay, not the label, decides), or would otherwise be
    inappropriate (the 2018 advice's word, explained in writing).

    For the risk reasons, the person at risk is named by role; unnamed, it is the subject,
    who must then be of that kind."""
    if reason not in RISK_NOT_SOUGHT:
        if at_risk is not None:
            raise ValidationFailed("at_risk", "name who is at risk only for the risk reasons")
        return
    kind = _REASON_PROTECTS[reason]
    who = at_risk or subject_as_protected(facts)
    if kind is AtRiskKind.CHILD and who.kind is not AtRiskKind.CHILD:
        raise ValidationFailed(
            "at_risk",
            "a risk to a child needs the child named (for example a child of the subject)",
        )
    if kind is AtRiskKind.ADULT and who.kind is AtRiskKind.CHILD:
        raise ValidationFailed("at_risk", "a risk to an adult needs the adult named")
    problems = person_problems(who, facts)
    if problems:
        raise ValidationFailed("at_risk", problems[0].message)


def consent_on_record(
    facts: DecisionFacts, consent: ConsentRecord | None, sought: bool, now: datetime
) -> ConsentRecord:
    """Golden rule 7: the record never says more than is true. Without a recorded outcome,
    consent was not needed (a duty or order applies), not required (not confidential or
    identifying nobody), sought with no answer, or unresolved (the decision not to share
    came first); never "not required" where it was the question."""
    if consent is not None:
        return consent
    if facts.compelled_by is not None and consent_question_arises(
        facts.identifiable, facts.confidential
    ):
        outcome = ConsentOutcome.NOT_NEEDED
    elif not consent_question_arises(facts.identifiable, facts.confidential):
        outcome = ConsentOutcome.NOT_REQUIRED
    elif sought:
        outcome = ConsentOutcome.SOUGHT_NO_ANSWER
    else:
        outcome = ConsentOutcome.UNRESOLVED
    return ConsentRecord(outcome=outcome, recorded_at=now)


# --- step 7: advice -------------------------------------------------------------


def needs_advisor_agreement(facts: DecisionFacts) -> bool:
    """Step 7: sharing confidential information without consent needs an advisor's
    agreement (unless waiting for it would put someone at risk: see check_decision)."""
    return sharing_without_consent(facts)


def advice_problems(command: GiveAdvice) -> list[Problem]:
    """Step 7: an advisor's agreement to share without consent is part of a recommendation
    to share; agreeing while recommending not to share (or more information) would leave a
    record that says two things."""
    if command.agrees_to_share_without_consent and (
        command.recommendation is not AdviceRecommendation.SHARE
    ):
        return [
            _p(
                "agreement_contradicts_recommendation",
                "you can agree to sharing without consent only when you recommend sharing",
            )
        ]
    return []


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


# --- step 9: informing -------------------------------------------------------------------


def check_review_date(review_on: date | None, now: datetime) -> None:
    """Step 9: where the person is not told for now, the review date is a day still to come
    (a review already due is no review)."""
    if review_on is not None and review_on <= now.date():
        raise ValidationFailed("review_on", "the review date must be after today")


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
            _p(
                "purpose_not_legitimate",
                "there is no clear and legitimate purpose to share for; if you believe "
                "someone is at risk, ask your agency's advisor and tell the hub",
            )
        )
    if consent_needed(facts) and facts.consent is None:
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
    refused = facts.consent is not None and facts.consent.outcome in {
        ConsentOutcome.REFUSED,
        ConsentOutcome.WITHDRAWN,
    }
    if NotShareReason.RESPECTING_REFUSAL in reasons and not refused:
        problems.append(_p("reason_contradicts_consent", "consent was not recorded as refused"))
    if relies_on_compulsion(facts):
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
