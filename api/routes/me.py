"""The caller's own identity."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentPrincipal
from api.problems import problem_responses
from api.schemas.identity import MeResponse

router = APIRouter(prefix="/api", tags=["identity"])


@router.get("/me", response_model=MeResponse, responses=problem_responses(401))
async def me(principal: CurrentPrincipal) -> MeResponse:
    """Who the token belongs to: role, agency, and whether the role acts for the whole hub."""
    return MeResponse.of(principal)
