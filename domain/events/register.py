"""Register events: who may sign in, with which role, for which agency, and since when.

Written by the database itself (migration 0010): the functions that add, change and
revoke a user append the matching event in the same transaction, to the stream
``user:{user_id}``. They hold ids, roles and agency codes only, never a name.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from domain.events.base import Event, event
from domain.vocabulary import Role


def user_stream(user_id: UUID) -> str:
    return f"user:{user_id}"


@event("register.user_added")
class UserAdded(Event):
    user_id: UUID
    role: Role
    agency: str | None
    sign_in: Literal["token", "oidc"]


@event("register.user_role_changed")
class UserRoleChanged(Event):
    user_id: UUID
    role: Role
    agency: str | None
    previous_role: Role
    previous_agency: str | None


@event("register.user_revoked")
class UserRevoked(Event):
    """The user may no longer sign in; their sessions end. Never undone."""

    user_id: UUID


def agency_stream(code: str) -> str:
    return f"agency:{code}"


@event("register.agency_public_authority_changed")
class AgencyPublicAuthorityChanged(Event):
    """Whether the agency is a public authority (UK GDPR: public task is for public
    authorities' functions) was changed in the register. Written by the database."""

    agency: str
    public_authority: bool
    previous: bool
