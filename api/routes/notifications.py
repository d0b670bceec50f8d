"""Notifications for the signed-in person: the list (with the count in every page's
header), the address to e-mail them at, and the same list as JSON.

Opening the list marks everything on it as seen. Setting an address asks for e-mails
of the kinds that need someone to act (``app.notifications.EMAILED``) from then on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from api.deps import CsrfToken, CurrentPrincipal, PagePrincipal, ServicesDep, csrf_protect
from api.rendering import render
from api.services import Services
from app.notifications import EMAILED, link, wording
from domain.errors import ValidationFailed
from domain.vocabulary import Role
from infra.auth import Principal
from infra.notifications import MAX_EMAIL, NotificationInbox
from infra.packages import Notification

router = APIRouter(prefix="/api", tags=["notifications"])
pages = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


class NotificationResponse(BaseModel):
    notification_id: str
    kind: str
    title: str
    says: str
    request_id: str
    agency: str | None
    due_at: datetime | None
    created_at: datetime
    link: str
    """Where the caller acts on it (a path on this site)."""
    emailed: bool
    """Of a kind sent by e-mail too, to people who set an address."""


class NotificationList(BaseModel):
    unseen: int
    notifications: list[NotificationResponse]


def _shown(note: Notification, role: Role) -> NotificationResponse:
    title, says = wording(note)
    return NotificationResponse(
        notification_id=str(note.notification_id),
        kind=note.kind,
        title=title,
        says=says,
        request_id=str(note.request_id),
        agency=note.agency,
        due_at=note.due_at,
        created_at=note.created_at,
        link=link(note, role),
        emailed=note.kind in EMAILED,
    )


@router.get("/notifications", response_model=NotificationList)
async def notifications(principal: CurrentPrincipal, services: ServicesDep) -> NotificationList:
    """The caller's notifications, newest first, and how many are unseen (not marked)."""
    inbox = NotificationInbox(services.engine)
    found = await inbox.for_user(principal.user_id)
    return NotificationList(
        unseen=await inbox.unseen(principal.user_id),
        notifications=[_shown(n, principal.role) for n in found],
    )


async def _page(
    services: Services,
    request: Request,
    principal: Principal,
    csrf: str,
    *,
    email: str,
    errors: dict[str, str],
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    inbox = NotificationInbox(services.engine)
    now = datetime.now(UTC)
    found = await inbox.for_user(principal.user_id)
    unseen = await inbox.unseen(principal.user_id)
    await inbox.mark_seen(principal.user_id, max([now, *(n.created_at for n in found)]))
    request.state.unseen = 0
    return render(
        services,
        request,
        "notifications.html",
        principal=principal,
        csrf=csrf,
        notes=[_shown(n, principal.role) for n in found],
        new=unseen,
        email=email,
        errors=errors,
        done=done,
        max_email=MAX_EMAIL,
        now=now,
        status_code=status_code,
    )


@pages.get("/notifications")
async def notifications_page(
    services: ServicesDep, request: Request, principal: PagePrincipal, csrf: CsrfToken
) -> Response:
    email = await NotificationInbox(services.engine).email(principal.user_id)
    done = {"saved": "Your e-mail address is saved.", "removed": "You will not be e-mailed."}
    return await _page(
        services,
        request,
        principal,
        csrf,
        email=email or "",
        errors={},
        done=done.get(request.query_params.get("done", "")),
    )


@pages.post("/notifications/email")
async def email_submit(
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    email: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Save the address to e-mail the person at; an empty one stops e-mails."""
    inbox = NotificationInbox(services.engine)
    try:
        await inbox.set_email(principal.user_id, email.strip() or None, datetime.now(UTC))
    except ValidationFailed as exc:
        message = str(exc).removeprefix(f"{exc.field}: ")
        return await _page(
            services,
            request,
            principal,
            csrf,
            email=email,
            errors={"email": message[:1].upper() + message[1:]},
            status_code=422,
        )
    done = "saved" if email.strip() else "removed"
    return RedirectResponse(f"/notifications?done={done}", status_code=303)
