"""How a page is rendered: the template response with what every page shows (who is
signed in, the role's navigation, the CSRF token), and the words pages use for the
domain's values. Shared by every page router; holds no route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request, Response

from api.forms import FormState
from api.services import Services
from api.sessions import CSRF_COOKIE
from domain.permissions import ROLE_NAMES, Action, allows
from domain.policy import deadline_words
from domain.vocabulary import (
    AdviceRecommendation,
    AdvisorCapacity,
    AtRiskKind,
    ConsentGiver,
    CouldNotObtainReason,
    NotInformedReason,
    NotShareReason,
    NotSoughtReason,
    Para18Reason,
    ProtectedRelation,
    PurposeCategory,
    Rating,
    Role,
    SubjectKind,
)
from infra.auth import Principal
from infra.directory import RegisteredAgency
from infra.settings import Environment

# The role's own pages: the cards on the home page and the links in every page's header.
ROLE_PAGES: dict[Role, list[tuple[str, str]]] = {
    Role.COORDINATOR: [
        ("Requests", "/requests"),
        ("Open a new request", "/requests/new"),
        ("Dashboard", "/dashboard"),
    ],
    Role.AGENCY_WORKER: [
        ("Your inbox", "/tasks"),
        ("Packages sent", "/packages"),
        ("Share without being asked", "/shares/new"),
    ],
    Role.ADVISOR: [
        ("Advice and approvals", "/tasks"),
        ("Packages sent", "/packages"),
        ("Dashboard", "/dashboard"),
    ],
    Role.RECIPIENT: [("Packages received", "/packages")],
    Role.COMPLIANCE_OFFICER: [
        ("Request histories", "/requests"),
        ("Retention reviews", "/retention"),
        ("Dashboard", "/dashboard"),
    ],
}


def render(
    services: Services,
    request: Request,
    name: str,
    *,
    principal: Principal | None,
    csrf: str | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    response = services.templates.TemplateResponse(
        request,
        name,
        {
            "principal": principal,
            "csrf_token": csrf,
            "role_title": ROLE_NAMES.get(principal.role) if principal else None,
            "may": _may(principal),
            "nav": ROLE_PAGES.get(principal.role, []) if principal else [],
            "path": request.url.path,
            "unseen": getattr(request.state, "unseen", 0),
            "agency_name": getattr(request.state, "agency_name", None),
            "session_timeout": _timeout(services, request, principal),
            "draft_restored": getattr(request.state, "draft_restored", False),
            **context,
        },
        status_code=status_code,
    )
    new_csrf = getattr(request.state, "set_csrf_cookie", None)
    if new_csrf is not None:
        set_cookie(services, request, response, CSRF_COOKIE, new_csrf, max_age=3600)
    return response


def render_case_form(
    services: Services,
    request: Request,
    name: str,
    *,
    principal: Principal,
    csrf: str,
    agencies: list[RegisteredAgency],
    form: FormState,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A form that starts a case (a new request, a share without being asked): the agencies
    to choose from, the hub's deadlines in words and the vocabulary's choices."""
    return render(
        services,
        request,
        name,
        principal=principal,
        csrf=csrf,
        agencies=agencies,
        form=form,
        status_code=status_code,
        deadlines=deadline_words(services.settings.hub_policy()),
        **VOCABULARY,
        **context,
    )


def _timeout(
    services: Services, request: Request, principal: Principal | None
) -> dict[str, int | None] | None:
    """For the timeout warning (templates/_timeout_warning.html): signed-in pages only."""
    session = getattr(request.state, "session", None)
    if principal is None or session is None:
        return None
    return services.web_sessions.timing(session)


def _may(principal: Principal | None) -> Callable[[str], bool]:
    """For templates: ``may("change_rating")`` asks the permission matrix of the signer."""

    def may(action: str) -> bool:
        return principal is not None and allows(principal, Action(action))

    return may


def set_cookie(
    services: Services, request: Request, response: Response, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https"
        or services.settings.environment is Environment.PRODUCTION,
        path="/",
    )


def words(value: object) -> str:
    """An enum value as plain words: ``significant_harm_to_child`` -> significant harm to child."""
    return str(value).replace("_", " ")


VOCABULARY: dict[str, Any] = {
    "subject_kinds": list(SubjectKind),
    "purposes": list(PurposeCategory),
    "ratings": list(Rating),
    "not_sought": list(NotSoughtReason),
    "could_not_obtain": list(CouldNotObtainReason),
    "recommendations": list(AdviceRecommendation),
    "not_share": list(NotShareReason),
    "not_informed": list(NotInformedReason),
    "relations": list(ProtectedRelation),
    "capacities": list(AdvisorCapacity),
    "consent_givers": list(ConsentGiver),
    "at_risk_kinds": list(AtRiskKind),
    "para18_all": list(Para18Reason),
    "words": words,
}
