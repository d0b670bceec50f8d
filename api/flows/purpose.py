"""Assessing the purpose (steps 1 to 4) as a question flow: ``/tasks/{task_id}/purpose/...``.

One question a page: a clear and legitimate purpose; a living person identified;
confidential; special-category data; an adult at risk; criminal offence data; a statutory
duty or court order, and only if one applies, its citation; notes (optional). The check
page records the assessment through :func:`app.tasks.complete` with the body the whole
form on the task page builds (:class:`api.task_forms.AssessPurposeForm`), as
``POST /api/tasks/{task_id}`` takes it.
"""

from __future__ import annotations

from typing import Any

from api.problem_places import PLACES
from api.question_flows import (
    YES_NO,
    Answers,
    Context,
    Flow,
    Question,
    one_answer,
    whole_form_body,
)
from api.task_forms import AssessPurposeForm
from app.task_bodies import AssessPurposeBody
from domain.permissions import Action

NONE_APPLIES = "none"
"""The answer to the duty-or-order question when neither applies."""


QUESTIONS = (
    Question(
        "purpose",
        one_answer("purpose_clear", AssessPurposeForm.REQUIRED["purpose_clear"], choices=YES_NO),
        "Is there a clear and legitimate purpose for sharing?",
        "Clear and legitimate purpose",
    ),
    Question(
        "identifiable",
        one_answer("identifiable", AssessPurposeForm.REQUIRED["identifiable"], choices=YES_NO),
        "Does the information identify a living person?",
        "Identifies a living person",
    ),
    Question(
        "confidential",
        one_answer("confidential", AssessPurposeForm.REQUIRED["confidential"], choices=YES_NO),
        "Is the information confidential?",
        "Confidential",
    ),
    Question(
        "special-category",
        one_answer(
            "special_category", AssessPurposeForm.REQUIRED["special_category"], choices=YES_NO
        ),
        "Does it include special-category data?",
        "Special-category data",
    ),
    Question(
        "adult-at-risk",
        one_answer("adult_at_risk", "Select yes if the person is an adult at risk", choices=YES_NO),
        "Is the person an adult at risk?",
        "Adult at risk",
    ),
    Question(
        "offence-data",
        one_answer(
            "criminal_offence_data",
            "Select yes if it includes criminal offence data",
            choices=YES_NO,
        ),
        "Does it include criminal offence data?",
        "Criminal offence data",
    ),
    Question(
        "duty-or-order",
        one_answer(
            "compelled_kind",
            "Select whether a statutory duty or court order applies",
            choices=("statutory_duty", "court_order", NONE_APPLIES),
        ),
        "Is there a statutory duty or court order to share?",
        "Statutory duty or court order",
    ),
    Question(
        "citation",
        one_answer(
            "compelled_citation",
            "Enter the statute and section, or the order and the court",
            max_length=160,
        ),
        "Which duty or order requires sharing?",
        "Duty or order named",
    ),
    Question(
        "notes",
        one_answer("note", max_length=10_000),
        "Notes on your assessment (optional)",
        "Notes",
    ),
)


def sequence(answers: Answers, ctx: Context) -> list[str]:
    """Every question, the citation only when a duty or order applies."""
    compelled = answers.get("compelled_kind") not in (None, "", NONE_APPLIES)
    return [q.slug for q in QUESTIONS if q.slug != "citation" or compelled]


def body(answers: Answers, ctx: Context) -> dict[str, Any]:
    """The answers as the body of ``assess_purpose``: the whole form's, built the same way."""
    typed = dict(answers)
    if typed.get("compelled_kind") == NONE_APPLIES:
        typed["compelled_kind"] = ""
    return whole_form_body(AssessPurposeForm, typed)


PURPOSE = Flow(
    name="purpose",
    kinds=frozenset({"assess_purpose"}),
    action=Action.DECIDE,
    pending=lambda state: state.assessment is None,
    closed="the purpose has been assessed; the assessment cannot be changed",
    questions=QUESTIONS,
    sequence=sequence,
    body=body,
    body_model=AssessPurposeBody,
    step="assess_purpose",
    caption="Assess the purpose",
    check_title="Check your answers before recording the assessment",
    submit="Record the assessment",
    refused_title="The assessment cannot be recorded yet",
    places=PLACES,
)
