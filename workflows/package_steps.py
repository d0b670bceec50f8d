"""The package activities a decision runs: seal and send, and delete a sealed copy.

Workflow code only (passed through the sandbox by the workflow module).
"""

from __future__ import annotations

from uuid import UUID

from temporalio import workflow

from activities.models import (
    REVOKE_PACKAGE,
    SEND_PACKAGE,
    RevokePackageInput,
    RevokePackageResult,
    SendPackageInput,
    SendPackageResult,
)
from domain.decision import AgencyDecisionState
from workflows.common import STEP_TIMEOUT, STORE_RETRY


async def send_package(state: AgencyDecisionState, package_id: UUID) -> SendPackageResult:
    """Seal the decided items for the requesting agency and store them (idempotent by id)."""
    decision = state.decision
    assert decision is not None
    result: SendPackageResult = await workflow.execute_activity(
        SEND_PACKAGE,
        SendPackageInput(
            package_id=package_id,
            request_id=state.request_id,
            subject_id=state.subject_id,
            sender_agency=state.agency,
            recipient_agency=state.requesting_agency,
            items=decision.items,
        ),
        result_type=SendPackageResult,
        start_to_close_timeout=STEP_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
    return result


async def delete_package(package_id: UUID) -> None:
    """Delete a package's sealed copy (a revocation)."""
    await workflow.execute_activity(
        REVOKE_PACKAGE,
        RevokePackageInput(package_id=package_id),
        result_type=RevokePackageResult,
        start_to_close_timeout=STEP_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
