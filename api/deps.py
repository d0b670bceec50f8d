"""Dependencies for routes, as ``Annotated`` aliases: the one place routes get what they need.

``CurrentPrincipal`` authenticates the API's bearer token (a directory token or,
where configured, an OIDC JWT). ``permitted(action)`` narrows it to the roles the
permission matrix (:mod:`domain.permissions`) lets take that action::

    @router.post("/things")
    async def add(principal: Annotated[Principal, permitted(Action.MANAGE_REGISTER)]) -> ...

Where the action concerns one agency, the route (or the service it calls) checks
the agency with :func:`domain.permissions.require` once it knows which.

Pages use ``PagePrincipal`` (the session cookie; no session redirects to the
sign-in page) and every form POST passes the router-wide ``csrf_protect``.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import FormData

from api.returns import form_page, local_path
from api.services import Services
from api.sessions import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, Session, tokens_match
from app.identity import actor_of
from app.packages import PackageService
from app.requests import RequestService
from app.retention import RetentionService
from domain.models import Actor
from domain.permissions import Action, allows, roles_for
from infra.auth import Forbidden, Principal, Unauthenticated
from infra.directory import AgencyDirectory, NotFoundError
from infra.notifications import NotificationInbox
from infra.users import UserDirectory

_bearer = HTTPBearer(
    auto_error=False,
    description="A mashflow token (mf_...) from `mashflow users add`, or an OIDC JWT.",
)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_agencies(services: ServicesDep) -> AgencyDirectory:
    return services.agencies


def get_users(services: ServicesDep) -> UserDirectory:
    return services.users


def get_requests(services: ServicesDep) -> RequestService:
    return services.requests


def get_packages(services: ServicesDep) -> PackageService:
    return services.packages


def get_retention(services: ServicesDep) -> RetentionService:
    return services.retention


Agencies = Annotated[AgencyDirectory, Depends(get_agencies)]
Users = Annotated[UserDirectory, Depends(get_users)]
Requests = Annotated[RequestService, Depends(get_requests)]
Packages = Annotated[PackageService, Depends(get_packages)]
Retention = Annotated[RetentionService, Depends(get_retention)]


def client_address(request: Request) -> str:
    """Who is calling, as far as failed sign-ins are counted: the peer's address."""
    return request.client.host if request.client is not None else "unknown"


async def current_principal(
    services: ServicesDep,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("send 'Authorization: Bearer <token>'")
    return await services.authenticator.sign_in(credentials.credentials, client_address(request))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def current_actor(principal: CurrentPrincipal) -> Actor:
    return actor_of(principal)


CurrentActor = Annotated[Actor, Depends(current_actor)]
"""The bearer's principal as the domain records them (see :func:`app.identity.actor_of`)."""


def permitted(action: Action) -> Any:
    """A dependency admitting only principals the matrix lets take ``action`` (403 otherwise)."""
    names = " or ".join(sorted(r.value for r in roles_for(action)))

    async def check(principal: CurrentPrincipal) -> Principal:
        if not allows(principal, action):
            raise Forbidden(f"this needs the {names} role")
        return principal

    return Depends(check)


RequestOpener = Annotated[Principal, permitted(Action.OPEN_REQUEST)]
ProactiveSharer = Annotated[Principal, permitted(Action.SHARE_PROACTIVELY)]
Decider = Annotated[Principal, permitted(Action.DECIDE)]
RequestWithdrawer = Annotated[Principal, permitted(Action.WITHDRAW_REQUEST)]
RequestRerater = Annotated[Principal, permitted(Action.CHANGE_RATING)]
Overseer = Annotated[Principal, permitted(Action.FOLLOW_REQUESTS)]
RegisterKeeper = Annotated[Principal, permitted(Action.MANAGE_REGISTER)]
TaskWorker = Annotated[Principal, permitted(Action.WORK_TASKS)]
HistoryReader = Annotated[Principal, permitted(Action.REPLAY_HISTORY)]
DashboardViewer = Annotated[Principal, permitted(Action.SEE_DASHBOARD)]


def require_page(principal: Principal, *actions: Action) -> None:
    """A page for those who may take one of ``actions`` (403 otherwise; the agency is
    checked where the page knows it)."""
    if not any(allows(principal, action) for action in actions):
        raise Forbidden("this page is not for your role")


# -- web pages ------------------------------------------------------------------------------


class SignInRequired(Exception):  # noqa: N818 - control flow: becomes a redirect
    """A page needs a signed-in user; the handler redirects to the sign-in page, which
    sends them back to ``return_to`` (a local path) afterwards. ``late``: a form that
    arrived after its session ended, with that session's user, for the handler to keep
    as their draft (:func:`api.routes.draft_pages.keep_late`)."""

    def __init__(
        self, return_to: str | None = None, *, late: tuple[uuid.UUID, FormData] | None = None
    ) -> None:
        super().__init__("sign in")
        self.return_to = return_to
        self.late = late


class CsrfRejected(Exception):  # noqa: N818
    """A form POST without the right CSRF token."""


async def current_session(services: ServicesDep, request: Request) -> Session | None:
    session = await services.web_sessions.read(request.cookies.get(SESSION_COOKIE))
    request.state.session = session  # the page's timeout warning reads when it ends
    return session


SessionDep = Annotated[Session | None, Depends(current_session)]


async def optional_page_principal(services: ServicesDep, session: SessionDep) -> Principal | None:
    if session is None:
        return None
    return await services.authenticator.user(session.user_id)


OptionalPagePrincipal = Annotated[Principal | None, Depends(optional_page_principal)]


async def page_principal(
    principal: OptionalPagePrincipal, services: ServicesDep, request: Request
) -> Principal:
    if principal is None:
        raise SignInRequired(local_path(request.url.path) if request.method == "GET" else None)
    # The count of new notifications every page's header shows, and the person's agency by name.
    request.state.unseen = await NotificationInbox(services.engine).unseen(principal.user_id)
    if principal.agency is not None:
        with contextlib.suppress(NotFoundError):
            request.state.agency_name = (await services.agencies.get(principal.agency)).name
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def csrf_token(services: ServicesDep, request: Request, session: SessionDep) -> str:
    """The token the page's forms must carry (the session's, or the pre-sign-in cookie's)."""
    if session is not None:
        return session.csrf
    cookie = request.cookies.get(CSRF_COOKIE)
    if services.sessions.anonymous_csrf_valid(cookie) and cookie is not None:
        return cookie
    token = services.sessions.anonymous_csrf()
    request.state.set_csrf_cookie = token  # the page route's response sets it
    return token


CsrfToken = Annotated[str, Depends(csrf_token)]


async def csrf_protect(services: ServicesDep, request: Request, session: SessionDep) -> None:
    """Router-wide on the pages: every unsafe request must carry the right ``csrf_token``."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    form = await request.form()
    given = form.get(CSRF_FIELD)
    given_text = given if isinstance(given, str) else None
    if session is not None:
        expected: str | None = session.csrf
    else:
        await _keep_if_lapsed(services, request, form, given_text)
        cookie = request.cookies.get(CSRF_COOKIE)
        expected = cookie if services.sessions.anonymous_csrf_valid(cookie) else None
    if not tokens_match(expected, given_text):
        raise CsrfRejected()


async def _keep_if_lapsed(
    services: Services, request: Request, form: FormData, given: str | None
) -> None:
    """A form posted from a session that has ended since (and carrying its CSRF token):
    nothing is acted on; what was typed is kept for its user (where the form's page can
    give it back: the handler does it) and they are sent to sign in, then back to the
    form's page."""
    lapsed = await services.web_sessions.lapsed(request.cookies.get(SESSION_COOKIE))
    if lapsed is None or not tokens_match(lapsed.csrf, given):
        return
    page = None if request.url.path == "/signout" else form_page(request)
    raise SignInRequired(page, late=(lapsed.user_id, form))
