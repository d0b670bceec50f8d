"""Every error as RFC 9457 problem details (``application/problem+json``).

One table maps exception classes to a status and a problem type; the domain's
errors are looked up by name in :mod:`domain.errors`, so the table keeps
working while that module grows. Messages come from the exceptions, which are
written to be safe to show (field names, codes, ids; never personal detail).
A crash becomes a bare 500 that names nothing of the internals; the log gets
the exception's type and where it was raised, not its message.

Browsers asking for a page get the same status and words as an HTML page, under the
signed-in header when the browser carries an open session (the person's own name, role
and menu: nothing of what was refused or not found).
"""

from __future__ import annotations

import contextlib
import re
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import domain.errors
from api import problem_docs
from api.problem_places import body_field
from api.rendering import render
from api.services import Services
from api.sessions import SESSION_COOKIE
from infra.auth import Forbidden, Principal, TooManyFailures, Unauthenticated
from infra.directory import AlreadyExistsError, NotFoundError
from infra.notifications import NotificationInbox

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:mashflow:problem:"


class FieldError(BaseModel):
    """One invalid input: where it is and what is wrong with it (never the value itself)."""

    field: str = Field(description="Dotted path of the field within its location, e.g. 'name'.")
    location: str = Field(description="body, query, path, header or cookie.")
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int
    detail: str | None = Field(default=None, description="What went wrong this time.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[FieldError] | None = Field(
        default=None, description="For 422: each invalid field."
    )
    codes: list[str] | None = Field(
        default=None, description="For an inconsistent decision: each problem's stable code."
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """For a route's ``responses=``: each status answered with problem details."""
    return {status: {"model": ProblemDetails} for status in statuses}


@dataclass(frozen=True)
class ProblemType:
    status: int
    slug: str
    title: str


_BY_STATUS = {
    400: ProblemType(400, "bad-request", "Bad request"),
    401: ProblemType(401, "unauthenticated", "Sign-in required"),
    403: ProblemType(403, "forbidden", "Not permitted"),
    404: ProblemType(404, "not-found", "Not found"),
    405: ProblemType(405, "method-not-allowed", "Method not allowed"),
    409: ProblemType(409, "conflict", "Conflict with the current state"),
    413: ProblemType(413, "too-large", "Request too large"),
    415: ProblemType(415, "unsupported-media-type", "Unsupported media type"),
    422: ProblemType(422, "validation", "Invalid input"),
    429: ProblemType(429, "too-many-requests", "Too many requests"),
    500: ProblemType(500, "internal", "Internal error"),
    503: ProblemType(503, "unavailable", "Service unavailable"),
}

_DOMAIN = {
    "ValidationFailed": ProblemType(422, "validation", "Invalid input"),
    "InconsistentDecision": ProblemType(422, "inconsistent-decision", "Inconsistent decision"),
    "NotPermitted": ProblemType(403, "forbidden", "Not permitted"),
    "AlreadyAnswered": ProblemType(409, "already-answered", "Already answered"),
    "InvalidState": ProblemType(409, "invalid-state", "Not possible at this stage"),
    "DomainError": ProblemType(400, "refused", "Refused by the rules"),
}

_EXCEPTIONS: dict[type[BaseException], ProblemType] = {
    Unauthenticated: _BY_STATUS[401],
    Forbidden: _BY_STATUS[403],
    TooManyFailures: _BY_STATUS[429],
    NotFoundError: _BY_STATUS[404],
    AlreadyExistsError: ProblemType(409, "already-exists", "Already exists"),
}


def register_problem(exc_type: type[BaseException], status: int, slug: str, title: str) -> None:
    """Map another exception class (say, the event store's concurrency error) to a problem."""
    _EXCEPTIONS[exc_type] = ProblemType(status, slug, title)


def kind_for_status(status: int) -> ProblemType:
    return _BY_STATUS.get(status) or ProblemType(status, f"http-{status}", "Error")


async def problem_response(
    request: Request,
    kind: ProblemType,
    detail: str | None,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    body = ProblemDetails(
        type=TYPE_PREFIX + kind.slug,
        title=kind.title,
        status=kind.status,
        detail=detail,
        instance=request.url.path,
        **extensions,
    )
    if _wants_page(request):
        page = await _render_page(request, body)
        if page is not None:
            page.headers.update(headers or {})
            return page
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=kind.status,
        media_type=MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


async def _render_page(request: Request, problem: ProblemDetails) -> Response | None:
    services = getattr(request.app.state, "services", None)
    if services is None:
        return None
    principal = await _signed_in(services, request)
    session = getattr(request.state, "session", None)
    return render(
        services,
        request,
        "error.html",
        principal=principal,
        csrf=session.csrf if principal is not None and session is not None else None,
        status_code=problem.status,
        problem=problem,
    )


async def _signed_in(services: Services, request: Request) -> Principal | None:
    """Who the browser's session is, for the page's header; None when no one is signed in
    or the session cannot be read (an error page never fails for want of its header)."""
    try:
        session = getattr(request.state, "session", None)
        if session is None:  # no page dependency ran (an unknown address, say)
            cookie = request.cookies.get(SESSION_COOKIE)
            session = await services.web_sessions.read(cookie, touch=False)
            request.state.session = session
        if session is None:
            return None
        principal = await services.authenticator.user(session.user_id)
        if principal is None:
            return None
        if not hasattr(request.state, "unseen"):
            request.state.unseen = await NotificationInbox(services.engine).unseen(
                principal.user_id
            )
        if principal.agency is not None and not hasattr(request.state, "agency_name"):
            with contextlib.suppress(NotFoundError):
                request.state.agency_name = (await services.agencies.get(principal.agency)).name
        return principal
    except Exception:  # the store may be what failed: show the page anonymously
        log.warning("error_page_header_unavailable")
        return None


# -- handlers ---------------------------------------------------------------------------------


def _kind_of(exc: BaseException) -> ProblemType | None:
    for cls in type(exc).__mro__:
        if cls in _EXCEPTIONS:
            return _EXCEPTIONS[cls]
        if cls.__module__ == domain.errors.__name__ and cls.__name__ in _DOMAIN:
            return _DOMAIN[cls.__name__]
    return None


async def _known_error(request: Request, exc: Exception) -> Response:
    kind = _kind_of(exc)
    if kind is None:  # registered by a superclass we no longer know: treat as a crash
        return await _crash(request, exc)
    extensions: dict[str, Any] = {}
    field = getattr(exc, "field", None)
    detail = getattr(exc, "message", None) or str(exc)
    if isinstance(field, str):
        message = detail.removeprefix(f"{field}: ")
        # A path parameter or a header by its name; a GET has no body, so otherwise its query.
        if field in request.path_params:
            location = "path"
        elif "-" in field and field in request.headers:  # a header (Idempotency-Key)
            location = "header"
        else:
            location = "query" if request.method in {"GET", "HEAD"} else "body"
        extensions["errors"] = [FieldError(field=field, location=location, message=message)]
    problems = getattr(exc, "problems", None)
    if isinstance(problems, Sequence):
        codes = [str(getattr(p, "code", "")) for p in problems]
        extensions["codes"] = codes
        # Each problem about a field of the body is named at that field, as any other 422.
        named = [
            (body_field(c), str(getattr(p, "message", "")))
            for c, p in zip(codes, problems, strict=True)
        ]
        location = "query" if request.method in {"GET", "HEAD"} else "body"
        fields = [FieldError(field=f, location=location, message=m) for f, m in named if f]
        if fields:
            extensions["errors"] = fields
    headers = {"WWW-Authenticate": "Bearer"} if kind.status == 401 else None
    retry_after = getattr(exc, "retry_after_s", None)
    if isinstance(retry_after, int):
        headers = {"Retry-After": str(retry_after)}
    return await problem_response(request, kind, detail, headers=headers, **extensions)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    kind = kind_for_status(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != kind.title else None
    if exc.status_code == 404 and detail in (None, "Not Found"):
        detail = f"nothing at {request.url.path}"
    if exc.status_code == 400 and detail == _UNPARSED and request.url.path.startswith("/api/"):
        # FastAPI's answer to a JSON body it could not decode at all (bytes that are not
        # UTF-8, nesting too deep): the same 422 as any other body that is not JSON.
        return await _not_json(request, "it is not UTF-8 JSON that can be read")
    return await problem_response(request, kind, detail, headers=exc.headers)


_UNPARSED = "There was an error parsing the body"
"""FastAPI's detail for a body it failed to parse (not for one it parsed and refused)."""


async def _not_json(request: Request, why: str) -> Response:
    message = f"the body is not valid JSON: {why}"
    errors = [FieldError(field="body", location="body", message=message)]
    return await problem_response(request, _BY_STATUS[422], f"body: {message}", errors=errors)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    content_type = request.headers.get("content-type", "")
    if isinstance(exc.body, bytes) and not _is_json(content_type):
        # FastAPI hands a JSON route the raw bytes of a body sent as anything but JSON.
        detail = "the body must be JSON, sent with 'Content-Type: application/json'"
        return await problem_response(request, _BY_STATUS[415], detail)
    decoding = [e for e in exc.errors() if e.get("type") == "json_invalid"]
    if decoding:
        error = decoding[0].get("ctx", {}).get("error", "")
        where = decoding[0].get("loc", ("body", "?"))[-1]
        return await _not_json(request, f"{error} at character {where}")
    errors = [_field_error(e) for e in exc.errors()]
    first = errors[0] if errors else None
    detail = f"{first.field}: {first.message}" if first else "the request is not valid"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    return await problem_response(request, _BY_STATUS[422], detail, errors=errors)


def _field_error(error: Mapping[str, Any]) -> FieldError:
    loc = [str(part) for part in error.get("loc", ())]
    location = loc[0] if loc and loc[0] in {"body", "query", "path", "header", "cookie"} else "body"
    path = loc[1:] if loc and loc[0] == location else loc
    message = str(error.get("msg", ""))
    kind = error.get("type")
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        # A tagged union's tag is wrong or missing: name the tag field, not the whole body.
        path = [*path, str(error.get("ctx", {}).get("discriminator", "")).strip("'\"")]
    elif kind == "value_error":
        # A model's own check says which of its fields it is about ("given_by: say who
        # gave consent"): name that field, and drop pydantic's "Value error, " prefix.
        message = message.removeprefix("Value error, ")
        named = _NAMED_FIELD.match(message)
        if named and (not path or path[-1] != named["field"]):
            path = [*path, *named["field"].split(".")]
            message = named["message"]
    # The message only, never ``input``: the rejected value may be personal data.
    return FieldError(field=".".join(path) or location, location=location, message=message)


_NAMED_FIELD = re.compile(r"(?P<field>[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*): (?P<message>.+)", re.S)


async def _crash(request: Request, exc: BaseException) -> Response:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    route = getattr(request.scope.get("route"), "path", "unmatched")
    log.error("unhandled_error", error_type=type(exc).__qualname__, where=where, route=route)
    return await problem_response(
        request, _BY_STATUS[500], "something went wrong on our side; it has been logged"
    )


def install_problem_handlers(app: FastAPI) -> None:
    handler: Callable[[Request, Exception], Any]
    for exc_type in (*_EXCEPTIONS, domain.errors.DomainError):
        handler = _known_error
        app.add_exception_handler(exc_type, handler)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(CrashAsProblem)
    problem_docs.document_problems(app, MEDIA_TYPE, lambda status: kind_for_status(status).title)


class CrashAsProblem:
    """Turn an unhandled exception into a plain 500 problem before the server logs internals."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            request = Request(scope, receive)
            # Classes registered after start-up have no handler of their own: map them here.
            if _kind_of(exc) is not None:
                response = await _known_error(request, exc)
            else:
                response = await _crash(request, exc)
            await response(scope, receive, send)
