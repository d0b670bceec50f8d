"""The application factory: the one place an API process wires itself together.

``create_app(settings)`` builds a FastAPI app with nothing global: the lifespan
opens the composition root (:func:`app.container.open_container`: the engine
unless one is passed in, the store, the Temporal client unless one is passed
in, the services), adds the API's own parts (:func:`api.services.build_services`)
and keeps them on ``app.state``; routes reach them through :mod:`api.deps`.

Adding a resource: write ``api/routes/<resource>.py`` with an ``APIRouter``
(request and response models in ``api/schemas/<resource>.py``, queries in a
repository or service, never in the route), then add it to :data:`ROUTERS`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client

from api.deps import CsrfRejected, SignInRequired
from api.limits import BodyLimit
from api.metrics import MetricsMiddleware
from api.problems import install_problem_handlers, kind_for_status, problem_response
from api.routes import (
    agencies,
    audit,
    audit_pages,
    consent,
    dashboard,
    draft_pages,
    health,
    me,
    notifications,
    oidc_signin,
    package_pages,
    packages,
    pages,
    question_pages,
    request_pages,
    requests_read,
    requests_write,
    retention_pages,
    session_pages,
    share_pages,
    task_pages,
    tasks_write,
    withdrawal_pages,
)
from api.services import build_services, new_metrics
from app.container import open_container
from infra.settings import Environment, Settings

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    me.router,
    requests_read.router,  # before agencies: /api/agencies/response-times
    agencies.router,
    pages.router,
    oidc_signin.router,
    session_pages.router,
    audit.router,
    audit.pages,
    audit_pages.pages,
    requests_write.router,
    tasks_write.router,
    consent.router,
    share_pages.router,
    packages.router,
    request_pages.router,
    task_pages.router,
    withdrawal_pages.router,
    question_pages.router,  # after task_pages: /tasks/{id}/done is theirs
    draft_pages.router,
    package_pages.router,
    retention_pages.router,
    dashboard.router,
    dashboard.pages,
    notifications.router,
    notifications.pages,
)

STATIC = Path(__file__).parent / "static"

DESCRIPTION = """\
Information sharing for multi-agency safeguarding hubs.

Authenticate with `Authorization: Bearer <token>`: a token issued by
`mashflow users add`, or (where the hub has single sign-on) a JWT from its
identity provider. Every error is an RFC 9457 problem (`application/problem+json`).

**Read your own writes.** A command (any `POST`) answers once the read models show
what it recorded, so the next read, by this client or any other, reflects it: a new
request's `href` answers at once, and a completed step's next task is in the inbox.
Lists show only what the workflows have recorded: every task listed can be completed,
every package listed can be opened. The wait is bounded (5 s); past it the command
still answers and its effect appears shortly after.

**Idempotency.** A task id is the idempotency key of a step: the same body again
answers as the first time and runs nothing twice; a different body under the same task
id and action is a 409 `already-answered` that says how the step was answered. A
completed step answers with `next_task_id`.

**Input.** Text fields refuse control characters other than tab and line breaks;
dates of birth fall between 1900 and today, items and protocols are dated from 1900. A refusal
(4xx) writes nothing.
"""


def create_app(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    temporal: Client | None = None,
) -> FastAPI:
    """A ready-to-serve app. An ``engine`` or ``temporal`` client passed in is the caller's
    to close; what is made here (from the settings) is closed when the app shuts down. A
    Temporal client made here connects on its first call: until the server answers, the
    process runs and ``/readyz`` says it is not ready."""
    metrics = new_metrics()
    production = settings.environment is Environment.PRODUCTION

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_container(settings, engine=engine, temporal=temporal, lazy=True) as c:
            app.state.services = build_services(c, metrics)
            yield

    app = FastAPI(
        title="mashflow",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Production serves no interactive docs (Swagger UI loads its script from a CDN);
        # the schema is still in the repository and at /openapi.json in development.
        docs_url=None if production else "/docs",
        openapi_url=None if production else "/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings  # how it is served (api.serve) depends on them too
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_problem_handlers(app)
    app.add_exception_handler(SignInRequired, _to_signin)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    app.add_middleware(SecurityHeaders, hsts=production)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    # Outermost: an oversized body is refused before any other layer reads a byte of it.
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_body_bytes)
    return app


async def _to_signin(request: Request, exc: Exception) -> Response:
    """To the sign-in page, with the page to come back to; a form that arrived too late is
    kept first, where its page can give it back (the sign-in page then says so)."""
    query = {}
    if isinstance(exc, SignInRequired):
        if exc.return_to and exc.return_to != "/":
            query["next"] = exc.return_to
        if exc.late is not None:
            user_id, form = exc.late
            services = request.app.state.services
            kept = await draft_pages.keep_late(services, user_id, exc.return_to, form)
            query["kept" if kept else "ended"] = "1"
    return RedirectResponse("/signin" + ("?" + urlencode(query) if query else ""), status_code=303)


async def _csrf_rejected(request: Request, _exc: Exception) -> Response:
    return await problem_response(
        request,
        kind_for_status(403),
        "the form has expired or did not come from this site; reload the page and try again",
    )


class SecurityHeaders:
    """Headers every response carries: no framing, no sniffing, no third-party anything."""

    HEADERS = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
    )
    CSP = (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
        b"form-action 'self'; base-uri 'none'",
    )

    HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
    """Production only: browsers then reach the hub over HTTPS alone (a TLS-terminating
    proxy in front serves it; plain-HTTP development would be locked out)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in self.HEADERS if k not in present]
                if self.hsts:
                    headers.append(self.HSTS)
                if scope["path"] != "/docs":  # Swagger UI loads its script from a CDN
                    headers.append(self.CSP)
                if not scope["path"].startswith(("/static/", "/metrics")):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
