"""One task: ``GET /api/tasks/{task_id}`` reads what is asked (recorded as a view of
personal data); ``POST /api/tasks/{task_id}`` completes it with the body its action needs.

The task id (``{request_id}:{agency}:{kind}:{version}``, as the inbox lists it)
says which decision; the update id is ``{task_id}:{action}``, so the same call
twice runs the step once. Role and agency are checked here first (nothing is
sealed for someone who may not act) and again by the workflow's validators.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path

from api.deps import Requests, ServicesDep, TaskWorker
from api.routes.requests_write import WRITE_RESPONSES
from api.schemas.tasks import StepDone, TaskAction, TaskBrief
from app.identity import actor_of
from app.requests import read_brief
from app.tasks import complete, task_ref
from domain.tasks import MAX_LENGTH, PATTERN
from infra.auth import Forbidden

router = APIRouter(prefix="/api", tags=["tasks"])

TaskPrincipal = TaskWorker
TaskIdParam = Annotated[str, Path(max_length=MAX_LENGTH, pattern=PATTERN)]


@router.get("/tasks/{task_id}", response_model=TaskBrief, responses=WRITE_RESPONSES)
async def read_task(
    task_id: TaskIdParam, principal: TaskPrincipal, services: ServicesDep, requests: Requests
) -> TaskBrief:
    """One task of the caller's agency with the request's purpose and the information
    sought, in clear. The reading is appended to the request's access log first."""
    actor = actor_of(principal)
    ref = task_ref(task_id)
    if actor.agency != ref.agency:
        raise Forbidden("this task belongs to another agency")
    state = await requests.decision(ref.request_id, ref.agency)
    brief = await read_brief(services.events, services.keyring, actor, ref.request_id)
    return TaskBrief(
        task_id=task_id,
        request_id=ref.request_id,
        agency=ref.agency,
        kind=ref.kind,
        requesting_agency=state.requesting_agency,
        subject_kind=state.subject_kind.value,
        purpose_category=state.purpose_category.value,
        rating=state.rating.value,
        decision_due_at=state.decision_due_at,
        purpose=brief.purpose,
        information_sought=brief.information_sought,
    )


@router.post("/tasks/{task_id}", response_model=StepDone, responses=WRITE_RESPONSES)
async def complete_task(
    task_id: TaskIdParam,
    body: Annotated[TaskAction, Body()],
    principal: TaskPrincipal,
    requests: Requests,
) -> StepDone:
    """Complete one step of a decision (worker or advisor of the holding agency)."""
    return await complete(requests, actor_of(principal), task_id, body)
