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

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Withdrawing:
    """One worker on one decision's withdrawal pages: who, the decision, the page's parts."""

    services: Services
    request: Request
    principal: Principal
    csrf: str
    request_id: UUID
    agency: str
    actor: Actor
    state: AgencyDecisionState

    @property
    def key(self) -> str:
        return draft_key(self.request_id, self.agency)

    def to(self, part: str = "") -> RedirectResponse:
        return RedirectResponse(page_path(self.request_id, self.agency, part), status_code=303)

    def opened(self) -> Withdrawing:
        """Itself, if consent was given and not yet withdrawn; else the page says why not
        (409)."""
        consent = self.state.consent
        if consent is not None and consent.outcome is ConsentOutcome.WITHDRAWN:
            raise InvalidState("consent has already been recorded as withdrawn")
        if consent is None or consent.outcome is not ConsentOutcome.GIVEN:
            raise InvalidState("consent was not given for this decision, so it cannot be withdrawn")
        return self

    async def answers(self) -> dict[str, Any]:
        return await self.services.drafts.load(self.actor.user_id, self.key)

    async def render(self, template: str, status_code: int = 200, **context: Any) -> Response:
        return render(
            self.services,
            self.request,
            template,
            principal=self.principal,
            csrf=self.csrf,
            state=self.state,
            agencies={a.code: a.name for a in await self.services.agencies.list()},
            status_code=status_code,
            **context,
            **VOCABULARY,
        )

    async def form(
        self, form: FormState, status_code: int = 200, was_restored: bool = False
    ) -> Response:
        return await self.render(
            "consent_withdrawal.html",
            status_code,
            restored=was_restored,
            action=page_path(self.request_id, self.agency),
            form=form,
        )


async def _withdrawing(
    request_id: UUID,
    agency: AgencyParam,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
) -> Withdrawing:
    """Who is acting (a worker of ``agency``) and its decision, as its log has it once its
    workflow has ended."""
    require_page(principal, Action.DECIDE)
    actor = actor_of(principal)
    require(actor, Action.DECIDE, agency, doing=DOING)
    state = await services.requests.decision(request_id, agency)
    if state.completed_at is not None:  # its workflow has ended: the log has what followed
        state = await folded(services.events, request_id, agency)
    return Withdrawing(services, request, principal, csrf, request_id, agency, actor, state)


On = Annotated[Withdrawing, Depends(_withdrawing)]
"""The decision named in the path, if the person may record its consent's withdrawal."""


@router.get("/requests/{request_id}/agencies/{agency}/consent-withdrawal")
async def withdrawal_page(on: On) -> Response:
    """The form: filled with the answers so far when the worker comes back to change them."""
    on = on.opened()
    kept = await restored(on.services, on.principal, on.request.url.path)  # typed before signing in
    answers = {**await on.answers(), **kept}
    return await on.form(FormState(answers), was_restored=bool(kept))


@router.post("/requests/{request_id}/agencies/{agency}/consent-withdrawal")
async def withdrawal_submit(on: On) -> Response:
    """The answers checked as the API checks them and kept in the draft; then the check."""
    on = on.opened()

    async def keep(model: PageForm) -> None:
        ConsentWithdrawalBody.model_validate(model.body())  # as the API would refuse it
        await on.services.drafts.save(on.actor.user_id, on.key, on.state.subject_id, model.values())

    kept = await attempt(ConsentWithdrawalForm, await on.request.form(), keep)
    if isinstance(kept, Refused):
        return await on.form(FormState.of(kept), kept.status)
    return on.to("check")


@router.get("/requests/{request_id}/agencies/{agency}/consent-withdrawal/check")
async def withdrawal_check(on: On) -> Response:
    """The answers, each with a link to change it, and what recording them does."""
    answers = await on.opened().answers()
    model = ConsentWithdrawalForm.read(ConsentWithdrawalForm.raw(answers))
    if not answers or model.check():
        return on.to()
    return await on.render(
        "consent_withdrawal_check.html",
        answers=model,
        withdrawn_on=model.date("withdrawn_on"),
        change=page_path(on.request_id, on.agency),
        action=page_path(on.request_id, on.agency, "check"),
    )


@router.post("/requests/{request_id}/agencies/{agency}/consent-withdrawal/check")
async def withdrawal_record(on: On) -> Response:
    """Record the withdrawal (the API's use case); refused, the form again, answers kept."""
    answers = await on.opened().answers()

    async def run(model: PageForm) -> int:
        body = ConsentWithdrawalBody.model_validate(model.body())
        return await record_withdrawal(
            on.services.requests,
            on.services.events,
            Outbox(on.services.engine),
            on.actor,
            on.request_id,
            on.agency,
            withdrawn_by=body.withdrawn_by,
            withdrawn_on=body.withdrawn_on,
            scope=body.scope,
            note=body.note,
        )

    done = await attempt(ConsentWithdrawalForm, answers, run)
    if isinstance(done, Refused):
        return await on.form(FormState.of(done), done.status)
    await on.services.drafts.drop(on.actor.user_id, on.key)
    return on.to("done")


@router.get("/requests/{request_id}/agencies/{agency}/consent-withdrawal/done")
async def withdrawal_done(on: On) -> Response:
    """The confirmation (a GOV.UK panel) and what follows: decide again, or the recipient
    has been told."""
    return await on.render(
        "consent_withdrawal_done.html",
        next_tasks=await next_tasks(on.services, on.actor, on.request_id, on.agency),
    )
