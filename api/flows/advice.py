"""An advisor's advice (step 7), and their review of an urgent share, as a question flow:
``/tasks/{task_id}/advice/...``.

One question a page: the recommendation; only when it is to share, whether the advisor
agrees to sharing without consent; the capacity they advise in; their position
(optional); the advice and its reasons. The check page records it through
:func:`app.tasks.complete` with the body the whole form on the task page builds
(:class:`api.task_forms.GiveAdviceForm`), as ``POST /api/tasks/{task_id}`` takes it.
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
    values_of,
    whole_form_body,
)
from api.task_forms import GiveAdviceForm
from app.task_bodies import GiveAdviceBody
from domain.permissions import Action
from domain.vocabulary import AdviceRecommendation, AdvisorCapacity


def sequence(answers: Answers, ctx: Context) -> list[str]:
    """The agreement to share without consent is asked only with a recommendation to share."""
    share = answers.get("recommendation") == AdviceRecommendation.SHARE
    return ["recommendation", *(["agreement"] if share else []), "capacity", "position", "advice"]


def body(answers: Answers, ctx: Context) -> dict[str, Any]:
    return whole_form_body(GiveAdviceForm, answers)


ADVICE = Flow(
    name="advice",
    kinds=frozenset({"give_advice", "review_urgent_share"}),
    action=Action.ADVISE,
    pending=lambda state: state.advice_respond_by is not None or state.review_pending,
    closed="no advice is asked for on this decision now",
    questions=(
        Question(
            "recommendation",
            one_answer(
                "recommendation",
                GiveAdviceForm.REQUIRED["recommendation"],
                choices=values_of(AdviceRecommendation),
            ),
            "What do you recommend?",
            "Recommendation",
        ),
        Question(
            "agreement",
            one_answer(
                "agrees_to_share_without_consent",
                "Select yes if you agree to sharing without consent",
                choices=YES_NO,
            ),
            "Do you agree to sharing without consent?",
            "Agrees to sharing without consent",
        ),
        Question(
            "capacity",
            one_answer(
                "capacity",
                GiveAdviceForm.REQUIRED["capacity"],
                choices=values_of(AdvisorCapacity),
            ),
            "In what capacity do you advise?",
            "You advise as",
        ),
        Question(
            "position",
            one_answer("position", max_length=120),
            "What is your position? (optional)",
            "Your position",
        ),
        Question(
            "advice",
            one_answer("advice", GiveAdviceForm.REQUIRED["advice"], max_length=10_000),
            "What is your advice, and why?",
            "Advice and reasons",
        ),
    ),
    sequence=sequence,
    body=body,
    body_model=GiveAdviceBody,
    step=GiveAdviceForm.ACTION,
    caption="Your advice",
    check_title="Check your advice before giving it",
    submit="Give advice",
    refused_title="The advice cannot be given yet",
    places=PLACES,
)
