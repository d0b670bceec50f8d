"""Seeing personal data: check, record the view, then open, in that order, for every edge.

Viewing personal data is itself something to record. The API, the pages and the
CLI reveal a request's history through :func:`viewed_history`, so the order
holds everywhere: the viewer is checked (the permission matrix) and the request
found, the view is appended to the request's access log, and only then is
anything decrypted. If the history cannot be shown after that, the attempt is
still on record. Refusals of a view are recorded too (:func:`record_refusal`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import structlog

from app.history import RequestHistory, request_history
from domain.events import (
    EventMetadata,
)
from domain.events.access import AccessRefused, PersonalDataViewed, ViewKind, access_stream
from domain.models import Actor
from domain.permissions import Action, require
from infra.crypto import Keyring
from infra.eventstore import ANY_VERSION, EventStore, NewEvent

log = structlog.get_logger(__name__)


async def record_view(
    store: EventStore,
    request_id: UUID,
    viewer: Actor,
    what: ViewKind,
    *,
    now: datetime | None = None,
) -> None:
    """Append the fact that someone saw this request's personal data in clear."""
    viewed = PersonalDataViewed(
        request_id=request_id,
        viewer_id=viewer.user_id,
        viewer_role=viewer.role,
        viewer_agency=viewer.agency,
        what=what,
        viewed_at=now or datetime.now(UTC),
    )
    await _append(store, request_id, viewer, viewed)
    log.info("personal_data_viewed", request_id=str(request_id), what=what.value)


async def record_refusal(
    store: EventStore,
    request_id: UUID,
    viewer: Actor,
    what: ViewKind,
    *,
    package_id: UUID | None = None,
    now: datetime | None = None,
) -> None:
    """Append the fact that someone was refused a view of this request's personal data."""
    refused = AccessRefused(
        request_id=request_id,
        viewer_id=viewer.user_id,
        viewer_role=viewer.role,
        viewer_agency=viewer.agency,
        what=what,
        package_id=package_id,
        refused_at=now or datetime.now(UTC),
    )
    await _append(store, request_id, viewer, refused)
    log.info("access_refused", request_id=str(request_id), what=what.value)


async def _append(
    store: EventStore, request_id: UUID, viewer: Actor, event: PersonalDataViewed | AccessRefused
) -> None:
    """One event on the request's access log, recorded as the viewer's."""
    metadata = EventMetadata(
        actor_id=viewer.user_id,
        actor_role=viewer.role.value,
        actor_agency=viewer.agency,
        correlation_id=request_id,
    )
    await store.append(access_stream(request_id), ANY_VERSION, [NewEvent(uuid4(), event, metadata)])


async def viewed_history(
    store: EventStore,
    keyring: Keyring,
    request_id: UUID,
    viewer: Actor | None,
    what: ViewKind,
    *,
    as_of: datetime | None = None,
) -> RequestHistory:
    """A request's history, its personal data opened for ``viewer`` (``None``: sealed)."""
    if viewer is not None:
        require(viewer, Action.REPLAY_HISTORY, doing="reveal personal data")
        await request_history(store, keyring, request_id, reveal=False)  # unknown: refused
        await record_view(store, request_id, viewer, what)
    return await request_history(store, keyring, request_id, as_of=as_of, reveal=viewer is not None)
