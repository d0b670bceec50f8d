"""The page an agency worker shares from without being asked (``/shares/new``).

The same command as ``POST /api/shares`` (:mod:`app.proactive`); refused, every value
comes back as typed with its message. Once started, the decision's steps are in the
worker's inbox, as for a request.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

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
from api.rendering import render_case_form
from api.routes.requests_write import new_share
from api.schemas.requests_write import ProactiveShareCreate
from api.share_forms import SHARE_RENAMES, ShareForm
from app.identity import actor_of
from app.proactive import share_proactively
from domain.permissions import Action

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


async def _form(
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: str,
    agencies: Agencies,
    form: FormState,
    status_code: int = 200,
) -> Response:
    others = [a for a in await agencies.list() if a.code != principal.agency]
    return render_case_form(
        services,
        request,
        "share_new.html",
        principal=principal,
        csrf=csrf,
        agencies=others,
        form=form,
        status_code=status_code,
    )


@router.get("/shares/new")
async def share_page(
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    agencies: Agencies,
) -> Response:
    require_page(principal, Action.SHARE_PROACTIVELY)
    form = FormState(with_key({"rating": "red"}))
    return await _form(services, request, principal, csrf, agencies, form)


@router.post("/shares/new")
async def share_submit(
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    agencies: Agencies,
    requests: Requests,
) -> Response:
    require_page(principal, Action.SHARE_PROACTIVELY)

    async def run(form: PageForm) -> UUID:
        new = new_share(ProactiveShareCreate.model_validate(form.body()))
        return await opening(
            lambda key: share_proactively(requests, actor_of(principal), new, idempotency_key=key),
            form,
        )

    started = await attempt(ShareForm, await request.form(), run, renames=SHARE_RENAMES)
    if isinstance(started, Refused):
        form = FormState.of(started)
        return await _form(services, request, principal, csrf, agencies, form, started.status)
    return RedirectResponse("/tasks", status_code=303)
