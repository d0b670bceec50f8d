"""Temporal workflows: orchestration only, deterministic, no I/O but activities."""

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

__all__ = [
    "WORKFLOWS",
    "AgencyDecisionWorkflow",
    "CheckpointWorkflow",
    "RetentionReviewTaskWorkflow",
    "RetentionReviewWorkflow",
    "SharingRequestWorkflow",
]
