"""Pages for requests, tasks and packages: the practitioners' main tool.

Coordinator: a new-request form (messages in place), the request list (RAG
colour, time left) and each request's per-agency progress, with the forms to
re-rate (with a written rationale) and to withdraw. Worker and advisor: the
inbox and one page per task kind walking the guidance's questions, showing
what is asked in clear (each showing recorded in the access log). Packages
are in :mod:`api.routes.package_pages`. Every form carries the CSRF token
(router-wide ``csrf_protect``); templates autoescape. Forms call the same
application commands as the API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypedDict
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from temporalio.service import RPCError

from api.deps import (
    Agencies,
    CsrfToken,
    PagePrincipal,
    Requests,
    ServicesDep,
    csrf_protect,
    require_page,
)
from api.forms import FormState, PageForm, Refused, attempt
from api.opening_forms import opening, with_key
from api.rendering import render, render_case_form, words
from api.request_forms import (
    NEW_REQUEST_RENAMES,
    NewRequestForm,
    RatingForm,
    WithdrawForm,
)
from api.routes.draft_pages import restored
from api.routes.requests_write import new_request
from api.schemas.requests_write import RatingBody, RequestCreate, WithdrawBody
from api.services import Services
from app import timetext
from app.identity import actor_of
from app.people import names_by_id
from app.queries import RequestSummary
from app.request_timeline import request_timeline
from app.requester import check_requester
from app.requests import view_of
from domain.permissions import Action
from domain.vocabulary import (
    Rating,
)
from infra.auth import Principal
from infra.directory import AGENCY_CODE

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


def time_left(summary: RequestSummary, now: datetime) -> str:
    """Time left to the decision deadline ("3 h 10 min left", "overdue by 2 h"), or the
    request's status once nothing is awaited."""
    if summary.time_left(now) is None:
        return summary.status
    return timetext.time_left(summary.decision_due_at, now)


# -- coordinator: requests ------------------------------------------------------------------


@router.get("/requests")
async def requests_page(
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    agencies: Agencies,
) -> Response:
    require_page(principal, Action.FOLLOW_REQUESTS)
    now = datetime.now(UTC)
    chosen = list_filters(request.query_params)
    rows = await services.queries.list_requests(now=now, limit=200, **chosen)
    register = await agencies.list()
    return render(
        services,
        request,
        "requests_list.html",
        principal=principal,
        csrf=csrf,
        rows=[(r, time_left(r, now), r.overdue(now)) for r in rows],
        chosen=chosen,
        register=register,
        names={a.code: a.name for a in register},
        ratings=list(Rating),
        statuses=REQUEST_STATUSES,
        words=words,
    )


REQUEST_STATUSES = ("open", "closed", "withdrawn")


class ListFilters(TypedDict, total=False):
    rating: str
    agency: str
    status: str


def list_filters(query: Mapping[str, str]) -> ListFilters:
    """The request list's filters from the page's query string: rating, agency and status;
    a value that is not one of the choices (or empty: "any") filters nothing."""
    chosen = ListFilters()
    rating = query.get("rating", "")
    if rating in {r.value for r in Rating}:
        chosen["rating"] = rating
    if query.get("status", "") in REQUEST_STATUSES:
        chosen["status"] = query["status"]
    agency = query.get("agency", "")
    if AGENCY_CODE.fullmatch(agency):
        chosen["agency"] = agency
    return chosen


async def _new_form(
    services: ServicesDep,
    request: Request,
    principal: Principal,
    csrf: str,
    agencies: Agencies,
    form: FormState,
    status_code: int = 200,
    restored: object = None,
) -> Response:
    return render_case_form(
        services,
        request,
        "request_new.html",
        principal=principal,
        csrf=csrf,
        agencies=await agencies.list(),
        form=form,
        status_code=status_code,
        restored=bool(restored),
    )


@router.get("/requests/new")
async def new_request_page(
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    agencies: Agencies,
) -> Response:
    require_page(principal, Action.OPEN_REQUEST)
    kept = await restored(services, principal, request.url.path)
    form = FormState(with_key(kept or {"rating": "amber", "holding_agencies": []}))
    return await _new_form(services, request, principal, csrf, agencies, form, restored=kept)


@router.post("/requests/new")
async def new_request_submit(
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    agencies: Agencies,
    requests: Requests,
) -> Response:
    """The same command as ``POST /api/requests``; refused, every value comes back as typed."""
    require_page(principal, Action.OPEN_REQUEST)

    async def run(form: PageForm) -> UUID:
        new = new_request(RequestCreate.model_validate(form.body()), principal)
        await check_requester(
            services.users, new.requested_by, new.requesting_agency, str(principal.user_id)
        )
        return await opening(
            lambda key: requests.open_request(actor_of(principal), new, idempotency_key=key), form
        )

    opened = await attempt(NewRequestForm, await request.form(), run, renames=NEW_REQUEST_RENAMES)
    if isinstance(opened, Refused):
        form = FormState.of(opened)
        return await _new_form(services, request, principal, csrf, agencies, form, opened.status)
    return RedirectResponse(f"/requests/{opened}", status_code=303)


CHANGE_LABELS = {
    "rerate_form": "Change the rating",
    "rerate_rating": "New rating",
    "rerate_rationale": "Why the rating changes",
    "withdraw_form": "Withdraw",
    "withdraw_reason": "Why the request is withdrawn",
}
DONE = {
    "rating": "The rating has been changed and the deadlines recomputed.",
    "withdrawn": "The request has been withdrawn; the agencies' open decisions have stopped.",
}


async def _request_page(
    services: Services,
    request: Request,
    principal: Principal,
    csrf: str,
    request_id: UUID,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    now = datetime.now(UTC)
    summary = await services.queries.get_request(request_id)
    # Just after a change the read model may lag a moment: show the workflow's own state.
    live = await _live(services, request_id) if done in DONE else None
    names = {a.code: a.name for a in await services.agencies.list()}
    timeline = await request_timeline(
        services.events,
        request_id,
        names,
        await names_by_id(services.users),
        services.settings.hub_policy().calendar.timezone,
    )
    return render(
        services,
        request,
        "request_detail.html",
        principal=principal,
        csrf=csrf,
        request_id=request_id,
        summary=summary,
        left=time_left(summary, now) if summary else None,
        words=words,
        ratings=list(Rating),
        labels=CHANGE_LABELS,
        errors=errors or {},
        values=values or {},
        done=DONE.get(done or ""),
        live=live,
        names=names,
        timeline=timeline,
        status_code=status_code,
    )


@dataclass(frozen=True)
class Live:
    rating: str
    status: str


async def _live(services: Services, request_id: UUID) -> Live | None:
    try:
        state = (await services.requests.view(request_id)).state
    except RPCError:
        return None
    return Live(rating=state.rating.value, status=state.status.value)


@router.get("/requests/{request_id}")
async def request_page(
    request_id: UUID,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    done: str | None = None,
) -> Response:
    require_page(principal, Action.FOLLOW_REQUESTS)
    return await _request_page(services, request, principal, csrf, request_id, done=done)


async def _change(
    services: Services,
    request: Request,
    principal: Principal,
    csrf: str,
    request_id: UUID,
    form_class: type[PageForm],
    run: Callable[[PageForm, UUID], Awaitable[object]],
    done: str,
    prefix: str,
) -> Response:
    """Run a coordinator's change; the page again with messages in place if refused."""

    async def command(form: PageForm) -> object:
        view = await view_of(services.requests, request_id)
        return await run(form, view.state.subject_id)

    changed = await attempt(form_class, await request.form(), command, prefix=prefix)
    if not isinstance(changed, Refused):
        return RedirectResponse(f"/requests/{request_id}?done={done}", status_code=303)
    values = {f"{prefix}_{k}": v for k, v in changed.values.items()}
    return await _request_page(
        services,
        request,
        principal,
        csrf,
        request_id,
        errors=changed.errors,
        values=values,
        status_code=changed.status,
    )


@router.post("/requests/{request_id}/withdraw")
async def withdraw_submit(
    request_id: UUID,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    requests: Requests,
) -> Response:
    """The same command as ``POST /api/requests/{id}/withdraw``, from the request page."""
    require_page(principal, Action.WITHDRAW_REQUEST)

    async def run(form: PageForm, subject_id: UUID) -> object:
        body = WithdrawBody.model_validate(form.body())
        return await requests.withdraw(actor_of(principal), request_id, body.reason, subject_id)

    return await _change(
        services, request, principal, csrf, request_id, WithdrawForm, run, "withdrawn", "withdraw"
    )


@router.post("/requests/{request_id}/rating")
async def rating_submit(
    request_id: UUID,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    requests: Requests,
) -> Response:
    """The same command as ``POST /api/requests/{id}/rating``: a new rating with its rationale."""
    require_page(principal, Action.CHANGE_RATING)

    async def run(form: PageForm, subject_id: UUID) -> object:
        body = RatingBody.model_validate(form.body())
        return await requests.change_rating(
            actor_of(principal), request_id, body.rating, body.rationale, subject_id
        )

    return await _change(
        services, request, principal, csrf, request_id, RatingForm, run, "rating", "rerate"
    )
