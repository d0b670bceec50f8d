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
from api.rendering import VOCABULARY, render
from api.schemas.requests_write import ProactiveShareCreate
from api.share_forms import SHARE_RENAMES, ShareForm
from app.identity import actor_of
from app.proactive import NewProactiveShare, share_proactively
from app.requests import SubjectDetails
from domain.permissions import Action
from domain.policy import deadline_words

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
    return render(
        services,
        request,
        "share_new.html",
        principal=principal,
        csrf=csrf,
        agencies=others,
        form=form,
        status_code=status_code,
        deadlines=deadline_words(services.settings.hub_policy()),
        **VOCABULARY,
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
    form = FormState({"rating": "red"})
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
        body = ProactiveShareCreate.model_validate(form.body())
        new = NewProactiveShare(
            subject=SubjectDetails(
                name=body.subject.name, date_of_birth=body.subject.date_of_birth
            ),
            subject_kind=body.subject_kind,
            recipient_agency=body.recipient_agency,
            purpose_category=body.purpose_category,
            purpose=body.purpose,
            information=body.information,
            rating=body.rating,
        )
        return await share_proactively(requests, actor_of(principal), new)

    started = await attempt(ShareForm, await request.form(), run, renames=SHARE_RENAMES)
    if isinstance(started, Refused):
        form = FormState.of(started)
        return await _form(services, request, principal, csrf, agencies, form, started.status)
    return RedirectResponse("/tasks", status_code=303)
