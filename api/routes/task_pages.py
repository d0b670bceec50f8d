"""Pages for agency workers and advisors: the inbox and one page per task.

Each task page walks the guidance's questions for its step and shows what is
asked in clear (each showing recorded in the request's access log first). A
form posts the same body as ``POST /api/tasks/{task_id}`` and completes the
step through the same application code. Every form carries the CSRF token
(router-wide ``csrf_protect``); templates autoescape.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any

import pydantic
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from api.deps import (
    CsrfToken,
    PagePrincipal,
    Requests,
    ServicesDep,
    csrf_protect,
    require_page,
)
from api.forms import form_errors
from api.rendering import VOCABULARY, render, words
from api.schemas.tasks import TaskAction
from app.identity import actor_of
from app.requests import RequestService, read_brief
from app.tasks import complete
from domain.decision import AgencyDecisionState
from domain.errors import DomainError
from domain.permissions import Action
from domain.rules import ApplicableBases, applicable_bases
from domain.tasks import PATTERN, TaskId
from domain.vocabulary import (
    Art6Basis,
    Art9Condition,
    WithoutConsentGround,
)
from infra.auth import Forbidden, Principal
from infra.directory import NotFoundError

MAX_ITEMS = 10


router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


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


def bases_for(state: AgencyDecisionState) -> ApplicableBases | None:
    return applicable_bases(state.facts()) if state.assessment is not None else None


async def _task_page(
    services: ServicesDep,
    request: Request,
    principal: Principal,
    csrf: str,
    requests: RequestService,
    task_id: str,
    *,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    require_page(principal, Action.WORK_TASKS)
    if not _valid_task_id(task_id):
        raise NotFoundError("no such task")
    ref = TaskId.parse(task_id)
    if principal.agency != ref.agency:
        raise Forbidden("this task belongs to another agency")
    state = await requests.decision(ref.request_id, ref.agency)
    # Recorded in the request's access log before it is decrypted, every time it is shown.
    brief = await read_brief(services.events, services.keyring, actor_of(principal), ref.request_id)
    return render(
        services,
        request,
        "task.html",
        principal=principal,
        csrf=csrf,
        task_id=task_id,
        kind=ref.kind,
        state=state,
        brief=brief,
        bases=bases_for(state),
        art6_all=list(Art6Basis),
        art9_all=list(Art9Condition),
        grounds_all=list(WithoutConsentGround),
        item_rows=range(3),
        errors=errors,
        status_code=status_code,
        **VOCABULARY,
    )


def _valid_task_id(task_id: str) -> bool:
    return len(task_id) <= 200 and re.fullmatch(PATTERN, task_id) is not None


@router.get("/tasks/{task_id}")
async def task_page(
    task_id: str,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    requests: Requests,
) -> Response:
    return await _task_page(services, request, principal, csrf, requests, task_id, errors={})


@functools.cache
def _actions() -> pydantic.TypeAdapter[TaskAction]:
    return pydantic.TypeAdapter(TaskAction)


def action_values(form: FormData) -> dict[str, Any]:
    """A task form as the API's body: nested inform / instrument / items, blanks left out."""
    data: dict[str, Any] = {}
    items: dict[int, dict[str, Any]] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str) or key == "csrf_token":
            continue
        if key.startswith("item-"):
            parts = key.split("-", 2)
            if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < MAX_ITEMS:
                items.setdefault(int(parts[1]), {})[parts[2]] = value
        elif key == "not_share_reasons":
            data.setdefault(key, []).append(value)
        elif key.startswith(("inform_", "instrument_", "compelled_", "protects_")):
            group, field = key.split("_", 1)
            if value:
                data.setdefault(group, {})[field] = value
        elif value != "":
            data[key] = value
    rows = []
    for _, row in sorted(items.items()):
        if not any(row.get(f) for f in ("description", "content", "source")):
            continue
        row = {k: v for k, v in row.items() if v != ""}
        row["historical"] = row.get("historical") == "true"
        row["protect_identity"] = row.get("protect_identity") == "true"
        rows.append(row)
    if rows or data.get("action") == "select_information":
        data["items"] = rows
    return data


@router.post("/tasks/{task_id}")
async def task_submit(
    task_id: str,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    requests: Requests,
) -> Response:
    require_page(principal, Action.WORK_TASKS)
    if not _valid_task_id(task_id):
        raise NotFoundError("no such task")
    data = action_values(await request.form())
    action = str(data.get("action", ""))
    try:
        body = _actions().validate_python(data)
        done = await complete(requests, actor_of(principal), task_id, body)
    except pydantic.ValidationError as exc:
        errors = form_errors(exc, action)
    except DomainError as exc:
        errors = {"form": exc.message}
    else:
        ref = TaskId.parse(task_id)
        mine = [
            t for t in done.open_tasks if t.role == principal.role and t.agency == principal.agency
        ]
        if mine:
            return RedirectResponse(
                f"/tasks/{ref.request_id}:{ref.agency}:{mine[0].kind}:{done.version}",
                status_code=303,
            )
        return RedirectResponse("/tasks", status_code=303)
    return await _task_page(
        services, request, principal, csrf, requests, task_id, errors=errors, status_code=422
    )
