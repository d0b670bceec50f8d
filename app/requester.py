"""Who a request is made for: ``requested_by`` names a person in the register.

A coordinator may open a request on behalf of a practitioner of the requesting
agency. The id they give is checked, not taken as given: it must be an active user
of the hub's register, acting for the requesting agency (or a hub-level user).
Otherwise a request could name someone who does not exist, has left, or works
elsewhere, and the record of who asked would be false.
"""

from __future__ import annotations

import uuid

from domain.errors import ValidationFailed
from infra.users import UserDirectory


async def check_requester(
    users: UserDirectory, requested_by: str, requesting_agency: str, acting_user: str
) -> None:
    """Refuse (``ValidationFailed`` on ``requested_by``) an id that is not an active user
    of the requesting agency or of the hub. The acting coordinator themself always is."""
    if requested_by == acting_user:
        return
    try:
        user_id = uuid.UUID(requested_by)
    except ValueError:
        raise ValidationFailed("requested_by", "must be a user id from the register") from None
    user = await users.get_active(user_id)
    if user is None:
        raise ValidationFailed("requested_by", "no active user with this id in the register")
    if user.agency is not None and user.agency != requesting_agency:
        raise ValidationFailed(
            "requested_by", f"this user acts for {user.agency}, not the requesting agency"
        )
