"""The workflows a worker registers, each imported from its own module."""

from __future__ import annotations

from workflows.agency_decision import AgencyDecisionWorkflow
from workflows.checkpoint import CheckpointWorkflow
from workflows.retention import RetentionReviewTaskWorkflow, RetentionReviewWorkflow
from workflows.sharing_request import SharingRequestWorkflow

WORKFLOWS: list[type] = [
    SharingRequestWorkflow,
    AgencyDecisionWorkflow,
    RetentionReviewWorkflow,
    RetentionReviewTaskWorkflow,
    CheckpointWorkflow,
]
