"""Tasks: one task's brief, and completing a task.

The completion bodies and the step's answer are the application's own
(``app.task_bodies``, ``app.tasks``), shared with the CLI; re-exported here as
the API's request and response schemas.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from app.task_bodies import TaskAction
from app.tasks import StepDone


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


__all__ = ["StepDone", "TaskAction", "TaskBrief"]
