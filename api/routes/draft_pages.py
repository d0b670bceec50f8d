"""Keeping what was typed in a page form before the session ends: ``POST /drafts``.

The hook for signing in again without losing work. A page (the session-expiry warning,
say) posts its form here with ``draft_path``, the path of the page the form is on, and its
CSRF token; the values are kept as that person's draft for that page (sealed under the
request's subject where the page is a task's, else under the person's own draft key).
The page's next showing to the same person fills the form with them once
(:func:`restored`), whoever signed in in between. A draft is only ever read by the
person who typed it.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from api.deps import PagePrincipal, ServicesDep, csrf_protect
from api.services import Services
from api.task_context import open_task
from app.drafts import page_key
from domain.errors import ValidationFailed
from infra.auth import Principal

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

PATHS = re.compile(r"^/(requests/new|tasks/[0-9a-fA-F-]{36}:[a-z0-9_]{2,40}:[a-z_]{1,40}:\d{1,9})$")
"""The pages whose forms are kept: the new request and each task page."""
MAX_FIELDS = 200


@router.post("/drafts", status_code=204)
async def keep_draft(services: ServicesDep, request: Request, principal: PagePrincipal) -> Response:
    form = await request.form()
    path = form.get("draft_path")
    if not isinstance(path, str) or PATHS.fullmatch(path) is None:
        raise ValidationFailed("draft_path", "not a page whose form is kept")
    values: dict[str, Any] = {}
    for name, value in form.multi_items():
        if name in ("csrf_token", "draft_path") or not isinstance(value, str):
            continue
        if name in values:  # a list (checkboxes)
            listed = values[name] if isinstance(values[name], list) else [values[name]]
            values[name] = [*listed, value]
        else:
            values[name] = value
    if len(values) > MAX_FIELDS:
        raise ValidationFailed("form", f"at most {MAX_FIELDS} fields are kept")
    subject = await _subject(services, principal, path)
    await services.drafts.save(principal.user_id, page_key(path), subject, values)
    return Response(status_code=204)


async def _subject(services: Services, principal: Principal, path: str) -> UUID | None:
    if not path.startswith("/tasks/"):
        return None
    page = await open_task(services, principal, path.removeprefix("/tasks/"))
    return page.state.subject_id


async def restored(services: Services, principal: Principal, path: str) -> dict[str, Any]:
    """The values kept for this page and person, removed as they are shown (else empty)."""
    return await services.drafts.take(principal.user_id, page_key(path))
