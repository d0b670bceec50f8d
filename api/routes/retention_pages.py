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

from api.deps import CsrfToken, PagePrincipal, ServicesDep, csrf_protect
from api.forms import form_text
from api.rendering import render, words
from api.services import Services
from app.identity import actor_of
from app.retention import MAX_REASON, RetentionReview, RetentionService, ReviewNotFoundError
from domain.errors import DomainError, ValidationFailed
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


def _refused(exc: DomainError) -> dict[str, str]:
    if isinstance(exc, ValidationFailed):
        return {exc.field: exc.message.removeprefix(f"{exc.field}: ")}
    return {"form": exc.message}


def _status(exc: DomainError) -> int:
    """Bad input is 422; a review already decided (or any other refusal) is 409."""
    return 422 if isinstance(exc, ValidationFailed) else 409


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
    form = await request.form()
    values = {
        "reason": form_text(form, "reason"),
        "next_review_on": form_text(form, "next_review_on"),
    }
    errors: dict[str, str] = {}
    status = 422
    if not values["reason"].strip():
        errors["reason"] = "give the reason the record is kept"
    next_review_on: date | None = None
    if not values["next_review_on"]:
        errors["next_review_on"] = "give the date of the next review"
    else:
        try:
            next_review_on = date.fromisoformat(values["next_review_on"])
        except ValueError:
            errors["next_review_on"] = "not a date; give it as YYYY-MM-DD"
    if not errors and next_review_on is not None:
        try:
            await retention.retain(actor_of(principal), review_id, values["reason"], next_review_on)
        except DomainError as exc:
            errors = _refused(exc)
            status = _status(exc)
        else:
            return RedirectResponse(f"/retention/{review_id}?decided=retained", status_code=303)
    return await _review_page(
        services, request, principal, csrf, review, values=values, errors=errors, status_code=status
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
    form = await request.form()
    chosen = form_text(form, "dispose_reason")
    try:
        reason = DisposalReason(chosen)
    except ValueError:
        return await _review_page(
            services,
            request,
            principal,
            csrf,
            review,
            errors={"dispose_reason": "choose why the record is disposed of"},
            status_code=422,
        )
    if form_text(form, "confirmed") != "yes":
        context: dict[str, Any] = {"review": review, "reason": reason, "words": words}
        return render(
            services, request, "retention_confirm.html", principal=principal, csrf=csrf, **context
        )
    try:
        await retention.dispose(actor_of(principal), review_id, reason)
    except DomainError as exc:
        values = {"dispose_reason": chosen}
        return await _review_page(
            services,
            request,
            principal,
            csrf,
            review,
            values=values,
            errors=_refused(exc),
            status_code=_status(exc),
        )
    return RedirectResponse(f"/retention/{review_id}?decided=disposed", status_code=303)
