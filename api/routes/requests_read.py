"""Reading requests and tasks: lists, one request's progress, the caller's inbox.

Served from the read models (``app.queries``). Coordinators and compliance
officers see every request; agency people see only requests their agency is
party to (requester or holder). Another agency's request is a 403, an
unknown one a 404: request ids are random, so the refusal reveals nothing
about anyone (and the summary holds no personal data in any case).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from api.deps import CurrentPrincipal, Overseer, ServicesDep
from api.problems import problem_responses
from api.schemas.requests_read import (
    InboxResponse,
    RequestListResponse,
    RequestSummaryResponse,
    ResponseTimesResponse,
    TaskResponse,
)
from app.queries import ListOrder, Queries
from domain.models import Actor
from domain.permissions import Action, allows
from domain.vocabulary import Rating
from infra.auth import Forbidden, Principal
from infra.directory import AGENCY_CODE, NotFoundError

router = APIRouter(prefix="/api", tags=["requests"])

_AUTH = problem_responses(401, 403)
Status = Annotated[str | None, Query(pattern="^(open|closed|withdrawn)$")]


def get_queries(services: ServicesDep) -> Queries:
    return services.queries


QueriesDep = Annotated[Queries, Depends(get_queries)]


def _scope(principal: Principal) -> str | None:
    """The agency a principal's view is limited to (None: the whole hub)."""
    if allows(principal, Action.FOLLOW_REQUESTS):
        return None
    if principal.agency is None:  # an agency role without an agency sees nothing
        return ""
    return principal.agency


@router.get("/requests", response_model=RequestListResponse, responses=_AUTH)
async def list_requests(
    principal: CurrentPrincipal,
    queries: QueriesDep,
    status: Status = None,
    rating: Rating | None = None,
    agency: Annotated[
        str | None, Query(pattern=AGENCY_CODE.pattern, description="An agency's code.")
    ] = None,
    overdue: bool | None = None,
    order: ListOrder = "urgency",
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> RequestListResponse:
    """Requests, most urgent first (overdue first, then the least time left; those with
    nothing awaited after them), or ``order=newest``. Filter by ``status``, ``rating``,
    ``agency`` (requester or holder) and ``overdue``. Agency people see only requests
    their agency is party to."""
    now = datetime.now(UTC)
    scope = _scope(principal)
    if scope is not None and agency is not None and agency != scope:
        return RequestListResponse(requests=[])
    found = await queries.list_requests(
        status=status,
        rating=None if rating is None else str(rating),
        agency=scope if scope is not None else agency,
        overdue=overdue,
        now=now,
        order=order,
        limit=limit,
    )
    return RequestListResponse(requests=[RequestSummaryResponse.of(s, now) for s in found])


@router.get(
    "/requests/{request_id}",
    response_model=RequestSummaryResponse,
    responses=_AUTH | problem_responses(404),
)
async def get_request(
    request_id: UUID, principal: CurrentPrincipal, queries: QueriesDep
) -> RequestSummaryResponse:
    """One request: its state, each agency's progress, deadlines and time left."""
    found = await queries.get_request(request_id)
    if found is None:
        raise NotFoundError(f"no request {request_id}")
    scope = _scope(principal)
    if (
        scope is not None
        and scope != found.requesting_agency
        and scope not in {a.agency for a in found.agencies}
    ):
        raise Forbidden("this request is not one your agency is party to")
    return RequestSummaryResponse.of(found, datetime.now(UTC))


@router.get("/tasks", response_model=InboxResponse, responses=_AUTH)
async def inbox(
    principal: CurrentPrincipal,
    queries: QueriesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> InboxResponse:
    """The caller's open tasks, most urgent first (red first, then the nearest deadline),
    a page at a time: ``limit`` tasks from ``offset``; ``next_offset`` says where the next
    page starts."""
    actor = Actor(user_id=str(principal.user_id), role=principal.role, agency=principal.agency)
    tasks = await queries.inbox(actor, datetime.now(UTC), limit=limit + 1, offset=offset)
    more = len(tasks) > limit
    return InboxResponse(
        tasks=[TaskResponse.of(t) for t in tasks[:limit]],
        next_offset=offset + limit if more else None,
    )


@router.get("/agencies/response-times", response_model=ResponseTimesResponse, responses=_AUTH)
async def response_times(_: Overseer, queries: QueriesDep) -> ResponseTimesResponse:
    """Per agency: decisions answered, on time, late, overdue now (coordinator, compliance)."""
    return ResponseTimesResponse(agencies=await queries.agency_response_times(datetime.now(UTC)))
