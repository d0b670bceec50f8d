"""Response models of the compliance endpoints: history and verification."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.history import AccessEntry, RequestVerification, TimelineEntry
from domain.inputs import Flag
from infra.eventstore import VerifyReport


class HistoryResponse(BaseModel):
    """A request's every event in order, the replayed state, and the per-request check."""

    request_id: str
    as_of: str | None
    revealed: bool = Field(description="Personal data opened; this view itself is recorded.")
    subject_erased: bool
    verification: RequestVerification
    events: list[TimelineEntry]
    request: dict[str, Any] | None = Field(description="The request's state replayed.")
    request_details: dict[str, Any] | None
    agencies: list[dict[str, Any]] = Field(
        description="Each holding agency's replayed state and decision record."
    )
    access_log: list[AccessEntry]


class ProblemOut(BaseModel):
    kind: str
    stream_id: str
    version: int | None
    detail: str


class VerifyResponse(BaseModel):
    ok: bool
    events_checked: int
    checkpoints_checked: int
    checkpoint_digest: str | None = Field(
        description="Keep it outside the database; pass it back as trusted_digest later."
    )
    problems: list[ProblemOut]

    @classmethod
    def of(cls, report: VerifyReport) -> VerifyResponse:
        return cls(
            ok=report.ok,
            events_checked=report.events_checked,
            checkpoints_checked=report.checkpoints_checked,
            checkpoint_digest=report.checkpoint_digest,
            problems=[
                ProblemOut(
                    kind=p.kind.value, stream_id=p.stream_id, version=p.version, detail=p.detail
                )
                for p in report.findings
            ],
        )


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt option is refused, not ignored

    trusted_digest: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="A digest exported earlier."
    )
    checkpoint: Flag = Field(default=False, description="Take a checkpoint first.")
