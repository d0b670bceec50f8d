"""The compliance officer's pages beside a request's history: the audit export of one
request (a printable page, CSV or JSON, with or without the personal data) and the
verification of the whole record store, both from the web.

Compliance officers only (the permission matrix's ``REPLAY_HISTORY``). Exporting with
the personal data is a form post carrying the page's CSRF token, and the export is
appended to the request's access log before anything is opened, as through the API.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request, Response

from api.deps import CsrfToken, PagePrincipal, ServicesDep, csrf_protect, require_page
from api.rendering import render
from app.access import viewed_history
from app.export import MEDIA_TYPES, ExportFormat, export_request
from app.history import verify_store
from app.identity import actor_of
from app.people import names_by_id
from domain.events.access import ViewKind
from domain.permissions import Action

pages = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


@pages.post("/requests/{request_id}/export")
async def export_page(
    request_id: UUID,
    services: ServicesDep,
    principal: PagePrincipal,
    fmt: Annotated[ExportFormat, Form(alias="format")] = ExportFormat.HTML,
    reveal: Annotated[str, Form()] = "",
) -> Response:
    """The same export as ``GET /api/requests/{id}/export``, downloaded from the history page;
    the printable page names people (JSON and CSV keep their ids for other tools)."""
    require_page(principal, Action.REPLAY_HISTORY)
    shown = reveal == "yes"
    viewer = actor_of(principal) if shown else None
    found = await viewed_history(
        services.events, services.keyring, request_id, viewer, ViewKind.EXPORT
    )
    body = export_request(
        found,
        fmt,
        await names_by_id(services.users),
        {a.code: a.name for a in await services.agencies.list()},
        zone=services.settings.hub_policy().calendar.timezone,
    )
    return Response(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="request-{request_id}.{fmt.value}"'},
    )


@pages.get("/audit/verify")
async def verify_page(
    services: ServicesDep, request: Request, principal: PagePrincipal, csrf: CsrfToken
) -> Response:
    require_page(principal, Action.REPLAY_HISTORY)
    return render(
        services, request, "audit_verify.html", principal=principal, csrf=csrf, report=None
    )


@pages.post("/audit/verify")
async def verify_submit(
    services: ServicesDep, request: Request, principal: PagePrincipal, csrf: CsrfToken
) -> Response:
    """Walk the whole record store now (as ``mashflow audit verify``) and show the findings."""
    require_page(principal, Action.REPLAY_HISTORY)
    report = await verify_store(services.events)
    return render(
        services, request, "audit_verify.html", principal=principal, csrf=csrf, report=report
    )
