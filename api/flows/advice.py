"""An advisor's advice (step 7), and their review of an urgent share, as a question flow:
``/tasks/{task_id}/advice/...``.

One question a page: the recommendation; only when it is to share, whether the advisor
agrees to sharing without consent; the capacity they advise in; their position
(optional); the advice and its reasons. The check page records it through
:func:`app.tasks.complete` with the body the whole form on the task page builds
(:class:`api.task_forms.GiveAdviceForm`), as ``POST /api/tasks/{task_id}`` takes it.
"""

from __future__ import annotations

from pydantic import Field

from api.forms import PageForm
from api.problem_places import PLACES
from api.question_flows import Answers, Context, Flow, Question
from api.task_forms import GiveAdviceForm
from app.task_bodies import GiveAdviceBody
from domain.permissions import Action
from domain.vocabulary import AdviceRecommendation


class RecommendationQuestion(PageForm):
    REQUIRED = {"recommendation": GiveAdviceForm.REQUIRED["recommendation"]}
    recommendation: str = ""


class AgreementQuestion(PageForm):
    """Asked only with a recommendation to share."""

    REQUIRED = {
        "agrees_to_share_without_consent": "Select yes if you agree to sharing without consent"
    }
    agrees_to_share_without_consent: str = ""


class CapacityQuestion(PageForm):
    REQUIRED = {"capacity": GiveAdviceForm.REQUIRED["capacity"]}
    capacity: str = ""


class PositionQuestion(PageForm):
    position: str = Field("", max_length=120)


class AdviceQuestion(PageForm):
    REQUIRED = {"advice": GiveAdviceForm.REQUIRED["advice"]}
    advice: str = Field("", max_length=10_000)


def sequence(answers: Answers, ctx: Context) -> list[str]:
    share = answers.get("recommendation") == AdviceRecommendation.SHARE
    return ["recommendation", *(["agreement"] if share else []), "capacity", "position", "advice"]


def body(answers: Answers, ctx: Context) -> dict[str, object]:
    form = GiveAdviceForm.read(GiveAdviceForm.raw(answers))
    return {"action": GiveAdviceForm.ACTION, **form.body()}


ADVICE = Flow(
    name="advice",
    kinds=frozenset({"give_advice", "review_urgent_share"}),
    action=Action.ADVISE,
    pending=lambda state: state.advice_respond_by is not None or state.review_pending,
    closed="no advice is asked for on this decision now",
    questions=(
        Question(
            "recommendation", RecommendationQuestion, "What do you recommend?", "Recommendation"
        ),
        Question(
            "agreement",
            AgreementQuestion,
            "Do you agree to sharing without consent?",
            "Agrees to sharing without consent",
        ),
        Question("capacity", CapacityQuestion, "In what capacity do you advise?", "You advise as"),
        Question(
            "position", PositionQuestion, "What is your position? (optional)", "Your position"
        ),
        Question("advice", AdviceQuestion, "What is your advice, and why?", "Advice and reasons"),
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
