"""The decision, one question per page: the questions, their forms, and where the
domain's problems are shown.

The answers so far are a draft kept on the server (:mod:`app.drafts`); each question's
form checks only its own answer. The check-your-answers page turns the whole draft into
the body of ``record_decision`` (:func:`decision_body`) and the domain checks it as it
checks the API's, each problem shown at the question it is about (``PLACES``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field

from api.forms import PageForm, Place

Long = Field("", max_length=10_000)


class OutcomeQuestion(PageForm):
    REQUIRED = {"outcome": "Select whether you will share the information"}
    outcome: str = ""


class ReasonsQuestion(PageForm):
    REQUIRED = {"reasons": "Enter the reasons for your decision"}
    reasons: str = Long


class NecessityQuestion(PageForm):
    REQUIRED = {"necessity": "Explain why sharing is necessary and proportionate"}
    necessity: str = Long


class NotShareQuestion(PageForm):
    REQUIRED = {"not_share_reasons": "Select at least one reason for not sharing"}
    not_share_reasons: list[str] = Field(default_factory=list, max_length=10)


class InformQuestion(PageForm):
    REQUIRED = {"inform_will_inform": "Select yes if the person will be told"}
    DATES: ClassVar[Mapping[str, str]] = {"inform_review_on": "the date to look again"}
    inform_will_inform: str = ""
    inform_reason_not: str = ""
    inform_review_on_day: str = ""
    inform_review_on_month: str = ""
    inform_review_on_year: str = ""

    def check(self) -> dict[str, str]:
        errors = super().check()
        if self.inform_will_inform == "false" and not self.inform_reason_not:
            errors["inform_reason_not"] = "Select why the person will not be told"
        return errors


class OverrideQuestion(PageForm):
    REQUIRED = {
        "urgent_override": "Explain why waiting for an advisor's agreement would put someone "
        "at risk, or wait for the advisor"
    }
    urgent_override: str = Long


class PositionQuestion(PageForm):
    position: str = Field("", max_length=120)


@dataclass(frozen=True)
class Question:
    slug: str
    form: type[PageForm]
    title: str
    """The question as the page asks it (its h1, or the legend of its one fieldset)."""
    short: str
    """The question as the check-your-answers page lists it."""


QUESTIONS: Mapping[str, Question] = {
    q.slug: q
    for q in (
        Question("outcome", OutcomeQuestion, "Will you share the information?", "Decision"),
        Question("reasons", ReasonsQuestion, "What are the reasons for your decision?", "Reasons"),
        Question(
            "necessity",
            NecessityQuestion,
            "Why is sharing necessary and proportionate?",
            "Necessary and proportionate",
        ),
        Question(
            "not-share", NotShareQuestion, "Why are you not sharing?", "Reasons for not sharing"
        ),
        Question(
            "inform",
            InformQuestion,
            "Will the person be told their information was shared?",
            "Person told",
        ),
        Question(
            "override",
            OverrideQuestion,
            "Why would waiting for an advisor's agreement put someone at risk?",
            "Why waiting was unsafe",
        ),
        Question("position", PositionQuestion, "What is your position?", "Your position"),
    )
}


def sequence(answers: Mapping[str, Any], needs_override: bool) -> list[str]:
    """The questions to ask, in order, given the answers so far."""
    if answers.get("outcome") == "not_share":
        return ["outcome", "reasons", "not-share", "position"]
    middle = ["necessity", "inform", *(["override"] if needs_override else [])]
    return ["outcome", "reasons", *middle, "position"]


def next_question(slug: str, answers: Mapping[str, Any], needs_override: bool) -> str | None:
    """The question after ``slug``; ``None``: check the answers."""
    order = sequence(answers, needs_override)
    later = order[order.index(slug) + 1 :] if slug in order else []
    return later[0] if later else None


def first_unanswered(answers: Mapping[str, Any], needs_override: bool) -> str | None:
    for slug in sequence(answers, needs_override):
        form = QUESTIONS[slug].form
        if any(not answers.get(name) for name in form.REQUIRED):
            return slug
    return None


def _date(answers: Mapping[str, Any], name: str) -> str | None:
    parts = [str(answers.get(f"{name}_{p}", "")) for p in ("year", "month", "day")]
    if not all(parts):
        return None
    return f"{parts[0]}-{int(parts[1]):02d}-{int(parts[2]):02d}"


def decision_body(answers: Mapping[str, Any], needs_override: bool) -> dict[str, Any]:
    """The draft as the body of ``record_decision`` (questions not asked are left out)."""
    asked = set(sequence(answers, needs_override))
    body: dict[str, Any] = {"action": "record_decision", "outcome": answers.get("outcome")}
    body["reasons"] = answers.get("reasons", "")
    if "necessity" in asked:
        body["necessity"] = answers.get("necessity") or None
    if "not-share" in asked:
        body["not_share_reasons"] = list(answers.get("not_share_reasons", []))
    if "inform" in asked and answers.get("inform_will_inform") in ("true", "false"):
        told = answers["inform_will_inform"] == "true"
        inform: dict[str, Any] = {"will_inform": told}
        if not told:
            inform["reason_not"] = answers.get("inform_reason_not") or None
            inform["review_on"] = _date(answers, "inform_review_on")
        body["inform"] = inform
    if "override" in asked:
        body["urgent_override"] = answers.get("urgent_override") or None
    if answers.get("position"):
        body["position"] = answers["position"]
    return body


SLUG_OF = {
    "outcome": "outcome",
    "reasons": "reasons",
    "necessity": "necessity",
    "not_share_reasons": "not-share",
    "inform_will_inform": "inform",
    "inform_reason_not": "inform",
    "inform_review_on": "inform",
    "urgent_override": "override",
    "position": "position",
}
"""Which question page each field of the decision is asked on."""


PLACES: Mapping[str, Place] = {
    # the decision (steps 9 and 10)
    "necessity_not_explained": Place(
        "necessity", "Explain why sharing is necessary and proportionate"
    ),
    "inform_not_decided": Place(
        "inform_will_inform", "Say whether the person will be told, and if not, why"
    ),
    "advisor_agreement_missing": Place(
        "urgent_override",
        "Sharing without consent needs an advisor's agreement, or the reason waiting for it "
        "would put someone at risk",
    ),
    "override_not_needed": Place(
        "urgent_override", "No advisor's agreement is outstanding, so there is nothing to override"
    ),
    "no_reasons": Place("not_share_reasons", "Select at least one reason for not sharing"),
    "reasons_contradict_outcome": Place(
        "not_share_reasons", "Reasons for not sharing are for a decision not to share"
    ),
    "reason_contradicts_assessment": Place(
        "not_share_reasons", "The purpose was assessed as legitimate, so that reason does not fit"
    ),
    "reason_contradicts_consent": Place(
        "not_share_reasons", "Consent was not recorded as refused, so that reason does not fit"
    ),
    "share_fields_on_not_share": Place(
        "outcome", "Why sharing is necessary, and any override, are for a decision to share"
    ),
    "duty_requires_sharing": Place("outcome"),
    "purpose_not_legitimate": Place("outcome"),
    "consent_unresolved": Place(
        "form", "Record whether consent was given, refused or not sought before deciding"
    ),
    "no_lawful_basis": Place("form", "Record the lawful basis before deciding to share"),
    "no_items": Place("items", "Select at least one item of information to share"),
    # the items (step 8)
    "duplicate_items": Place("items", "Each item may be selected only once"),
    "item_dated_in_future": Place("item-{item}-dated", "The date must be today or in the past"),
    "historical_not_flagged": Place(
        "item-{item}-historical",
        "It is older than the hub's threshold: tick that it is historical information",
    ),
    # the lawful basis (steps 5 and 6)
    "basis_not_applicable": Place("art6"),
    "vital_interests_not_life_or_death": Place("life_or_death"),
    "special_category_condition_missing": Place("art9"),
    "condition_not_applicable": Place("art9"),
    "offence_condition_missing": Place("offence_condition"),
    "offence_condition_not_applicable": Place("offence_condition"),
    "no_ground_without_consent": Place("without_consent"),
    "ground_not_applicable": Place("without_consent"),
    "public_interest_not_explained": Place("rationale"),
    "instrument_not_named": Place("instrument_citation"),
    "instrument_mismatch": Place("instrument_citation"),
    "para18_reason_missing": Place("para18_reason"),
    "para18_reason_contradicts_consent": Place("para18_reason"),
    "protected_person_does_not_fit": Place("protects_relation"),
    "protected_person_inconsistent": Place("protects_relation"),
    # advice (step 7)
    "agreement_contradicts_recommendation": Place(
        "agrees_to_share_without_consent",
        "You can agree to sharing without consent only when you recommend sharing",
    ),
}
"""Each of the domain's problem codes at the field it is about, in plain words (``None``:
the domain's own sentence, which names the basis or condition concerned)."""
