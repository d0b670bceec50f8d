"""Question flows: a step asked one question per page, checked before it is recorded
(the GOV.UK patterns "one thing per page" and "check answers").

A :class:`Flow` says which task kind(s) it belongs to and which permission its step needs,
when it is still open (``pending``), its questions (each a :class:`Question` with a
:class:`~api.forms.PageForm` checking only its own answer), which questions to ask given
the answers so far (``sequence``: a follow-up question is asked only when an earlier answer
makes it relevant), how the answers become the step's body (``body``, validated by
``body_model``: the body ``POST /api/tasks/{task_id}`` takes), where the domain's problems
are shown (``places``) and the words of its pages. One set of routes serves every flow
(:mod:`api.routes.question_pages`); the answers so far are the person's draft on the
server, sealed (:func:`app.drafts.flow_key`), never hidden fields.

The flows themselves are in :mod:`api.flows` (``FLOWS``, by the name in their URL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol, cast

from pydantic import Field

from api.forms import FORM, PageForm, Place
from api.task_forms import TaskForm
from app.task_bodies import Action as StepBody
from app.task_bodies import TaskAction
from domain.decision import AgencyDecisionState
from domain.permissions import Action


class Context(Protocol):
    """What a flow may ask of the task it is on (an :class:`api.task_context.TaskPage`)."""

    @property
    def state(self) -> AgencyDecisionState: ...

    @property
    def needs_override(self) -> bool: ...


@dataclass(frozen=True)
class Question:
    slug: str
    """The question's page: ``/tasks/{task_id}/{flow}/{slug}``."""
    form: type[PageForm]
    title: str
    """The question as the page asks it (its h1, or the legend of its one fieldset)."""
    short: str
    """The question as the check-your-answers page lists it."""

    @property
    def fields(self) -> tuple[str, ...]:
        """The draft's fields this question answers (a date's boxes and the date itself)."""
        return (*self.form.model_fields, *self.form.DATES)


Answers = Mapping[str, Any]


@dataclass(frozen=True)
class Flow:
    name: str
    """The flow in URLs (``/tasks/{task_id}/{name}/...``) and in its draft's key."""
    kinds: frozenset[str]
    """The task kinds it is asked on."""
    action: Action
    """The permission its step needs, besides working the agency's tasks."""
    pending: Callable[[AgencyDecisionState], bool]
    """The step is not yet done (once it is, no question is asked again)."""
    closed: str
    """What is said when it is done: ``the decision has been recorded; ...``."""
    questions: tuple[Question, ...]
    sequence: Callable[[Answers, Context], list[str]]
    """The questions to ask, in order, given the answers so far (slugs)."""
    body: Callable[[Answers, Context], dict[str, Any]]
    """The step's body from the answers to the questions asked (the others left out)."""
    body_model: type[StepBody]
    step: str
    """The step's action (``record_decision``): its confirmation page once recorded."""
    caption: str
    """Above each page's heading: the task the questions belong to."""
    check_title: str
    submit: str
    """The check page's button (``Record the decision``)."""
    refused_title: str
    """The check page's error summary title when the domain refuses the step."""
    places: Mapping[str, Place] = field(default_factory=dict)
    renames: Mapping[str, str] = field(default_factory=dict)
    elsewhere: Callable[[str], str | None] = lambda name: None
    """A field put right on another page of the task (``basis``, ``items``), not asked here."""
    done: str = ""
    """Where recording the step leads, under the task's path (empty: the confirmation,
    ``done?step=<step>``)."""

    @property
    def template(self) -> str:
        """The macros that render its questions and answers (``question``, ``answer``,
        ``after_answers``)."""
        return f"flows/{self.name}.html"

    @cached_property
    def by_slug(self) -> Mapping[str, Question]:
        return {q.slug: q for q in self.questions}

    @cached_property
    def slug_of(self) -> Mapping[str, str]:
        """Which question page asks each field (where a problem with it is linked to)."""
        return {name: q.slug for q in self.questions for name in q.fields}

    def order(self, answers: Answers, ctx: Context) -> list[str]:
        return self.sequence(answers, ctx)

    def next_after(self, slug: str, answers: Answers, ctx: Context) -> str | None:
        """The question after ``slug``; ``None``: check the answers."""
        order = self.order(answers, ctx)
        later = order[order.index(slug) + 1 :] if slug in order else []
        return later[0] if later else None

    def before(self, slug: str, answers: Answers, ctx: Context) -> str | None:
        order = self.order(answers, ctx)
        at = order.index(slug) if slug in order else 0
        return order[at - 1] if at > 0 else None

    def first_unanswered(self, answers: Answers, ctx: Context) -> str | None:
        """The first question asked but not yet answered (a page never sent, or a required
        answer blank); ``None``: every question is answered, check the answers."""
        for slug in self.order(answers, ctx):
            form = self.by_slug[slug].form
            if any(name not in answers for name in form.model_fields) or any(
                not answers.get(name) for name in form.REQUIRED
            ):
                return slug
        return None

    def asked(self, answers: Answers, ctx: Context) -> dict[str, Any]:
        """The answers to the questions now asked (an answer to a question a changed answer
        made irrelevant is kept in the draft, never sent)."""
        names = {n for slug in self.order(answers, ctx) for n in self.by_slug[slug].fields}
        return {k: v for k, v in answers.items() if k in names}

    def step_body(self, answers: Answers, ctx: Context) -> TaskAction:
        """The step's body, as the API takes it (a pydantic refusal at its field)."""
        body = self.body_model.model_validate(self.body(self.asked(answers, ctx), ctx))
        return cast("TaskAction", body)

    def error_link(self, task_id: str, name: str) -> str | None:
        """Where a problem with field ``name`` is put right: its question (then back to the
        check), else the task's page that asks it; ``None``: about the whole step."""
        slug = self.slug_of.get(name)
        if slug is not None:
            return f"/tasks/{task_id}/{self.name}/{slug}?change=true"
        if name == FORM:
            return None
        page = self.elsewhere(name)
        return f"/tasks/{task_id}{'/' + page if page else ''}#{name}"

    def done_url(self, task_id: str) -> str:
        return f"/tasks/{task_id}/{self.done or f'done?step={self.step}'}"


def one_answer(
    name: str,
    required: str | None = None,
    *,
    max_length: int | None = None,
    choices: Iterable[str] | None = None,
) -> type[PageForm]:
    """A question's form of one text answer, ``name``: required (``required`` is what is
    said when it is blank) or optional, at most ``max_length`` characters if given, one of
    ``choices`` if given (the values its radios offer)."""
    default: Any = "" if max_length is None else Field("", max_length=max_length)
    title = name.title().replace("_", "") + "Answer"  # outcome: OutcomeAnswer
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": title,
        "__annotations__": {name: str},
        name: default,
    }
    if required is not None:
        namespace["REQUIRED"] = {name: required}
    if choices is not None:
        namespace["CHOICES"] = {name: frozenset(choices)}
    return cast("type[PageForm]", type(title, (PageForm,), namespace))


def whole_form_body(form: type[TaskForm], answers: Answers) -> dict[str, Any]:
    """The answers as the body of the step's whole form on the task page (built the same
    way as that form builds it)."""
    return {"action": form.ACTION, **form.read(form.raw(answers)).body()}


YES_NO = ("true", "false")
"""The values of a yes / no question's radios."""


def values_of(enum: Iterable[Any]) -> frozenset[str]:
    """An enum's values, as a question's ``choices``."""
    return frozenset(str(member.value) for member in enum)


def yes_no(value: Any) -> bool | None:
    """A yes / no radio's answer (``None``: not answered)."""
    return {"true": True, "false": False}.get(str(value))


def date_of(answers: Answers, name: str) -> str | None:
    """A date typed in three boxes (``<name>_day`` ...) as ISO, ``None`` if any is blank
    (the question's own form has checked it is a real date)."""
    parts = [str(answers.get(f"{name}_{p}", "")).strip() for p in ("year", "month", "day")]
    if not all(parts):
        return None
    return f"{parts[0]}-{int(parts[1]):02d}-{int(parts[2]):02d}"
