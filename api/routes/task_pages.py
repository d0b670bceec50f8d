"""Pages for agency workers and advisors: the inbox, one page per task, and a confirmation
after each step.

A task page shows what the viewer needs to decide (:mod:`app.task_view`; the showing is
recorded in the request's access log first) and the step's form. A form is read into its
form model (:mod:`api.task_forms`) and completes the step through the same application
code as ``POST /api/tasks/{task_id}``; refused, the page comes back with every value as
typed and each message at its field. The decision and the assessment of the purpose are
asked one question per page (question flows: :mod:`api.routes.question_pages`). Every form
carries the CSRF token (router-wide ``csrf_protect``); templates autoescape.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import CsrfToken, PagePrincipal, ServicesDep, csrf_protect, require_page
from api.flows import flows_for
from api.forms import FormState, Refused, attempt
from api.problem_places import PLACES
from api.rendering import render, words
from api.routes.draft_pages import restored
from api.services import Services
from api.task_context import TaskPage, next_tasks, open_task, show
from api.task_forms import STEP_FORMS, TaskForm
from app.drafts import flow_key
from app.identity import actor_of
from app.tasks import StepDone, complete
from domain.errors import ValidationFailed
from domain.permissions import Action
from infra.auth import Principal
from infra.directory import NotFoundError

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

DONE = {
    "assess_purpose": "Purpose assessed",
    "seek_consent": "Consent is being sought",
    "consent_not_sought": "Consent not sought: reason recorded",
    "record_consent": "Consent recorded",
    "request_advice": "Advice requested",
    "give_advice": "Advice given",
    "determine_lawful_basis": "Lawful basis recorded",
    "select_information": "Information selected",
    "record_decision": "Decision recorded",
    "record_informing": "Informing recorded",
}
"""The confirmation's title after each step."""


@router.get("/tasks")
async def inbox_page(
    services: ServicesDep, request: Request, principal: PagePrincipal, csrf: CsrfToken
) -> Response:
    require_page(principal, Action.WORK_TASKS)
    now = datetime.now(UTC)
    tasks = await services.queries.inbox(actor_of(principal), now)
    return render(
        services,
        request,
        "tasks.html",
        principal=principal,
        csrf=csrf,
        tasks=tasks,
        now=now,
        words=words,
    )


@router.get("/tasks/{task_id}")
async def task_page(
    task_id: str, services: ServicesDep, request: Request, principal: PagePrincipal, csrf: CsrfToken
) -> Response:
    page = await open_task(services, principal, task_id)
    kept = await restored(services, principal, request.url.path)
    form = FormState(kept) if kept else None
    started = await _started(services, page)
    return await show(
        services, request, principal, csrf, page, "task.html", form, restored=kept, started=started
    )


async def _started(services: Services, page: TaskPage) -> dict[str, bool]:
    """Each question flow of the task: whether the viewer has answers kept ("Continue")."""
    ref, user = page.ref, page.actor.user_id
    return {
        f.name: bool(await services.drafts.load(user, flow_key(f.name, ref.request_id, ref.agency)))
        for f in flows_for(ref.kind)
    }


@router.post("/tasks/{task_id}")
async def task_submit(
    task_id: str, services: ServicesDep, request: Request, principal: PagePrincipal, csrf: CsrfToken
) -> Response:
    page = await open_task(services, principal, task_id)
    form = await request.form()
    form_class = STEP_FORMS.get(str(form.get("action", "")))
    if form_class is None:
        raise ValidationFailed("action", "not a step a task page takes")

    async def run(model: object) -> StepDone:
        assert isinstance(model, TaskForm)
        return await complete(services.requests, page.actor, task_id, model.action_body())

    done = await attempt(form_class, form, run, places=PLACES)
    if isinstance(done, Refused):
        part = PART_OF.get(form_class.ACTION)
        template = "task_part.html" if part else "task.html"
        state = FormState.of(done)
        return await show(
            services, request, principal, csrf, page, template, state, done.status, part=part
        )
    return RedirectResponse(f"/tasks/{task_id}/done?step={form_class.ACTION}", status_code=303)


PART_OF = {"determine_lawful_basis": "basis", "select_information": "items"}
"""The record-decision task's parts that have a page of their own."""


async def _part(
    services: Services, request: Request, principal: Principal, csrf: str, task_id: str, part: str
) -> Response:
    page = await open_task(services, principal, task_id, Action.DECIDE)
    if page.ref.kind != "record_decision":
        raise NotFoundError("this task has no such part")
    kept = await restored(services, principal, request.url.path)
    form = FormState(kept) if kept else None
    return await show(
        services, request, principal, csrf, page, "task_part.html", form, part=part, restored=kept
    )


@router.get("/tasks/{task_id}/basis")
async def basis_page(
    task_id: str, services: ServicesDep, request: Request, principal: PagePrincipal, csrf: CsrfToken
) -> Response:
    """The lawful basis: the bases that apply on these facts, and the one relied on."""
    return await _part(services, request, principal, csrf, task_id, "basis")


@router.get("/tasks/{task_id}/items")
async def items_page(
    task_id: str, services: ServicesDep, request: Request, principal: PagePrincipal, csrf: CsrfToken
) -> Response:
    """What to share: each item, fact or opinion, dated."""
    return await _part(services, request, principal, csrf, task_id, "items")


@router.get("/tasks/{task_id}/done")
async def step_done(
    task_id: str,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    step: str = "",
) -> Response:
    """The confirmation after a step (a GOV.UK panel), and what is next for the viewer."""
    page = await open_task(services, principal, task_id)
    mine = await next_tasks(services, page.actor, page.ref.request_id, page.ref.agency)
    return render(
        services,
        request,
        "task_done.html",
        principal=principal,
        csrf=csrf,
        title=DONE.get(step, "Step recorded"),
        state=page.state,
        next_tasks=mine,
        words=words,
    )
