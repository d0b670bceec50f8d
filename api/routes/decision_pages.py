"""The decision, one question per page, checked before it is recorded (the GOV.UK pattern).

``/tasks/{task_id}/decision/{question}`` asks one question; each answer is kept in the
worker's draft on the server (sealed, :mod:`app.drafts`), never in hidden fields.
``/tasks/{task_id}/decision/check`` lists every answer with a link to change it; its
button records the decision through the same code as ``POST /api/tasks/{task_id}``, the
domain checking the whole decision again. A refused decision comes back on the check page
with each problem linked to the question it is about; the draft is kept until the
decision is recorded.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from api.decision_forms import (
    PLACES,
    QUESTIONS,
    SLUG_OF,
    decision_body,
    first_unanswered,
    next_question,
    sequence,
)
from api.deps import CsrfToken, PagePrincipal, ServicesDep, csrf_protect
from api.forms import FormState, PageForm, Refused, attempt
from api.routes.draft_pages import restored
from api.services import Services
from api.task_context import TaskPage, open_task, show
from app.drafts import decision_key
from app.task_bodies import RecordDecisionBody
from app.tasks import StepDone, complete
from domain.errors import InvalidState
from domain.permissions import Action
from infra.auth import Principal
from infra.directory import NotFoundError

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


async def _decision(services: Services, principal: Principal, task_id: str) -> TaskPage:
    page = await open_task(services, principal, task_id, Action.DECIDE)
    if page.ref.kind != "record_decision":
        raise NotFoundError("this task has no decision to record")
    if page.state.decision is not None:
        raise InvalidState("the decision has been recorded; it cannot be changed")
    return page


async def _answers(services: Services, page: TaskPage) -> dict[str, Any]:
    key = decision_key(page.ref.request_id, page.ref.agency)
    return await services.drafts.load(page.actor.user_id, key)


def _to(task_id: str, slug: str | None) -> RedirectResponse:
    return RedirectResponse(f"/tasks/{task_id}/decision/{slug or 'check'}", status_code=303)


@router.get("/tasks/{task_id}/decision")
async def decision_start(task_id: str, services: ServicesDep, principal: PagePrincipal) -> Response:
    """Where the worker left off: the first question not yet answered, else the check."""
    page = await _decision(services, principal, task_id)
    return _to(task_id, first_unanswered(await _answers(services, page), page.needs_override))


class CheckAnswers(PageForm):
    """The check page's button: the decision is the draft, not anything the page posts."""


@router.get("/tasks/{task_id}/decision/check")
async def check_page(
    task_id: str, services: ServicesDep, request: Request, principal: PagePrincipal, csrf: CsrfToken
) -> Response:
    page = await _decision(services, principal, task_id)
    answers = await _answers(services, page)
    missing = first_unanswered(answers, page.needs_override)
    if missing is not None:
        return _to(task_id, missing)
    return await _check(services, request, principal, csrf, page, FormState(answers))


async def _check(
    services: Services,
    request: Request,
    principal: Principal,
    csrf: str,
    page: TaskPage,
    form: FormState,
    status_code: int = 200,
) -> Response:
    order = sequence(form.values, page.needs_override)
    rows = [(slug, QUESTIONS[slug].short) for slug in order]
    error_links = {name: SLUG_OF.get(name) for name in form.errors}
    return await show(
        services,
        request,
        principal,
        csrf,
        page,
        "decision_check.html",
        form,
        status_code,
        rows=rows,
        error_links=error_links,
    )


@router.post("/tasks/{task_id}/decision/check")
async def check_submit(
    task_id: str, services: ServicesDep, request: Request, principal: PagePrincipal, csrf: CsrfToken
) -> Response:
    page = await _decision(services, principal, task_id)
    answers = await _answers(services, page)

    async def run(_: PageForm) -> StepDone:
        body = RecordDecisionBody.model_validate(decision_body(answers, page.needs_override))
        return await complete(services.requests, page.actor, task_id, body)

    renames = {"review_on": "inform_review_on", "reason_not": "inform_reason_not"}
    done = await attempt(CheckAnswers, {}, run, places=PLACES, renames=renames)
    if isinstance(done, Refused):
        return await _check(
            services, request, principal, csrf, page, FormState(answers, done.errors), done.status
        )
    await services.drafts.drop(
        page.actor.user_id, decision_key(page.ref.request_id, page.ref.agency)
    )
    return RedirectResponse(f"/tasks/{task_id}/done?step=record_decision", status_code=303)


@router.get("/tasks/{task_id}/decision/{slug}")
async def question_page(
    task_id: str,
    slug: str,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    change: bool = False,
) -> Response:
    page = await _decision(services, principal, task_id)
    kept = await restored(services, principal, request.url.path)  # typed, not yet sent
    answers = {**await _answers(services, page), **kept}
    return await _question(
        services, request, principal, csrf, page, slug, FormState(answers), change
    )


async def _question(
    services: Services,
    request: Request,
    principal: Principal,
    csrf: str,
    page: TaskPage,
    slug: str,
    form: FormState,
    change: bool,
    status_code: int = 200,
) -> Response:
    question = QUESTIONS.get(slug)
    if question is None or slug not in sequence(form.values, page.needs_override):
        raise NotFoundError("no such question in this decision")
    order = sequence(form.values, page.needs_override)
    back = order[order.index(slug) - 1] if order.index(slug) > 0 else None
    return await show(
        services,
        request,
        principal,
        csrf,
        page,
        "decision_question.html",
        form,
        status_code,
        question=question,
        back=back,
        change=change,
    )


@router.post("/tasks/{task_id}/decision/{slug}")
async def question_submit(
    task_id: str,
    slug: str,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    change: bool = False,
) -> Response:
    page = await _decision(services, principal, task_id)
    question = QUESTIONS.get(slug)
    if question is None:
        raise NotFoundError("no such question in this decision")
    key = decision_key(page.ref.request_id, page.ref.agency)

    async def run(model: PageForm) -> dict[str, Any]:
        return await services.drafts.update(
            page.actor.user_id, key, page.state.subject_id, model.values()
        )

    answers = await attempt(question.form, await request.form(), run)
    if isinstance(answers, Refused):
        typed = {**await _answers(services, page), **answers.values}
        state = FormState(typed, answers.errors)
        return await _question(
            services, request, principal, csrf, page, slug, state, change, answers.status
        )
    if change:
        return _to(task_id, first_unanswered(answers, page.needs_override))
    return _to(task_id, next_question(slug, answers, page.needs_override))
