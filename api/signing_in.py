"""What every way of signing in to the pages ends with: a server-side session and the
way back to where the person was going (or to the form whose draft was kept)."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from api.rendering import set_cookie
from api.returns import local_path
from api.services import Services
from api.sessions import CSRF_COOKIE, SESSION_COOKIE
from infra.auth import Principal


async def start_session(
    services: Services,
    request: Request,
    principal: Principal,
    return_to: str | None,
    *,
    id_token: str | None = None,
) -> Response:
    """Issue the session (ending with a sign-on token's expiry, if it came with one) and
    send the person on: to ``return_to`` if it is a local path, else home. A sign-in
    through the identity provider keeps its ``id_token`` for signing out there too."""
    cookie, _ = await services.web_sessions.issue(
        principal.user_id, token_expires_at=principal.expires_at, id_token=id_token
    )
    target = local_path(return_to) or "/"
    response = RedirectResponse(target, status_code=303)
    set_cookie(
        services,
        request,
        response,
        SESSION_COOKIE,
        cookie,
        max_age=services.web_sessions.max_age_s,
    )
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
