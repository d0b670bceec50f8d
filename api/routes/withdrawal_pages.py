"""Consent withdrawn after it was given, from the pages: a form, a check of the answers,
then a confirmation (the GOV.UK pattern).

``/requests/{id}/agencies/{agency}/consent-withdrawal`` asks who withdrew consent, on
what day, what it covers and any note; the answers are kept in the worker's draft on the
server (sealed, :mod:`app.drafts`), never in hidden fields. ``.../check`` lists them with
a link to change them; its button records the withdrawal through the use case
``POST /api/requests/{id}/agencies/{agency}/consent-withdrawal`` runs
(:func:`app.consent_withdrawal.record_withdrawal`), the domain checking it again. Refused,
the form comes back with every answer as typed and each problem at its field. ``.../done``
is the confirmation, with what follows. Only a worker of the deciding agency may see or
post any of it (``DECIDE`` for that agency), whether the decision is open or complete.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import CsrfToken, PagePrincipal, ServicesDep, csrf_protect, require_page
from api.forms import FormState, PageForm, Refused, attempt
from api.rendering import VOCABULARY, render
from api.routes.consent import ConsentWithdrawalBody
from api.routes.draft_pages import restored
from api.services import Services
from api.task_context import next_tasks
from api.withdrawal_forms import ConsentWithdrawalForm
from app.consent_withdrawal import folded, record_withdrawal
from app.identity import actor_of
from domain.decision import AgencyDecisionState
from domain.errors import InvalidState
from domain.models import Actor
from domain.permissions import Action, require
from domain.vocabulary import ConsentOutcome
from infra.auth import Principal
from infra.packages import Outbox

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

AgencyParam = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
DOING = "record that consent was withdrawn"


def draft_key(request_id: UUID, agency: str) -> str:
    return f"consent-withdrawal:{request_id}:{agency}"


def page_path(request_id: UUID, agency: str, part: str = "") -> str:
    base = f"/requests/{request_id}/agencies/{agency}/consent-withdrawal"
    return f"{base}/{part}" if part else base


async def _decision(
    services: Services, principal: Principal, request_id: UUID, agency: str, *, open_: bool = True
) -> tuple[Actor, AgencyDecisionState]:
    """Who is acting (a worker of ``agency``) and its decision; with ``open_``, consent
    must be given and not yet withdrawn, else the page says why not (409)."""
    require_page(principal, Action.DECIDE)
    actor = actor_of(principal)
    require(actor, Action.DECIDE, agency, doing=DOING)
    state = await services.requests.decision(request_id, agency)
    if state.completed_at is not None:  # its workflow has ended: the log has what followed
        state = await folded(services.events, request_id, agency)
    consent = state.consent
    if open_ and consent is not None and consent.outcome is ConsentOutcome.WITHDRAWN:
        raise InvalidState("consent has already been recorded as withdrawn")
    if open_ and (consent is None or consent.outcome is not ConsentOutcome.GIVEN):
        raise InvalidState("consent was not given for this decision, so it cannot be withdrawn")
    return actor, state


async def _answers(
    services: Services, actor: Actor, request_id: UUID, agency: str
) -> dict[str, Any]:
    return await services.drafts.load(actor.user_id, draft_key(request_id, agency))


async def _names(services: Services) -> dict[str, str]:
    return {a.code: a.name for a in await services.agencies.list()}


async def _form(
    services: Services,
    request: Request,
    principal: Principal,
    csrf: str,
    state: AgencyDecisionState,
    form: FormState,
    status_code: int = 200,
    was_restored: bool = False,
) -> Response:
    return render(
        services,
        request,
        "consent_withdrawal.html",
        restored=was_restored,
        principal=principal,
        csrf=csrf,
        state=state,
        agencies=await _names(services),
        action=page_path(state.request_id, state.agency),
        form=form,
        status_code=status_code,
        **VOCABULARY,
    )


@router.get("/requests/{request_id}/agencies/{agency}/consent-withdrawal")
async def withdrawal_page(
    request_id: UUID,
    agency: AgencyParam,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
) -> Response:
    """The form: filled with the answers so far when the worker comes back to change them."""
    actor, state = await _decision(services, principal, request_id, agency)
    kept = await restored(services, principal, request.url.path)  # typed before signing in
    answers = {**await _answers(services, actor, request_id, agency), **kept}
    return await _form(
        services, request, principal, csrf, state, FormState(answers), was_restored=bool(kept)
    )


@router.post("/requests/{request_id}/agencies/{agency}/consent-withdrawal")
async def withdrawal_submit(
    request_id: UUID,
    agency: AgencyParam,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
) -> Response:
    """The answers checked as the API checks them and kept in the draft; then the check."""
    actor, state = await _decision(services, principal, request_id, agency)

    async def keep(model: PageForm) -> None:
        ConsentWithdrawalBody.model_validate(model.body())  # as the API would refuse it
        await services.drafts.save(
            actor.user_id, draft_key(request_id, agency), state.subject_id, model.values()
        )

    kept = await attempt(ConsentWithdrawalForm, await request.form(), keep)
    if isinstance(kept, Refused):
        form = FormState.of(kept)
        return await _form(services, request, principal, csrf, state, form, kept.status)
    return RedirectResponse(page_path(request_id, agency, "check"), status_code=303)


@router.get("/requests/{request_id}/agencies/{agency}/consent-withdrawal/check")
async def withdrawal_check(
    request_id: UUID,
    agency: AgencyParam,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
) -> Response:
    """The answers, each with a link to change it, and what recording them does."""
    actor, state = await _decision(services, principal, request_id, agency)
    answers = await _answers(services, actor, request_id, agency)
    model = ConsentWithdrawalForm.read(ConsentWithdrawalForm.raw(answers))
    if not answers or model.check():
        return RedirectResponse(page_path(request_id, agency), status_code=303)
    return render(
        services,
        request,
        "consent_withdrawal_check.html",
        principal=principal,
        csrf=csrf,
        state=state,
        agencies=await _names(services),
        answers=model,
        withdrawn_on=model.date("withdrawn_on"),
        change=page_path(request_id, agency),
        action=page_path(request_id, agency, "check"),
        **VOCABULARY,
    )


@router.post("/requests/{request_id}/agencies/{agency}/consent-withdrawal/check")
async def withdrawal_record(
    request_id: UUID,
    agency: AgencyParam,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
) -> Response:
    """Record the withdrawal (the API's use case); refused, the form again, answers kept."""
    actor, state = await _decision(services, principal, request_id, agency)
    answers = await _answers(services, actor, request_id, agency)

    async def run(model: PageForm) -> int:
        body = ConsentWithdrawalBody.model_validate(model.body())
        return await record_withdrawal(
            services.requests,
            services.events,
            Outbox(services.engine),
            actor,
            request_id,
            agency,
            withdrawn_by=body.withdrawn_by,
            withdrawn_on=body.withdrawn_on,
            scope=body.scope,
            note=body.note,
        )

    done = await attempt(ConsentWithdrawalForm, answers, run)
    if isinstance(done, Refused):
        form = FormState.of(done)
        return await _form(services, request, principal, csrf, state, form, done.status)
    await services.drafts.drop(actor.user_id, draft_key(request_id, agency))
    return RedirectResponse(page_path(request_id, agency, "done"), status_code=303)


@router.get("/requests/{request_id}/agencies/{agency}/consent-withdrawal/done")
async def withdrawal_done(
    request_id: UUID,
    agency: AgencyParam,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
) -> Response:
    """The confirmation (a GOV.UK panel) and what follows: decide again, or the recipient
    has been told."""
    actor, state = await _decision(services, principal, request_id, agency, open_=False)
    return render(
        services,
        request,
        "consent_withdrawal_done.html",
        principal=principal,
        csrf=csrf,
        state=state,
        agencies=await _names(services),
        next_tasks=await next_tasks(services, actor, request_id, agency),
        **VOCABULARY,
    )
