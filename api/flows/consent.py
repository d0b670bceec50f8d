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

from functools import partial
from typing import Any

from api.forms import PageForm
from api.problem_places import PLACES
from api.question_flows import (
    YES_NO,
    Answers,
    Context,
    Flow,
    Question,
    one_answer,
    values_of,
    whole_form_body,
)
from api.task_forms import ConsentNotSoughtForm, RecordConsentForm, SeekConsentForm
from app.task_bodies import ConsentNotSoughtBody, RecordConsentBody, SeekConsentBody
from domain.decision import AgencyDecisionState
from domain.permissions import Action
from domain.vocabulary import (
    RISK_NOT_SOUGHT,
    AtRiskKind,
    ConsentGiver,
    ConsentOutcome,
    CouldNotObtainReason,
    NotSoughtReason,
    ProtectedRelation,
)

LONG = 10_000
KINDS = frozenset({"resolve_consent"})
CLOSED = "consent has been resolved for this decision; it cannot be changed here"


_consent_step = partial(Flow, kinds=KINDS, action=Action.DECIDE, closed=CLOSED, places=PLACES)
"""A flow of the consent task: a worker of the deciding agency answers it, until consent
is resolved."""


def _not_yet_sought(state: AgencyDecisionState) -> bool:
    return state.consent_needed and state.consent is None and state.consent_sought_at is None


def _being_sought(state: AgencyDecisionState) -> bool:
    return state.consent is None and state.consent_sought_at is not None


# -- seeking consent ------------------------------------------------------------------------


SEEK_CONSENT = _consent_step(
    name="seek-consent",
    pending=_not_yet_sought,
    questions=(
        Question(
            "how",
            one_answer("note", max_length=LONG),
            "How are you seeking consent? (optional)",
            "How",
        ),
    ),
    sequence=lambda answers, ctx: ["how"],
    body=lambda answers, ctx: whole_form_body(SeekConsentForm, answers),
    body_model=SeekConsentBody,
    step=SeekConsentForm.ACTION,
    caption="Seek consent",
    check_title="Check your answers before recording that consent is being sought",
    submit="Record that consent is being sought",
    refused_title="This cannot be recorded yet",
)


# -- not seeking it -------------------------------------------------------------------------


class ProtectsQuestion(PageForm):
    """Asked only for the risk reasons; left blank, it is the person the request is about."""

    CHOICES = {
        "protects_relation": values_of(ProtectedRelation),
        "protects_kind": values_of(AtRiskKind),
    }
    protects_relation: str = ""
    protects_kind: str = ""


def _not_sought_body(answers: Answers, ctx: Context) -> dict[str, Any]:
    """The whole form's body; at risk "as" a kind with nobody chosen is the person the
    request is about (the question's first choice)."""
    typed = dict(answers)
    if typed.get("protects_kind") and not typed.get("protects_relation"):
        typed["protects_relation"] = ProtectedRelation.SUBJECT.value
    return whole_form_body(ConsentNotSoughtForm, typed)


def _not_seeking(answers: Answers, ctx: Context) -> list[str]:
    risk = answers.get("reason") in {r.value for r in RISK_NOT_SOUGHT}
    return ["reason", *(["protects"] if risk else []), "explanation"]


NOT_SEEKING = _consent_step(
    name="not-seeking",
    pending=_not_yet_sought,
    questions=(
        Question(
            "reason",
            one_answer(
                "reason",
                ConsentNotSoughtForm.REQUIRED["reason"],
                choices=values_of(NotSoughtReason),
            ),
            "Why is consent not being sought?",
            "Reason",
        ),
        Question("protects", ProtectsQuestion, "Who would asking put at risk?", "Put at risk"),
        Question(
            "explanation",
            one_answer(
                "explanation", ConsentNotSoughtForm.REQUIRED["explanation"], max_length=LONG
            ),
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
    renames={"at_risk": "protects_relation"},
)


ANSWERED_OUTCOMES = (
    ConsentOutcome.GIVEN,
    ConsentOutcome.REFUSED,
    ConsentOutcome.COULD_NOT_BE_OBTAINED,
    ConsentOutcome.SOUGHT_NO_ANSWER,
)
"""The outcomes the answer's page offers."""


# -- the answer -----------------------------------------------------------------------------


def _answer(answers: Answers, ctx: Context) -> list[str]:
    outcome = answers.get("outcome")
    given = ["given-by", "capacity", "scope"] if outcome == ConsentOutcome.GIVEN else []
    why_not = ["why-not"] if outcome == ConsentOutcome.COULD_NOT_BE_OBTAINED else []
    return ["outcome", *given, *why_not, "notes"]


CONSENT_ANSWER = _consent_step(
    name="consent-answer",
    pending=_being_sought,
    questions=(
        Question(
            "outcome",
            one_answer(
                "outcome",
                RecordConsentForm.REQUIRED["outcome"],
                choices=ANSWERED_OUTCOMES,
            ),
            "What was the outcome of seeking consent?",
            "Outcome",
        ),
        Question(
            "given-by",
            one_answer("given_by", "Select who gave consent", choices=values_of(ConsentGiver)),
            "Who gave consent?",
            "Given by",
        ),
        Question(
            "capacity",
            one_answer(
                "capacity_considered",
                "Select yes if the person's capacity or competence was considered",
                choices=YES_NO,
            ),
            "Was the person's capacity, or the child's competence to decide, considered?",
            "Capacity or competence considered",
        ),
        Question(
            "scope",
            one_answer("scope", max_length=LONG),
            "What does the consent cover? (optional)",
            "It covers",
        ),
        Question(
            "why-not",
            one_answer(
                "could_not_obtain_reason",
                "Select why consent could not be obtained",
                choices=values_of(CouldNotObtainReason),
            ),
            "Why could consent not be obtained?",
            "Why it could not be obtained",
        ),
        Question("notes", one_answer("note", max_length=LONG), "Notes (optional)", "Notes"),
    ),
    sequence=_answer,
    body=lambda answers, ctx: whole_form_body(RecordConsentForm, answers),
    body_model=RecordConsentBody,
    step=RecordConsentForm.ACTION,
    caption="Record the answer",
    check_title="Check your answers before recording consent",
    submit="Record consent",
    refused_title="Consent cannot be recorded yet",
)
