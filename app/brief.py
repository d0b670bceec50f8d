"""What a request asks, read by a holding agency's worker or advisor (the view recorded)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict

from app.access import record_view
from app.history import ERASED_TEXT, RequestNotFound
from domain import errors
from domain.events import Erased, RequestOpened, Sealed
from domain.events.access import ViewKind
from domain.models import Actor
from domain.permissions import Action, allows
from infra.crypto import Keyring
from infra.eventstore import EventStore
from workflows.common import request_stream


class RequestBrief(BaseModel):
    """What a holding agency is asked, in clear: what its worker needs to decide."""

    model_config = ConfigDict(frozen=True)

    request_id: UUID
    purpose: str
    information_sought: str
    """Either may be ``[erased]`` once the subject's key has been destroyed."""


async def read_brief(
    store: EventStore, keyring: Keyring, actor: Actor, request_id: UUID
) -> RequestBrief:
    """The request's purpose and information sought, for a holding agency's worker or advisor.

    Refused (:class:`~domain.errors.NotPermitted`) for any other role or for an agency
    the request does not ask; :class:`~app.history.RequestNotFound` for an unknown
    request. The view is appended to the request's access stream (the same record as a
    compliance officer's reveal) before anything is decrypted, so it is never unrecorded.
    """
    if not allows(actor, Action.WORK_TASKS):
        raise errors.NotPermitted("only a holding agency's worker or advisor reads what is asked")
    recorded = await store.read_stream(request_stream(request_id))
    opened = next((r.event for r in recorded if isinstance(r.event, RequestOpened)), None)
    if opened is None:
        raise RequestNotFound(request_id)
    if actor.agency not in opened.holding_agencies:
        raise errors.NotPermitted(f"this request does not ask {actor.agency}")
    await record_view(store, request_id, actor, ViewKind.TASK)
    session = keyring.session()

    async def clear(value: Sealed) -> str:
        text = await session.open(value)
        return ERASED_TEXT if isinstance(text, Erased) else str(text)

    return RequestBrief(
        request_id=request_id,
        purpose=await clear(opened.purpose),
        information_sought=await clear(opened.information_sought),
    )
