"""What ``SharingRequestWorkflow`` takes and returns: its input, result and query view.

Kept out of the workflow's file and passed through the sandbox, as
``workflows.agency_messages`` is for the agency's decision: a new workflow instance
then does not rebuild these pydantic classes.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict

from activities.models import EventEnvelope
from domain.policy import HubPolicy
from domain.request import SharingRequestState


class SharingRequestInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    opened: EventEnvelope
    """The ``request.opened`` event, validated at the edge; its id makes the append idempotent."""
    policy: HubPolicy


class SharingRequestResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    request_id: UUID
    shared_by: list[str]
    not_shared_by: list[str]
    withdrawn: bool


class RequestView(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: SharingRequestState
    version: int
