"""Signing in to the pages through the hub's identity provider (OIDC, authorisation code
with PKCE S256).

``GET /signin/oidc`` starts a sign-in: its state, nonce and code verifier are kept on
the server (:class:`infra.oidc_client.OidcClient`), the state also in a short-lived
cookie of this browser, and the browser goes to the provider. ``GET
/signin/oidc/callback`` takes the sign-in back once (the state must match the
browser's cookie and a sign-in started here in the last minutes, never used before),
trades the code and the verifier for the ID token, checks the token (signature by the
issuer's keys, issuer, audience = this client, expiry, the sign-in's nonce), maps its
groups through the hub's allow list and starts a server-side session that ends when the
token does. Every refusal is a page that says what happened and how to go on; none
repeats a code, a token or a claim.

Signing out of a session started here ends it on the server, then
(:func:`sign_out_at_provider`) sends the browser to the provider's
``end_session_endpoint`` (OpenID Connect RP-Initiated Logout 1.0: the session's ID
token as ``id_token_hint``, the registered ``post_logout_redirect_uri``, a ``state``
also kept in a short-lived cookie), which sends it back to ``GET /signed-out``: "You
have signed out", of the provider too when the state matches. A provider without that
endpoint (or one that cannot be reached) leaves its own session: the page says so.
"""

from __future__ import annotations

import secrets

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import OptionalPagePrincipal, ServicesDep
from api.rendering import render, set_cookie
from api.returns import local_path
from api.services import Services
from api.sessions import tokens_match
from api.signing_in import start_session
from infra.auth import Forbidden, Revoked, Unauthenticated
from infra.directory import NotFoundError
from infra.oidc_client import (
    LOGIN_TTL_S,
    SIGNED_OUT_PATH,
    OidcClient,
    OidcSignInError,
    TooManySignIns,
)

log = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False)

STATE_COOKIE = "mashflow_oidc_state"
SIGNOUT_COOKIE = "mashflow_oidc_signout"
SIGNOUT_TTL_S = 600
"""The provider must send the browser back within ten minutes for the page to confirm it."""


def _client(services: Services) -> OidcClient:
    if services.oidc is None:
        raise NotFoundError("this hub does not offer sign-in through an identity provider")
    return services.oidc


def _refused(
    services: Services,
    request: Request,
    status_code: int,
    heading: str,
    reason: str,
    advice: str | None = None,
) -> Response:
    # The outcome only: never the code, a token, a claim or who it was.
    log.info("oidc_sign_in_refused", status=status_code, outcome=heading)
    response = render(
        services,
        request,
        "signin_refused.html",
        principal=None,
        csrf=None,
        heading=heading,
        reason=reason,
        advice=advice,
        status_code=status_code,
    )
    response.delete_cookie(STATE_COOKIE, path="/")
    return response


@router.get("/signin/oidc")
async def start(
    services: ServicesDep, request: Request, principal: OptionalPagePrincipal, next: str = ""
) -> Response:
    oidc = _client(services)
    if principal is not None:
        return RedirectResponse(local_path(next) or "/", status_code=303)
    try:
        state, url = await oidc.start(local_path(next) or "")
    except TooManySignIns:
        refused = _refused(
            services,
            request,
            503,
            "Sign-in is busy",
            "Too many sign-ins are under way at the moment.",
            "Try again in a few minutes, or sign in with an access token.",
        )
        refused.headers["Retry-After"] = str(LOGIN_TTL_S // 2)
        return refused
    except OidcSignInError as exc:
        return _refused(
            services,
            request,
            502,
            "Sign-in is not available",
            f"We could not start signing you in: {exc}.",
            "Try again in a few minutes, or sign in with an access token.",
        )
    response = RedirectResponse(url, status_code=303)
    set_cookie(services, request, response, STATE_COOKIE, state, max_age=LOGIN_TTL_S)
    return response


@router.get("/signin/oidc/callback")
async def callback(
    services: ServicesDep,
    request: Request,
    state: str = "",
    code: str = "",
    error: str = "",
) -> Response:
    oidc = _client(services)
    pending = None
    if tokens_match(request.cookies.get(STATE_COOKIE), state):
        pending = await oidc.take(state)
    if pending is None:
        return _refused(
            services,
            request,
            400,
            "This sign-in has expired",
            "This sign-in was not started in this browser, took longer than "
            f"{LOGIN_TTL_S // 60} minutes, or has already been used.",
            "Start again from the sign-in page.",
        )
    if error or not code:
        return _refused(
            services,
            request,
            401,
            "You are not signed in",
            f"Signing in with {oidc.provider_name} was cancelled or refused there.",
        )
    try:
        id_token = await oidc.exchange(code, pending.code_verifier)
        principal = await services.authenticator.from_id_token(
            id_token, client_id=oidc.client_id, nonce=pending.nonce
        )
    except OidcSignInError as exc:
        return _refused(services, request, 401, "You are not signed in", f"Not signed in: {exc}.")
    except Forbidden as exc:
        return _refused(
            services,
            request,
            403,
            "You cannot use mashflow with this account",
            f"Your account is genuine, but this hub does not admit it: {exc}.",
            "Ask your hub administrator to check the groups your account is in.",
        )
    except Revoked:
        return _refused(
            services,
            request,
            403,
            "Your access to mashflow has been removed",
            "Your hub has revoked your access, so you cannot sign in.",
            "Ask your hub administrator if you think this is wrong.",
        )
    except Unauthenticated as exc:
        return _refused(services, request, 401, "You are not signed in", f"Not signed in: {exc}.")
    log.info("oidc_sign_in", user_id=str(principal.user_id), role=principal.role.value)
    response = await start_session(
        services, request, principal, pending.return_to, id_token=id_token
    )
    response.delete_cookie(STATE_COOKIE, path="/")
    return response


async def sign_out_at_provider(services: Services, request: Request, id_token: str) -> Response:
    """After the hub's session has ended: to the provider's ``end_session_endpoint`` (the
    state in a short-lived cookie), or, where it offers none or cannot be reached, to the
    signed-out page saying the provider's own session goes on."""
    if services.oidc is None:  # the hub no longer signs in through a provider
        return RedirectResponse("/signin", status_code=303)
    state = secrets.token_urlsafe(32)
    try:
        url = await services.oidc.end_session_url(id_token, state)
    except OidcSignInError:
        log.info("oidc_sign_out_not_sent", reason="provider_unreachable")
        url = None
    if url is None:
        return RedirectResponse(f"{SIGNED_OUT_PATH}?provider=kept", status_code=303)
    log.info("oidc_sign_out_sent")
    response = RedirectResponse(url, status_code=303)
    set_cookie(services, request, response, SIGNOUT_COOKIE, state, max_age=SIGNOUT_TTL_S)
    return response


@router.get(SIGNED_OUT_PATH)
async def signed_out(
    services: ServicesDep,
    request: Request,
    principal: OptionalPagePrincipal,
    state: str = "",
    provider: str = "",
) -> Response:
    """ "You have signed out": of the provider too when it sent back this browser's state;
    that its session goes on when it offers no sign-out; else that it could not be told."""
    if principal is not None:  # signed in (again): nothing here is true of them
        return RedirectResponse("/", status_code=303)
    if tokens_match(request.cookies.get(SIGNOUT_COOKIE), state):
        at_provider = "ended"
    elif provider == "kept":
        at_provider = "kept"
    else:
        at_provider = "unknown"
    response = render(
        services,
        request,
        "signed_out.html",
        principal=None,
        csrf=None,
        at_provider=at_provider,
        provider=services.oidc.provider_name if services.oidc is not None else None,
    )
    response.delete_cookie(SIGNOUT_COOKIE, path="/")
    return response
