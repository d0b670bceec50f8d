"""Pages for packages: the recipient's inbox, open and acknowledge; the sender's list and revoke.

Recipients see what was delivered to their agency; the sending agency's
workers and advisors see what it sent and may revoke a package nobody has
opened yet, with a reason. Every form carries the CSRF token (router-wide
``csrf_protect``) and calls the same :class:`app.packages.PackageService`
command as the API. A package of another agency is refused (403), an unknown
one is not found (404), as in the API.
"""

from __future__ import annotations

from uuid import UUID

import pydantic
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import CsrfToken, Packages, PagePrincipal, ServicesDep, csrf_protect, require_page
from api.forms import PageForm, Refused, attempt
from api.rendering import render
from api.request_forms import AcknowledgeForm, RevokeForm
from api.schemas.packages import PackageItem, RevokeBody
from api.services import Services
from app.identity import actor_of
from app.package_context import package_context
from app.packages import PackageService
from domain.errors import DomainError, InvalidState
from domain.permissions import Action, allows
from infra.auth import Principal

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

DONE = {"revoked": "The package has been revoked: the recipient agency can no longer open it."}


async def _agency_names(services: Services) -> dict[str, str]:
    return {a.code: a.name for a in await services.agencies.list()}


@router.get("/packages")
async def packages_page(
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    packages: Packages,
) -> Response:
    """Recipients: packages delivered to their agency. Workers, advisors: packages it sent."""
    require_page(principal, Action.RECEIVE_PACKAGE, Action.SEE_SENT_PACKAGES)
    actor = actor_of(principal)
    received = allows(principal, Action.RECEIVE_PACKAGE)
    return render(
        services,
        request,
        "packages.html",
        principal=principal,
        csrf=csrf,
        received=received,
        names=await _agency_names(services),
        packages=await (packages.inbox(actor) if received else packages.sent(actor)),
    )


async def _package_page(
    services: Services,
    request: Request,
    principal: Principal,
    csrf: str,
    packages: PackageService,
    package_id: UUID,
    *,
    errors: dict[str, str] | None = None,
    reason: str = "",
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    package = await packages.get(actor_of(principal), package_id)
    return render(
        services,
        request,
        "package_summary.html",
        principal=principal,
        csrf=csrf,
        package=package,
        names=await _agency_names(services),
        sender=allows(principal, Action.SEE_SENT_PACKAGES),
        errors=errors or {},
        reason=reason,
        done=DONE.get(done or ""),
        status_code=status_code,
    )


@router.get("/packages/{package_id}")
async def package_page(
    package_id: UUID,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    packages: Packages,
    done: str | None = None,
) -> Response:
    """One package's summary (never its content): where it went, when, and what became of it."""
    require_page(principal, Action.RECEIVE_PACKAGE, Action.SEE_SENT_PACKAGES)
    return await _package_page(services, request, principal, csrf, packages, package_id, done=done)


@router.post("/packages/{package_id}/revoke")
async def package_revoke(
    package_id: UUID,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    packages: Packages,
) -> Response:
    """The same command as ``POST /api/packages/{id}/revoke``: recall an unopened package."""
    require_page(principal, Action.REVOKE_PACKAGE)

    async def run(form: PageForm) -> None:
        body = RevokeBody.model_validate(form.body())
        await packages.revoke(actor_of(principal), package_id, body.reason)

    revoked = await attempt(RevokeForm, await request.form(), run)
    if not isinstance(revoked, Refused):
        return RedirectResponse(f"/packages/{package_id}?done=revoked", status_code=303)
    return await _package_page(
        services,
        request,
        principal,
        csrf,
        packages,
        package_id,
        errors=revoked.errors,
        reason=str(revoked.values.get("reason", "")),
        status_code=revoked.status,
    )


@router.post("/packages/{package_id}/open")
async def package_open(
    package_id: UUID,
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    packages: Packages,
) -> Response:
    """Opening is a recorded act, so it is a POST; the page shows what arrived."""
    require_page(principal, Action.RECEIVE_PACKAGE)
    opened = await packages.open(actor_of(principal), package_id)
    context = await package_context(
        services.events, services.keyring, opened.package.request_id, opened.package.sender_agency
    )
    return render(
        services,
        request,
        "package.html",
        principal=principal,
        csrf=csrf,
        package=opened.package,
        sha256=opened.sha256,
        items=[PackageItem.of(i) for i in opened.items],
        context=context,
        names=await _agency_names(services),
        error=None,
    )


@router.post("/packages/{package_id}/acknowledge")
async def package_acknowledge(
    package_id: UUID,
    request: Request,
    principal: PagePrincipal,
    packages: Packages,
) -> Response:
    require_page(principal, Action.RECEIVE_PACKAGE)

    async def run(form: PageForm) -> None:
        try:
            await packages.acknowledge(actor_of(principal), package_id, form.body()["sha256"])
        except pydantic.ValidationError:
            raise DomainError("the package's digest is not valid") from None

    done = await attempt(AcknowledgeForm, await request.form(), run)
    if isinstance(done, Refused):  # the opened package is not shown again unasked: say why
        message = next(iter(done.errors.values()))
        raise InvalidState(message) if done.status == 409 else DomainError(message)
    return RedirectResponse("/packages", status_code=303)
