"""Responses of the read side: request lists, one request's progress, inboxes, response times.

Ids, agency codes, enums and instants only: no personal data leaves through these.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from app.queries import AgencyResponseTimes, AgencyRow, InboxTask, RequestSummary


class AgencyProgressResponse(BaseModel):
    agency: str
    status: str
    outcome: str | None
    decided_at: datetime | None
    completed_at: datetime | None
    decision_due_at: datetime
    missed: list[str]
    on_time: bool | None
    not_share_reasons: list[str] = []
    """Why the agency did not share (structured reasons, never personal data)."""

    @classmethod
    def of(cls, row: AgencyRow) -> AgencyProgressResponse:
        return cls.model_validate(row.model_dump())


class RequestSummaryResponse(BaseModel):
    request_id: UUID
    subject_id: UUID
    requesting_agency: str
    rating: str
    status: str
    opened_at: datetime
    decision_due_at: datetime
    closed_at: datetime | None
    overdue: bool
    time_left_seconds: int | None
    """Until the decision deadline (negative once past it); null once nothing is awaited."""
    agencies: list[AgencyProgressResponse]

    @classmethod
    def of(cls, s: RequestSummary, now: datetime) -> RequestSummaryResponse:
        left = s.time_left(now)
        return cls(
            request_id=s.request_id,
            subject_id=s.subject_id,
            requesting_agency=s.requesting_agency,
            rating=s.rating,
            status=s.status,
            opened_at=s.opened_at,
            decision_due_at=s.decision_due_at,
            closed_at=s.closed_at,
            overdue=s.overdue(now),
            time_left_seconds=None if left is None else int(left.total_seconds()),
            agencies=[AgencyProgressResponse.of(a) for a in s.agencies],
        )


class RequestListResponse(BaseModel):
    requests: list[RequestSummaryResponse]


class TaskResponse(BaseModel):
    task_id: str
    request_id: UUID
    agency: str
    kind: str
    role: str
    due_at: datetime | None
    rating: str
    version: int

    @classmethod
    def of(cls, t: InboxTask) -> TaskResponse:
        return cls.model_validate(t.model_dump())


class InboxResponse(BaseModel):
    tasks: list[TaskResponse]
    next_offset: int | None = Field(
        default=None, description="Where the next page starts (`offset=`); none after the last."
    )


class ResponseTimesResponse(BaseModel):
    agencies: list[AgencyResponseTimes]
