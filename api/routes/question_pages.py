"""Every question flow's pages (:mod:`api.question_flows`, the flows in :mod:`api.flows`).

``/tasks/{task_id}/{flow}`` resumes at the first question not yet answered;
``/tasks/{task_id}/{flow}/{question}`` asks one question, each answer kept in the worker's
draft on the server (sealed, :mod:`app.drafts`), never in hidden fields;
``/tasks/{task_id}/{flow}/check`` lists every answer with a link to change it (and back to
the check), and its button records the step through the same code as
``POST /api/tasks/{task_id}``, the domain checking the whole step again. A refused step
comes back on the check page with each problem linked to the question it is about; the
draft is kept until the step is recorded.

Registered after the task pages, so that their own ``/tasks/{task_id}/done`` (and the
like) answer first.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import CsrfToken, PagePrincipal, ServicesDep, csrf_protect
from api.flows import FLOWS
from api.forms import FormState, PageForm, Refused, attempt
from api.question_flows import Flow, Question
from api.routes.draft_pages import restored
from api.services import Services
from api.task_context import TaskPage, open_task, show
from app.drafts import flow_key
from app.tasks import StepDone, complete
from domain.errors import InvalidState
from infra.auth import Principal
from infra.directory import NotFoundError

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


PageParts = tuple[Request, Principal, str]
"""The page's request, the person signed in and the form token its forms carry."""


class Flowing:
    """One person on one flow of one task: the task, its flow, the answers so far, and the
    page's request, person and form token."""

    def __init__(self, services: Services, flow: Flow, page: TaskPage, parts: PageParts) -> None:
        self.services = services
        self.flow = flow
        self.page = page
        self.request, self.principal, self.csrf = parts
        self.key = flow_key(flow.name, page.ref.request_id, page.ref.agency)

    @classmethod
    async def open(cls, services: Services, task_id: str, name: str, parts: PageParts) -> Flowing:
        flow = FLOWS.get(name)
        if flow is None:
            raise NotFoundError("no such page for this task")
        _, principal, _ = parts
        page = await open_task(services, principal, task_id, flow.action)
        if page.ref.kind not in flow.kinds:
            raise NotFoundError("this task has no such questions")
        if not flow.pending(page.state):
            raise InvalidState(flow.closed)
        return cls(services, flow, page, parts)

    async def answers(self) -> dict[str, Any]:
        return await self.services.drafts.load(self.page.actor.user_id, self.key)

    async def keep(self, values: dict[str, Any]) -> dict[str, Any]:
        user = self.page.actor.user_id
        return await self.services.drafts.update(user, self.key, self.page.state.subject_id, values)

    async def drop(self) -> None:
        await self.services.drafts.drop(self.page.actor.user_id, self.key)

    def to(self, slug: str | None, change: bool = False) -> RedirectResponse:
        url = f"/tasks/{self.page.task_id}/{self.flow.name}/{slug or 'check'}"
        return RedirectResponse(url + ("?change=true" if change and slug else ""), 303)

    async def show(
        self, template: str, form: FormState, status_code: int, **context: Any
    ) -> Response:
        """One of the flow's pages, on its task's page (the request and the decision)."""
        return await show(
            self.services,
            self.request,
            self.principal,
            self.csrf,
            self.page,
            template,
            form,
            status_code,
            flow=self.flow,
            **context,
        )

    async def answered(self) -> dict[str, Any] | RedirectResponse:
        """Every answer, or the way to the first question not yet answered."""
        answers = await self.answers()
        missing = self.flow.first_unanswered(answers, self.page)
        return answers if missing is None else self.to(missing)

    def question(self, slug: str, answers: dict[str, Any]) -> Question:
        question = self.flow.by_slug.get(slug)
        if question is None or slug not in self.flow.order(answers, self.page):
            raise NotFoundError("no such question here")
        return question


async def _flowing(
    task_id: str,
    flow: str,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
) -> Flowing:
    return await Flowing.open(services, task_id, flow, (request, principal, csrf))


On = Annotated[Flowing, Depends(_flowing)]
"""The flow named in the path, on the task named there, if the person may answer it."""


@router.get("/tasks/{task_id}/{flow}")
async def flow_start(on: On) -> Response:
    """Where the person left off: the first question not yet answered, else the check."""
    return on.to(on.flow.first_unanswered(await on.answers(), on.page))


class CheckAnswers(PageForm):
    """The check page's button: the step is the draft, not anything the page posts."""


@router.get("/tasks/{task_id}/{flow}/check")
async def check_page(on: On) -> Response:
    answers = await on.answered()
    if isinstance(answers, RedirectResponse):
        return answers
    return await _check(on, FormState(answers))


async def _check(on: Flowing, form: FormState, status_code: int = 200) -> Response:
    order = on.flow.order(form.values, on.page)
    rows = [(slug, on.flow.by_slug[slug].short) for slug in order]
    error_links = {name: on.flow.error_link(on.page.task_id, name) for name in form.errors}
    return await on.show(
        "question_check.html",
        form,
        status_code,
        rows=rows,
        back=order[-1] if order else None,
        error_links=error_links,
    )


@router.post("/tasks/{task_id}/{flow}/check")
async def check_submit(on: On) -> Response:
    answers = await on.answered()
    if isinstance(answers, RedirectResponse):
        return answers
    task_id = on.page.task_id

    async def run(_: PageForm) -> StepDone:
        body = on.flow.step_body(answers, on.page)
        return await complete(on.services.requests, on.page.actor, task_id, body)

    places, renames = on.flow.places, on.flow.renames
    done = await attempt(CheckAnswers, {}, run, places=places, renames=renames)
    if isinstance(done, Refused):
        state = FormState(answers, done.errors)
        return await _check(on, state, done.status)
    await on.drop()
    return RedirectResponse(on.flow.done_url(task_id), status_code=303)


@router.get("/tasks/{task_id}/{flow}/{slug}")
async def question_page(on: On, slug: str, change: bool = False) -> Response:
    kept = await restored(on.services, on.principal, on.request.url.path)  # typed, not yet sent
    answers = {**await on.answers(), **kept}
    return await _question(on, slug, FormState(answers), change)


async def _question(
    on: Flowing, slug: str, form: FormState, change: bool, status_code: int = 200
) -> Response:
    question = on.question(slug, dict(form.values))
    return await on.show(
        "question_page.html",
        form,
        status_code,
        question=question,
        back=on.flow.before(slug, form.values, on.page),
        change=change,
    )


@router.post("/tasks/{task_id}/{flow}/{slug}")
async def question_submit(on: On, slug: str, change: bool = False) -> Response:
    question = on.question(slug, await on.answers())

    async def run(model: PageForm) -> dict[str, Any]:
        return await on.keep(model.values())

    answers = await attempt(question.form, await on.request.form(), run)
    if isinstance(answers, Refused):
        typed = FormState({**await on.answers(), **answers.values}, answers.errors)
        return await _question(on, slug, typed, change, answers.status)
    if change:  # back to the check, unless the new answer asks a question not yet answered
        return on.to(on.flow.first_unanswered(answers, on.page), change=True)
    return on.to(on.flow.next_after(slug, answers, on.page))
