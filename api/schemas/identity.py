"""Who am I: the response of ``GET /api/me``."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from domain.vocabulary import Role
from infra.auth import Principal


class MeResponse(BaseModel):
    user_id: uuid.UUID
    display_name: str
    role: Role
    agency: str | None
    hub_level: bool

    @classmethod
    def of(cls, principal: Principal) -> MeResponse:
        return cls(
            user_id=principal.user_id,
            display_name=principal.display_name,
            role=principal.role,
            agency=principal.agency,
            hub_level=principal.hub_level,
        )
