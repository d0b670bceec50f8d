"""Compliance: a request's history and export, the export over a date range, whole-store
verification, the history page.

Compliance officers only. Every view that opens personal data (``reveal``) is
itself appended to the request's access stream before the data is returned,
so there is no way to see it unrecorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator

from api.deps import CsrfToken, HistoryReader, PagePrincipal, ServicesDep, csrf_protect
from api.forms import FieldErrors
from api.moment import Typed, read_moment
from api.problems import problem_responses, register_problem
from api.rendering import render
from api.schemas.audit import HistoryResponse, VerifyRequest, VerifyResponse
from api.services import Services
from app.access import viewed_history
from app.export import MEDIA_TYPES, ExportFormat, export_request, history_json
from app.export_range import (
    MAX_RANGE_DAYS,
    InvalidRange,
    date_range,
    export_chunks,
    filename,
    histories,
)
from app.history import RequestHistory, RequestNotFound, verify_store
from app.identity import actor_of
from app.people import names_by_id
from domain.events.access import ViewKind
from domain.permissions import Action, allows
from infra.auth import Forbidden, Principal
from infra.crypto import Keyring
from infra.eventstore import EventStore

register_problem(RequestNotFound, 404, "not-found", "Not found")

router = APIRouter(prefix="/api", tags=["audit"])
pages = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

_AUTH = problem_responses(401, 403)
_FOUND = _AUTH | problem_responses(404, 422)


def _in_utc(value: datetime | None) -> datetime | None:
    """The moment in UTC, refused (422 naming the field) when an offset near year 1 or 9999
    takes it off the calendar there."""
    try:
        return None if value is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must fall between the years 1 and 9999 in UTC") from None


InUtc = AfterValidator(_in_utc)
AsOf = Annotated[
    datetime | None,
    Query(description="Show only what was known at this time (ISO 8601)."),
    InUtc,
]
Reveal = Annotated[bool, Query(description="Open the personal data; the view itself is recorded.")]


def _store(services: Services) -> tuple[EventStore, Keyring]:
    return services.events, services.keyring


async def _history(
    services: Services,
    principal: Principal,
    request_id: UUID,
    as_of: datetime | None,
    reveal: bool,
    what: ViewKind,
) -> RequestHistory:
    store, keyring = _store(services)
    viewer = actor_of(principal) if reveal else None
    return await viewed_history(store, keyring, request_id, viewer, what, as_of=as_of)


@router.get("/requests/{request_id}/history", response_model=HistoryResponse, responses=_FOUND)
async def history(
    request_id: UUID,
    services: ServicesDep,
    principal: HistoryReader,
    as_of: AsOf = None,
    reveal: Reveal = False,
) -> HistoryResponse:
    """Every event of the request in order, with actor and time; the state replayed from them;
    each agency's decision record; who has viewed the personal data; and whether each of the
    request's hash chains verifies."""
    found = await _history(services, principal, request_id, as_of, reveal, ViewKind.HISTORY)
    return HistoryResponse.model_validate(
        history_json(found) | {"request_id": str(found.request_id)}
    )


@router.get(
    "/requests/{request_id}/export",
    responses=_FOUND
    | {200: {"content": {m: {} for m in MEDIA_TYPES.values()}, "description": "The export."}},
)
async def export(
    request_id: UUID,
    services: ServicesDep,
    principal: HistoryReader,
    fmt: Annotated[
        ExportFormat, Query(alias="format", description="json, csv or html.")
    ] = ExportFormat.JSON,
    reveal: Reveal = False,
) -> Response:
    """The audit export of one request as JSON, CSV or a printable HTML page."""
    found = await _history(services, principal, request_id, None, reveal, ViewKind.EXPORT)
    body = export_request(
        found,
        fmt,
        await names_by_id(services.users),
        {a.code: a.name for a in await services.agencies.list()},
        zone=services.settings.hub_policy().calendar.timezone,
    )
    filename = f"request-{request_id}.{fmt.value}"
    return Response(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/audit/export",
    responses=_AUTH
    | problem_responses(422)
    | {200: {"content": {m: {} for m in MEDIA_TYPES.values()}, "description": "The export."}},
)
async def export_range(
    services: ServicesDep,
    principal: HistoryReader,
    first: Annotated[
        date, Query(alias="from", description="The first day (YYYY-MM-DD, UTC), included.")
    ],
    last: Annotated[
        date,
        Query(
            alias="to",
            description=f"The last day, included; at most {MAX_RANGE_DAYS} days after the first.",
        ),
    ],
    fmt: Annotated[
        ExportFormat, Query(alias="format", description="json, csv or html.")
    ] = ExportFormat.JSON,
    reveal: Reveal = False,
) -> StreamingResponse:
    """The audit export of every request opened in a date range, oldest first, streamed a
    request at a time: each as the one-request export (timeline, decision records, access
    log, verification). With ``reveal``, each request's view is recorded before it is read."""
    try:
        span = date_range(first, last)
    except InvalidRange as exc:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", exc.field), "msg": exc.message}]
        ) from None
    store, keyring = _store(services)
    found = histories(store, keyring, span, reveal=reveal, viewer=actor_of(principal))
    return StreamingResponse(
        export_chunks(
            found,
            span,
            fmt,
            revealed=reveal,
            zone=services.settings.hub_policy().calendar.timezone,
        ),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename(span, fmt)}"'},
    )


@router.post("/audit/verify", response_model=VerifyResponse, responses=_AUTH)
async def verify(
    services: ServicesDep, _: HistoryReader, body: VerifyRequest | None = None
) -> VerifyResponse:
    """Walk the whole event store and report every break, with the latest checkpoint digest."""
    store, _keyring = _store(services)
    options = body or VerifyRequest()
    report = await verify_store(
        store, trusted_digest=options.trusted_digest, checkpoint_first=options.checkpoint
    )
    return VerifyResponse.of(report)


@pages.get("/requests/{request_id}/history")
async def history_page(
    request_id: UUID,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    as_of: AsOf = None,
) -> Response:
    """The history with personal data withheld, as known now or at the moment typed in the
    page's date and time boxes (on the hub's clock; refused in words, the boxes kept).
    Revealing it is a POST (below): a link or an image elsewhere cannot make a signed-in
    officer's browser record a view."""
    zone = services.settings.hub_policy().calendar.timezone
    typed = Typed.of(request.query_params, "as_of", "as_of_time")
    errors: dict[str, str] = {}
    if not typed.empty():
        try:
            as_of = read_moment(typed, "as_of", "as_of_time", zone, datetime.now(UTC))
        except FieldErrors as exc:
            errors, as_of = exc.errors, None
    page = _HistoryPage(principal, csrf, request_id, typed, errors)
    return await _history_page(services, request, page, as_of, False)


@pages.post("/requests/{request_id}/history")
async def reveal_history_page(
    request_id: UUID,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    as_of: Annotated[datetime | None, Form(), InUtc] = None,
) -> Response:
    """The history with personal data in clear: a form post carrying the page's CSRF token
    (checked router-wide), the view recorded before anything is opened."""
    page = _HistoryPage(principal, csrf, request_id, None, {})
    return await _history_page(services, request, page, as_of, True)


@dataclass(frozen=True)
class _HistoryPage:
    principal: Principal
    csrf: str
    request_id: UUID
    typed: Typed | None
    """The "as of" boxes as typed (None: filled in from the moment shown)."""
    errors: dict[str, str]


async def _history_page(
    services: Services,
    request: Request,
    page: _HistoryPage,
    as_of: datetime | None,
    reveal: bool,
) -> Response:
    if not allows(page.principal, Action.REPLAY_HISTORY):
        raise Forbidden("this needs the compliance_officer role")
    zone = services.settings.hub_policy().calendar.timezone
    if as_of is not None and as_of.tzinfo is None:  # a time without a zone: the hub's clock
        as_of = as_of.replace(tzinfo=ZoneInfo(zone))
    found = await _history(
        services, page.principal, page.request_id, as_of, reveal, ViewKind.HISTORY
    )
    names = {a.code: a.name for a in await services.agencies.list()}
    typed = page.typed if page.typed is not None and not page.typed.empty() else None
    if typed is None and as_of is not None:
        typed = Typed.at(as_of, zone)
    return render(
        services,
        request,
        "request_history.html",
        principal=page.principal,
        csrf=page.csrf,
        status_code=422 if page.errors else 200,
        history=found,
        people=await names_by_id(services.users),
        names=names,
        formats=list(ExportFormat),
        errors=page.errors,
        typed=typed or Typed.of({}, "as_of", "as_of_time"),
        zone=zone,
    )
