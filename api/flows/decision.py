"""The decision (steps 9 and 10) as a question flow: ``/tasks/{task_id}/decision/...``.

Share or not, the reasons (always), then to share: why it is necessary and proportionate,
whether the person will be told (and only if not: why, and when to look again), and where
an advisor's agreement is needed and not given, why waiting would put someone at risk; not
to share: the reasons from the list; the position, optional. The check page records it
through :func:`app.tasks.complete`, as ``POST /api/tasks/{task_id}`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field

from api.forms import PageForm
from api.problem_places import PLACES
from api.question_flows import (
    YES_NO,
    Answers,
    Context,
    Flow,
    Question,
    date_of,
    one_answer,
    values_of,
    yes_no,
)
from app.task_bodies import RecordDecisionBody
from domain.permissions import Action
from domain.vocabulary import NotInformedReason, NotShareReason

LONG = 10_000


class NotShareQuestion(PageForm):
    REQUIRED = {"not_share_reasons": "Select at least one reason for not sharing"}
    CHOICES = {"not_share_reasons": values_of(NotShareReason)}
    not_share_reasons: list[str] = Field(default_factory=list, max_length=10)


class InformQuestion(PageForm):
    REQUIRED = {"inform_will_inform": "Select yes if the person will be told"}
    CHOICES = {"inform_will_inform": frozenset(YES_NO)}
    inform_will_inform: str = ""


class NotToldQuestion(PageForm):
    """Asked only when the person will not be told."""

    REQUIRED = {"inform_reason_not": "Select why the person will not be told"}
    CHOICES = {"inform_reason_not": values_of(NotInformedReason)}
    DATES: ClassVar[Mapping[str, str]] = {"inform_review_on": "the date to look again"}
    inform_reason_not: str = ""
    inform_review_on_day: str = ""
    inform_review_on_month: str = ""
    inform_review_on_year: str = ""


QUESTIONS = (
    Question(
        "outcome",
        one_answer(
            "outcome",
            "Select whether you will share the information",
            choices=("share", "not_share"),
        ),
        "Will you share the information?",
        "Decision",
    ),
    Question(
        "reasons",
        one_answer("reasons", "Enter the reasons for your decision", max_length=LONG),
        "What are the reasons for your decision?",
        "Reasons",
    ),
    Question(
        "necessity",
        one_answer(
            "necessity", "Explain why sharing is necessary and proportionate", max_length=LONG
        ),
        "Why is sharing necessary and proportionate?",
        "Necessary and proportionate",
    ),
    Question("not-share", NotShareQuestion, "Why are you not sharing?", "Reasons for not sharing"),
    Question(
        "inform",
        InformQuestion,
        "Will the person be told their information was shared?",
        "Person told",
    ),
    Question(
        "not-told", NotToldQuestion, "Why will the person not be told?", "Why they are not told"
    ),
    Question(
        "override",
        one_answer(
            "urgent_override",
            "Explain why waiting for an advisor's agreement would put someone at risk, "
            "or wait for the advisor",
            max_length=LONG,
        ),
        "Why would waiting for an advisor's agreement put someone at risk?",
        "Why waiting was unsafe",
    ),
    Question(
        "position",
        one_answer("position", max_length=120),
        "What is your position?",
        "Your position",
    ),
)


def sequence(answers: Answers, ctx: Context) -> list[str]:
    """The questions to ask, in order, given the answers so far."""
    if answers.get("outcome") == "not_share":
        return ["outcome", "reasons", "not-share", "position"]
    not_told = ["not-told"] if answers.get("inform_will_inform") == "false" else []
    override = ["override"] if ctx.needs_override else []
    return ["outcome", "reasons", "necessity", "inform", *not_told, *override, "position"]


def body(answers: Answers, ctx: Context) -> dict[str, Any]:
    """The answers to the questions asked as the body of ``record_decision``."""
    decision: dict[str, Any] = {
        "action": "record_decision",
        "outcome": answers.get("outcome"),
        "reasons": answers.get("reasons", ""),
    }
    if "necessity" in answers:
        decision["necessity"] = answers["necessity"] or None
    if "not_share_reasons" in answers:
        decision["not_share_reasons"] = list(answers["not_share_reasons"])
    told = yes_no(answers.get("inform_will_inform"))
    if told is not None:
        inform: dict[str, Any] = {"will_inform": told}
        if not told:
            inform["reason_not"] = answers.get("inform_reason_not") or None
            inform["review_on"] = date_of(answers, "inform_review_on")
        decision["inform"] = inform
    if "urgent_override" in answers:
        decision["urgent_override"] = answers["urgent_override"] or None
    if answers.get("position"):
        decision["position"] = answers["position"]
    return decision


BASIS_FIELDS = frozenset(
    {
        "art6",
        "life_or_death",
        "art9",
        "offence_condition",
        "without_consent",
        "protects_relation",
        "instrument_citation",
        "para18_reason",
        "legal_power",
        "rationale",
    }
)


def elsewhere(name: str) -> str | None:
    """The record-decision task's own pages for the lawful basis and the items: a problem
    with either is put right there, not in the decision's questions."""
    if name == "items" or name.startswith("item-"):
        return "items"
    return "basis" if name in BASIS_FIELDS else None


DECISION = Flow(
    name="decision",
    kinds=frozenset({"record_decision"}),
    action=Action.DECIDE,
    pending=lambda state: state.decision is None,
    closed="the decision has been recorded; it cannot be changed",
    questions=QUESTIONS,
    sequence=sequence,
    body=body,
    body_model=RecordDecisionBody,
    step="record_decision",
    caption="Decide whether to share",
    check_title="Check your answers before recording the decision",
    submit="Record the decision",
    refused_title="The decision cannot be recorded yet",
    places=PLACES,
    renames={"review_on": "inform_review_on", "reason_not": "inform_reason_not"},
    elsewhere=elsewhere,
)
