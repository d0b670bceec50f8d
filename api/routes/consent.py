"""Consent withdrawn after it was given: ``POST /api/requests/{id}/agencies/{agency}/
consent-withdrawal`` (a worker of that agency), whether its decision is open or complete.

What follows is the domain's (``domain.withdrawal``): before the decision the basis is
decided again; after sending, the recipient agency is told. Scope and note are plain
text here and sealed under the subject's key before anything is recorded, by the use case
the page form shares (:func:`app.consent_withdrawal.record_withdrawal`).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Decider, Requests, ServicesDep
from api.routes.requests_write import WRITE_RESPONSES
from api.schemas.requests_write import ShortText
from app.consent_withdrawal import record_withdrawal
from app.identity import actor_of
from domain.inputs import IsoDate
from domain.vocabulary import ConsentGiver
from infra.packages import Outbox

router = APIRouter(prefix="/api", tags=["tasks"])

AgencyParam = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,39}$")]


class ConsentWithdrawalBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    withdrawn_by: ConsentGiver = Field(
        description="Who withdrew it: the person, a parent or carer, or someone with "
        "parental responsibility."
    )
    withdrawn_on: IsoDate = Field(description="The day they withdrew it (not in the future).")
    scope: ShortText | None = Field(
        default=None, description="What the withdrawal covers, if not all of the consent."
    )
    note: ShortText | None = None


class ConsentWithdrawalRecorded(BaseModel):
    request_id: UUID
    agency: str
    version: int
    """The decision stream's version once the withdrawal is recorded."""


@router.post(
    "/requests/{request_id}/agencies/{agency}/consent-withdrawal",
    response_model=ConsentWithdrawalRecorded,
    responses=WRITE_RESPONSES,
)
async def withdraw_consent(
    request_id: UUID,
    agency: AgencyParam,
    body: ConsentWithdrawalBody,
    principal: Decider,
    requests: Requests,
    services: ServicesDep,
) -> ConsentWithdrawalRecorded:
    """Record that consent given for this agency's decision was withdrawn (worker of the
    agency). Before the decision, sharing on that consent stops and the lawful basis is
    decided again; after the package was sent, the recipient agency is notified."""
    version = await record_withdrawal(
        requests,
        services.events,
        Outbox(services.engine),
        actor_of(principal),
        request_id,
        agency,
        withdrawn_by=body.withdrawn_by,
        withdrawn_on=body.withdrawn_on,
        scope=body.scope,
        note=body.note,
    )
    return ConsentWithdrawalRecorded(request_id=request_id, agency=agency, version=version)
