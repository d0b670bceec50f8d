"""Who acts: a signed-in principal as the domain records them, one way for the API and CLI."""

from __future__ import annotations

import pydantic

from domain.models import Actor
from infra.auth import Forbidden, Principal


def actor_of(principal: Principal) -> Actor:
    """The principal as the domain sees them: an opaque id, a role, an agency."""
    try:
        return Actor(user_id=str(principal.user_id), role=principal.role, agency=principal.agency)
    except pydantic.ValidationError:
        raise Forbidden("your account's agency code is not one the hub can act for") from None
