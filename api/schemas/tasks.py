"""Tasks: one task's brief, and completing a task.

The completion bodies live in ``app.tasks`` (the API and the CLI share them).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from app.tasks import (
    Action,
    AssessPurposeBody,
    ConsentNotSoughtBody,
    DetermineLawfulBasisBody,
    GiveAdviceBody,
    InformPlanIn,
    InstrumentIn,
    ItemIn,
    OpenTask,
    RecordConsentBody,
    RecordDecisionBody,
    RecordInformingBody,
    RequestAdviceBody,
    Seal,
    SeekConsentBody,
    SelectInformationBody,
    StepDone,
    TaskAction,
)
from domain.tasks import TaskId


class TaskBrief(BaseModel):
    """One open task and what its agency is asked, in clear (the reading is recorded)."""

    task_id: str
    request_id: UUID
    agency: str
    kind: str
    requesting_agency: str
    subject_kind: str
    purpose_category: str
    rating: str
    decision_due_at: datetime
    purpose: str
    information_sought: str


__all__ = [
    "Action",
    "AssessPurposeBody",
    "ConsentNotSoughtBody",
    "DetermineLawfulBasisBody",
    "GiveAdviceBody",
    "InformPlanIn",
    "InstrumentIn",
    "ItemIn",
    "OpenTask",
    "RecordConsentBody",
    "RecordDecisionBody",
    "RecordInformingBody",
    "RequestAdviceBody",
    "Seal",
    "SeekConsentBody",
    "SelectInformationBody",
    "StepDone",
    "TaskAction",
    "TaskBrief",
    "TaskId",
]
