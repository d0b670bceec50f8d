"""Recorded retention histories still replay on today's workflow code.

One schedule run that opened reviews, a review retained, a review disposed of,
and a review escalated and then retained: recorded by the retention tests with
``MASHFLOW_RECORD_HISTORIES=1`` (see ``tests/retention/histories.py``).
"""

from __future__ import annotations

import base64

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from infra.temporal import data_converter
from tests.conftest import TEST_KEK
from tests.retention.histories import RETENTION_HISTORIES
from worker.registry import WORKFLOWS

RECORDED = {
    "review_run": "RetentionReviewWorkflow",
    "review_retained": "RetentionReviewTaskWorkflow",
    "review_disposed": "RetentionReviewTaskWorkflow",
    "review_escalated_retained": "RetentionReviewTaskWorkflow",
}


async def test_every_recorded_retention_history_replays_deterministically() -> None:
    files = sorted(RETENTION_HISTORIES.glob("*.json"))
    assert {f.stem for f in files} == set(RECORDED)
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=data_converter(base64.b64decode(TEST_KEK))
    )
    for file in files:
        history = WorkflowHistory.from_json(file.stem, file.read_text())
        started = history.events[0].workflow_execution_started_event_attributes
        assert started.workflow_type.name == RECORDED[file.stem], file.name
        result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
        assert result.replay_failure is None, file.name


async def test_the_recorded_decisions_are_the_paths_they_are_named_after() -> None:
    """The retained and disposed histories really end in those decisions (updates ran)."""
    for name, update in (
        ("review_retained", "retain"),
        ("review_disposed", "dispose"),
        ("review_escalated_retained", "retain"),
    ):
        history = WorkflowHistory.from_json(
            name, (RETENTION_HISTORIES / f"{name}.json").read_text()
        )
        accepted = [
            e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
            for e in history.events
            if e.HasField("workflow_execution_update_accepted_event_attributes")
        ]
        assert update in accepted, (name, accepted)
        assert history.events[-1].HasField("workflow_execution_completed_event_attributes")
