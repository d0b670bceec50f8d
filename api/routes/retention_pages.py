"""Pages for compliance officers: the retention review queue and each review's decision.

``/retention`` lists the open reviews, oldest due first, with when each decision
is due and the overdue (escalated) ones marked. ``/retention/{review_id}``
shows the review, its record's decision trail (personal data withheld) and the
two decisions: retain (a reason and the next review date) or dispose (a reason
from the hub's list, then a confirmation page, since disposal cannot be
undone). Everything goes through ``app.retention.RetentionService``; the rules
are ``domain.retention``'s. Compliance officers only: anyone else gets 403.
Every form carries the CSRF token (router-wide ``csrf_protect``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import Field

from api.deps import CsrfToken, PagePrincipal, ServicesDep, csrf_protect
from api.forms import PageForm, Refused, attempt
from api.rendering import render, words
from api.services import Services
from app.identity import actor_of
from app.people import names_by_id
from app.retention import MAX_REASON, RetentionReview, RetentionService, ReviewNotFoundError
from domain.permissions import Action, allows
from domain.retention import ReviewStatus
from domain.vocabulary import DisposalReason
from infra.auth import Forbidden, Principal
from infra.directory import NotFoundError

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


def _officer(principal: Principal) -> None:
    if not allows(principal, Action.REVIEW_RETENTION):
        raise Forbidden("retention reviews are for compliance officers only")


def _service(services: Services) -> RetentionService:
    return services.retention


async def _find(retention: RetentionService, review_id: UUID) -> RetentionReview:
    try:
        return await retention.find(review_id)
    except ReviewNotFoundError:
        raise NotFoundError(f"no retention review {review_id}") from None


@router.get("/retention")
async def queue_page(
    services: ServicesDep, request: Request, principal: PagePrincipal, csrf: CsrfToken
) -> Response:
    _officer(principal)
    reviews = await _service(services).open_reviews(datetime.now(UTC))
    return render(
        services,
        request,
        "retention_queue.html",
        principal=principal,
        csrf=csrf,
        reviews=reviews,
        overdue=sum(r.overdue for r in reviews),
        words=words,
    )


async def _review_page(
    services: Services,
    request: Request,
    principal: Principal,
    csrf: str,
    review: RetentionReview,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    decided: str | None = None,
    status_code: int = 200,
) -> Response:
    trail = await _service(services).trail(review)
    return render(
        services,
        request,
        "retention_review.html",
        principal=principal,
        csrf=csrf,
        review=review,
        trail=trail,
        people=await names_by_id(services.users),
        values=values or {},
        errors=errors or {},
        decided=decided,
        reasons=list(DisposalReason),
        today=date.today().isoformat(),
        max_reason=MAX_REASON,
        words=words,
        status_code=status_code,
    )


@router.get("/retention/{review_id}")
async def review_page(
    review_id: UUID,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    decided: str | None = None,
) -> Response:
    _officer(principal)
    review = await _find(_service(services), review_id)
    shown = decided if decided in {s.value for s in ReviewStatus} - {"open"} else None
    return await _review_page(services, request, principal, csrf, review, decided=shown)


class RetainForm(PageForm):
    REQUIRED = {"reason": "Enter the reason the record is kept"}
    DATES = {"next_review_on": "the date of the next review"}
    reason: str = Field("", max_length=10_000)
    next_review_on_day: str = ""
    next_review_on_month: str = ""
    next_review_on_year: str = ""

    def check(self) -> dict[str, str]:
        errors = super().check()
        if "next_review_on" not in errors and self.date("next_review_on") is None:
            errors["next_review_on"] = "Enter the date of the next review"
        return errors


class DisposeForm(PageForm):
    REQUIRED = {"dispose_reason": "Select why the record is disposed of"}
    dispose_reason: str = ""
    confirmed: str = ""

    def check(self) -> dict[str, str]:
        if self.dispose_reason not in {r.value for r in DisposalReason}:
            return {"dispose_reason": self.REQUIRED["dispose_reason"]}
        return {}


@router.post("/retention/{review_id}/retain")
async def retain_submit(
    review_id: UUID,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
) -> Response:
    _officer(principal)
    retention = _service(services)
    review = await _find(retention, review_id)

    async def run(form: PageForm) -> None:
        assert isinstance(form, RetainForm)
        next_review_on = form.date("next_review_on")
        assert next_review_on is not None  # checked by the form
        await retention.retain(actor_of(principal), review_id, form.reason, next_review_on)

    kept = await attempt(RetainForm, await request.form(), run)
    if not isinstance(kept, Refused):
        return RedirectResponse(f"/retention/{review_id}?decided=retained", status_code=303)
    return await _review_page(
        services,
        request,
        principal,
        csrf,
        review,
        values=dict(kept.values),
        errors=kept.errors,
        status_code=kept.status,
    )


@router.post("/retention/{review_id}/dispose")
async def dispose_submit(
    review_id: UUID,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
) -> Response:
    """First the reason (checked), then a confirmation page; only a confirmed form disposes."""
    _officer(principal)
    retention = _service(services)
    review = await _find(retention, review_id)

    async def run(form: PageForm) -> DisposalReason | None:
        assert isinstance(form, DisposeForm)
        reason = DisposalReason(form.dispose_reason)
        if form.confirmed != "yes":
            return reason  # asked to confirm first
        await retention.dispose(actor_of(principal), review_id, reason)
        return None

    disposed = await attempt(DisposeForm, await request.form(), run)
    if isinstance(disposed, Refused):
        return await _review_page(
            services,
            request,
            principal,
            csrf,
            review,
            values=dict(disposed.values),
            errors=disposed.errors,
            status_code=disposed.status,
        )
    if disposed is not None:
        context: dict[str, Any] = {"review": review, "reason": disposed, "words": words}
        return render(
            services, request, "retention_confirm.html", principal=principal, csrf=csrf, **context
        )
    return RedirectResponse(f"/retention/{review_id}?decided=disposed", status_code=303)
