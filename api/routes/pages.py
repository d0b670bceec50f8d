"""Server-rendered pages: sign-in, sign-out, home, the agency register.

Every unsafe request on this router passes ``csrf_protect`` (router-wide), so
a new form POST cannot forget it. Templates autoescape everything.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import (
    Agencies,
    CsrfToken,
    OptionalPagePrincipal,
    PagePrincipal,
    ServicesDep,
    client_address,
    csrf_protect,
)
from api.rendering import ROLE_PAGES, render
from api.returns import local_path
from api.routes.oidc_signin import sign_out_at_provider
from api.sessions import SESSION_COOKIE
from api.signing_in import start_session
from domain.vocabulary import Role
from infra.auth import AuthError, Principal, TooManyFailures

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

MAX_TOKEN = 8192


ROLE_INTRO = {
    Role.COORDINATOR: "Open sharing requests for a requesting agency and follow their progress.",
    Role.AGENCY_WORKER: "Work your agency's tasks: purpose, consent, the decision, what to send.",
    Role.ADVISOR: "Give advice where a worker is in doubt and approve sharing without consent.",
    Role.RECIPIENT: "Open the packages delivered to your agency and acknowledge them.",
    Role.COMPLIANCE_OFFICER: "Replay and verify request histories and run retention reviews.",
}

COMMON_PAGES = [("Agency register", "/agencies")]


@router.get("/")
async def home(
    services: ServicesDep, request: Request, principal: PagePrincipal, csrf: CsrfToken
) -> Response:
    return render(
        services,
        request,
        "home.html",
        principal=principal,
        csrf=csrf,
        intro=ROLE_INTRO[principal.role],
        links=ROLE_PAGES.get(principal.role, []) + COMMON_PAGES,
    )


@router.get("/signin")
async def signin_form(
    services: ServicesDep, request: Request, principal: OptionalPagePrincipal, csrf: CsrfToken
) -> Response:
    if principal is not None:
        return RedirectResponse(local_path(request.query_params.get("next")) or "/", 303)
    query = request.query_params
    return _signin_page(
        services,
        request,
        csrf,
        None,
        query.get("next"),
        kept=query.get("kept") == "1",
        ended=query.get("ended") == "1",
    )


def _signin_page(
    services: ServicesDep,
    request: Request,
    csrf: str,
    error: str | None,
    next_page: str | None,
    status_code: int = 200,
    *,
    kept: bool = False,
    ended: bool = False,
) -> Response:
    return render(
        services,
        request,
        "signin.html",
        principal=None,
        csrf=csrf,
        error=error,
        next_page=local_path(next_page),
        kept=kept,
        ended=ended,
        provider=services.oidc.provider_name if services.oidc is not None else None,
        status_code=status_code,
    )


@router.post("/signin")
async def signin(
    services: ServicesDep,
    request: Request,
    csrf: CsrfToken,
    token: Annotated[str, Form()] = "",
    next_page: Annotated[str, Form(alias="next")] = "",
    kept: Annotated[str, Form()] = "",
) -> Response:
    token = token.strip()
    error = None
    principal: Principal | None = None
    status_code, headers = 401, {}
    if not token:
        error = "Enter your access token."
    elif len(token) > MAX_TOKEN:
        error = "That is not an access token."
    else:
        try:
            principal = await services.authenticator.sign_in(token, client_address(request))
        except TooManyFailures as exc:
            error = f"Not signed in: {exc}."
            status_code, headers = 429, {"Retry-After": str(exc.retry_after_s)}
        except AuthError as exc:
            error = f"Not signed in: {exc}."
    if principal is None:
        refused = _signin_page(
            services, request, csrf, error, next_page, status_code, kept=kept == "1"
        )
        refused.headers.update(headers)
        return refused
    return await start_session(services, request, principal, next_page)


@router.post("/signout")
async def signout(services: ServicesDep, request: Request) -> Response:
    """Ends the session on the server: the cookie, or any copy of it, opens nothing again.
    A session started through the identity provider then signs out there too."""
    id_token = await services.web_sessions.end(request.cookies.get(SESSION_COOKIE))
    if id_token is not None:
        response = await sign_out_at_provider(services, request, id_token)
    else:
        response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/agencies")
async def agencies_page(
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    agencies: Agencies,
) -> Response:
    today = datetime.now(UTC).date()
    register = await agencies.list()
    return render(
        services,
        request,
        "agencies.html",
        principal=principal,
        csrf=csrf,
        agencies=register,
        protocols=[(p, p.in_force(today)) for p in await agencies.protocols()],
        names={a.code: a.name for a in register},
    )
