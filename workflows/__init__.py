"""Temporal workflows: orchestration only, deterministic, no I/O but activities."""

from workflows.agency_decision import AgencyDecisionWorkflow
from workflows.sharing_request import SharingRequestWorkflow

WORKFLOWS: list[type] = [SharingRequestWorkflow, AgencyDecisionWorkflow]

__all__ = ["WORKFLOWS", "AgencyDecisionWorkflow", "SharingRequestWorkflow"]
