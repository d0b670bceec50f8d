"""Recorded histories of every path still replay on today's workflow code."""

from __future__ import annotations

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from infra.temporal import data_converter
from tests.conftest import TEST_KEK
from tests.workflows.histories import HISTORIES
from worker.registry import WORKFLOWS

PATHS = {
    "consent_given",
    "consent_refused_not_shared",
    "refused_but_shared_with_advice",
    "red_consent_not_sought",
    "no_legitimate_purpose",
    "deadline_missed",
}


async def test_every_recorded_path_replays_deterministically() -> None:
    import base64

    files = sorted(HISTORIES.glob("*.json"))
    assert {f.name.split(".")[0] for f in files} == PATHS
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=data_converter(base64.b64decode(TEST_KEK))
    )
    for file in files:
        history = WorkflowHistory.from_json(file.stem, file.read_text())
        result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
        assert result.replay_failure is None, file.name
