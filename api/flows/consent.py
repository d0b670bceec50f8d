"""Resolving consent (step 5) as question flows, one per step the task takes.

- ``/tasks/{task_id}/seek-consent/...``: consent is being sought; how (optional).
- ``/tasks/{task_id}/not-seeking/...``: consent is not sought: the reason; only for the
  risk reasons, who asking would put at risk; the explanation on the facts.
- ``/tasks/{task_id}/consent-answer/...``, once consent is being sought: the outcome; only
  when given, who gave it, whether capacity (or a child's competence) was considered and
  what it covers; only when it could not be obtained, why; notes (optional).

Each check page records its step through :func:`app.tasks.complete` with the body the
whole form on the task page builds (:mod:`api.task_forms`), as ``POST /api/tasks/{task_id}``
takes it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.forms import PageForm
from api.problem_places import PLACES
from api.question_flows import Answers, Context, Flow, Question
from api.task_forms import ConsentNotSoughtForm, RecordConsentForm, SeekConsentForm, TaskForm
from app.task_bodies import ConsentNotSoughtBody, RecordConsentBody, SeekConsentBody
from domain.decision import AgencyDecisionState
from domain.permissions import Action
from domain.vocabulary import RISK_NOT_SOUGHT, ConsentOutcome, ProtectedRelation

Long = Field("", max_length=10_000)
KINDS = frozenset({"resolve_consent"})
CLOSED = "consent has been resolved for this decision; it cannot be changed here"


def _not_yet_sought(state: AgencyDecisionState) -> bool:
    return state.consent_needed and state.consent is None and state.consent_sought_at is None


def _being_sought(state: AgencyDecisionState) -> bool:
    return state.consent is None and state.consent_sought_at is not None


def _body(form: type[TaskForm], answers: Answers) -> dict[str, Any]:
    """The answers as the whole form's body (the task page's form builds it the same way)."""
    return {"action": form.ACTION, **form.read(form.raw(answers)).body()}


# -- seeking consent ------------------------------------------------------------------------


class HowQuestion(PageForm):
    note: str = Long


SEEK_CONSENT = Flow(
    name="seek-consent",
    kinds=KINDS,
    action=Action.DECIDE,
    pending=_not_yet_sought,
    closed=CLOSED,
    questions=(Question("how", HowQuestion, "How are you seeking consent? (optional)", "How"),),
    sequence=lambda answers, ctx: ["how"],
    body=lambda answers, ctx: _body(SeekConsentForm, answers),
    body_model=SeekConsentBody,
    step=SeekConsentForm.ACTION,
    caption="Seek consent",
    check_title="Check your answers before recording that consent is being sought",
    submit="Record that consent is being sought",
    refused_title="This cannot be recorded yet",
    places=PLACES,
)


# -- not seeking it -------------------------------------------------------------------------


class ReasonQuestion(PageForm):
    REQUIRED = {"reason": ConsentNotSoughtForm.REQUIRED["reason"]}
    reason: str = ""


class ProtectsQuestion(PageForm):
    """Asked only for the risk reasons; left blank, it is the person the request is about."""

    protects_relation: str = ""
    protects_kind: str = ""


class ExplanationQuestion(PageForm):
    REQUIRED = {"explanation": ConsentNotSoughtForm.REQUIRED["explanation"]}
    explanation: str = Long


def _not_sought_body(answers: Answers, ctx: Context) -> dict[str, Any]:
    """The whole form's body; at risk "as" a kind with nobody chosen is the person the
    request is about (the question's first choice)."""
    typed = dict(answers)
    if typed.get("protects_kind") and not typed.get("protects_relation"):
        typed["protects_relation"] = ProtectedRelation.SUBJECT.value
    return _body(ConsentNotSoughtForm, typed)


def _not_seeking(answers: Answers, ctx: Context) -> list[str]:
    risk = answers.get("reason") in {r.value for r in RISK_NOT_SOUGHT}
    return ["reason", *(["protects"] if risk else []), "explanation"]


NOT_SEEKING = Flow(
    name="not-seeking",
    kinds=KINDS,
    action=Action.DECIDE,
    pending=_not_yet_sought,
    closed=CLOSED,
    questions=(
        Question("reason", ReasonQuestion, "Why is consent not being sought?", "Reason"),
        Question("protects", ProtectsQuestion, "Who would asking put at risk?", "Put at risk"),
        Question(
            "explanation",
            ExplanationQuestion,
            "Explain, on the facts, why consent is not being sought",
            "Explanation",
        ),
    ),
    sequence=_not_seeking,
    body=_not_sought_body,
    body_model=ConsentNotSoughtBody,
    step=ConsentNotSoughtForm.ACTION,
    caption="Do not seek consent",
    check_title="Check your answers before recording that consent is not sought",
    submit="Record that consent is not sought",
    refused_title="This cannot be recorded yet",
    places=PLACES,
    renames={"at_risk": "protects_relation"},
)


# -- the answer -----------------------------------------------------------------------------


class OutcomeQuestion(PageForm):
    REQUIRED = {"outcome": RecordConsentForm.REQUIRED["outcome"]}
    outcome: str = ""


class GivenByQuestion(PageForm):
    REQUIRED = {"given_by": "Select who gave consent"}
    given_by: str = ""


class CapacityQuestion(PageForm):
    REQUIRED = {
        "capacity_considered": "Select yes if the person's capacity or competence was considered"
    }
    capacity_considered: str = ""


class ScopeQuestion(PageForm):
    scope: str = Long


class CouldNotObtainQuestion(PageForm):
    REQUIRED = {"could_not_obtain_reason": "Select why consent could not be obtained"}
    could_not_obtain_reason: str = ""


class NotesQuestion(PageForm):
    note: str = Long


def _answer(answers: Answers, ctx: Context) -> list[str]:
    outcome = answers.get("outcome")
    given = ["given-by", "capacity", "scope"] if outcome == ConsentOutcome.GIVEN else []
    why_not = ["why-not"] if outcome == ConsentOutcome.COULD_NOT_BE_OBTAINED else []
    return ["outcome", *given, *why_not, "notes"]


CONSENT_ANSWER = Flow(
    name="consent-answer",
    kinds=KINDS,
    action=Action.DECIDE,
    pending=_being_sought,
    closed=CLOSED,
    questions=(
        Question("outcome", OutcomeQuestion, "What was the outcome of seeking consent?", "Outcome"),
        Question("given-by", GivenByQuestion, "Who gave consent?", "Given by"),
        Question(
            "capacity",
            CapacityQuestion,
            "Was the person's capacity, or the child's competence to decide, considered?",
            "Capacity or competence considered",
        ),
        Question("scope", ScopeQuestion, "What does the consent cover? (optional)", "It covers"),
        Question(
            "why-not",
            CouldNotObtainQuestion,
            "Why could consent not be obtained?",
            "Why it could not be obtained",
        ),
        Question("notes", NotesQuestion, "Notes (optional)", "Notes"),
    ),
    sequence=_answer,
    body=lambda answers, ctx: _body(RecordConsentForm, answers),
    body_model=RecordConsentBody,
    step=RecordConsentForm.ACTION,
    caption="Record the answer",
    check_title="Check your answers before recording consent",
    submit="Record consent",
    refused_title="Consent cannot be recorded yet",
    places=PLACES,
)
