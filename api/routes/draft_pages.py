"""Keeping what was typed in a page form before the session ends: ``POST /drafts``.

The hook for signing in again without losing work. A page (the session-expiry warning,
say) posts its form here with ``draft_path``, the path of the page the form is on, and its
CSRF token; the values are kept as that person's draft for that page (sealed under the
request's subject where the page is a task's, else under the person's own draft key).
The page's next showing to the same person fills the form with them once
(:func:`restored`), whoever signed in in between. A draft is only ever read by the
person who typed it.

A form that arrives after its session ended (it still carries that session's cookie and
CSRF token) is kept the same way by :func:`keep_late`, for the session's person, and is
not acted on; the person is sent to sign in and then back to the page.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from api.deps import PagePrincipal, ServicesDep, csrf_protect
from api.services import Services
from api.task_context import open_task
from app.consent_withdrawal import subject_of
from app.drafts import KEPT_PAGES, page_key
from app.identity import actor_of
from domain.errors import DomainError, ValidationFailed
from domain.permissions import Action, require
from infra.auth import AuthError, Principal
from infra.directory import NotFoundError

log = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

MAX_FIELDS = 200
WITHDRAWAL = "record that consent was withdrawn"
_DATE_BOX = re.compile(r"^(.+)-(day|month|year)$")


@router.post("/drafts", status_code=204)
async def keep_draft(services: ServicesDep, request: Request, principal: PagePrincipal) -> Response:
    form = await request.form()
    path = form.get("draft_path")
    if not isinstance(path, str) or KEPT_PAGES.fullmatch(path) is None:
        raise ValidationFailed("draft_path", "not a page whose form is kept")
    await keep(services, principal, path, form)
    return Response(status_code=204)


async def keep_late(services: Services, user_id: UUID, path: str | None, form: FormData) -> bool:
    """A form that arrived after its session ended (:class:`api.deps.SignInRequired` with
    ``late``): kept as the same person's draft of ``path`` (the page it was on) when that
    page's form is kept and the person may still open it; True if it was kept."""
    if path is None or KEPT_PAGES.fullmatch(path) is None:
        return False
    principal = await services.authenticator.user(user_id)
    if principal is None:
        return False
    try:
        await keep(services, principal, path, form)
    except (DomainError, AuthError, NotFoundError):
        return False
    except Exception as exc:  # the way to sign in must not fail with it
        log.warning("late_form_not_kept", error_type=type(exc).__name__)
        return False
    return True


async def keep(services: Services, principal: Principal, path: str, form: FormData) -> None:
    """``form``'s fields (not its CSRF token or ``draft_path``) as ``principal``'s draft of
    the page at ``path``."""
    values: dict[str, Any] = {}
    for name, value in form.multi_items():
        if name in ("csrf_token", "draft_path") or not isinstance(value, str):
            continue
        # A GOV.UK date input's boxes (<name>-day) are kept as the form's values hold them.
        name = _DATE_BOX.sub(r"\1_\2", name)
        if name in values:  # a list (checkboxes)
            listed = values[name] if isinstance(values[name], list) else [values[name]]
            values[name] = [*listed, value]
        else:
            values[name] = value
    if len(values) > MAX_FIELDS:
        raise ValidationFailed("form", f"at most {MAX_FIELDS} fields are kept")
    subject = await _subject(services, principal, path)
    await services.drafts.save(principal.user_id, page_key(path), subject, values)


async def _subject(services: Services, principal: Principal, path: str) -> UUID | None:
    parts = path.split("/")
    if path.startswith("/requests/") and path.endswith("/consent-withdrawal"):
        # /requests/<id>/agencies/<agency>/consent-withdrawal: a worker of that agency
        require(actor_of(principal), Action.DECIDE, parts[4], doing=WITHDRAWAL)
        return await subject_of(services.events, UUID(parts[2]))
    if not path.startswith("/tasks/"):
        return None
    page = await open_task(services, principal, parts[2])
    return page.state.subject_id


async def restored(services: Services, principal: Principal, path: str) -> dict[str, Any]:
    """The values kept for this page and person, removed as they are shown (else empty)."""
    return await services.drafts.take(principal.user_id, page_key(path))
