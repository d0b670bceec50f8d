"""What ``AgencyDecisionWorkflow`` takes and returns: one model per input and result.

Kept out of the workflow's file, as the house keeps pydantic models out of
workflow files (the sandbox re-imports a workflow's module graph for every new
workflow instance; these are passed through once).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from domain.decision import AgencyDecisionState, Task
from domain.events.catalogue import AgencyDecisionCompleted, DeadlineMissed
from domain.policy import HubPolicy
from domain.vocabulary import Outcome


class AgencyDecisionInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: AgencyDecisionState
    """The decision as the request opens (``domain.decision.start``): ids and enums only."""
    policy: HubPolicy


class AgencyDecisionResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    agency: str
    outcome: Outcome | None
    completed: AgencyDecisionCompleted | None
    missed: list[DeadlineMissed]
    withdrawn: bool


class StepResult(BaseModel):
    """What a person's step leaves behind: the stream version and what is open now."""

    model_config = ConfigDict(frozen=True)

    version: int
    tasks: list[Task]
    position: int | None = None
    """The log position of the stream's event at ``version``, when this run appended it
    (the edge then waits for the read models to pass it without looking it up)."""


class TaskList(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int
    tasks: list[Task]
