"""Access events: every view of a request's personal data is itself a recorded fact.

Kept in their own stream, ``access:{request_id}``, with the request id as the
correlation id, so a request's history shows who looked at it since. They are
not :class:`~domain.events.catalogue.RequestEvent` subclasses on purpose: a
view changes nothing in the request or in any agency's decision, so the
workflows' ``evolve`` functions never see them as steps.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from domain.events.base import Event, event
from domain.events.values import AgencyCode, UserId, UtcDateTime
from domain.vocabulary import Role


class ViewKind(StrEnum):
    """What was opened in clear."""

    HISTORY = "history"
    EXPORT = "export"
    PACKAGE = "package"
    TASK = "task"
    """A holding agency's worker or advisor read the purpose and the information sought."""


def access_stream(request_id: UUID) -> str:
    return f"access:{request_id}"


@event("access.personal_data_viewed")
class PersonalDataViewed(Event):
    """Someone saw a request's personal data in clear (ids and roles only, never what they saw)."""

    request_id: UUID
    viewer_id: UserId
    viewer_role: Role
    viewer_agency: AgencyCode | None = None
    what: ViewKind
    viewed_at: UtcDateTime


@event("access.refused")
class AccessRefused(Event):
    """Someone tried to open what they may not (a recipient of another agency opening a
    package, say): refused, nothing shown, and the attempt recorded as every view is."""

    request_id: UUID
    viewer_id: UserId
    viewer_role: Role
    viewer_agency: AgencyCode | None = None
    what: ViewKind
    package_id: UUID | None = None
    refused_at: UtcDateTime
