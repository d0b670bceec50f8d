"""Retention workflow histories: replayed where a test makes them, kept under
tests/histories/retention/.

Set ``MASHFLOW_RECORD_HISTORIES=1`` to (re)write the kept files from a test run
(as ``tests/workflows/histories.py`` does for the sharing workflows); the replay
test then proves today's workflow code still replays them. The payloads were
encrypted by the codec with the test-only key in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Replayer

from worker.registry import WORKFLOWS

RETENTION_HISTORIES = Path(__file__).parent.parent / "histories" / "retention"


async def replay_and_keep(client: Client, name: str, workflow_id: str) -> None:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    replayer = Replayer(workflows=WORKFLOWS, data_converter=client.data_converter)
    await replayer.replay_workflow(history)
    if os.environ.get("MASHFLOW_RECORD_HISTORIES") == "1":
        RETENTION_HISTORIES.mkdir(parents=True, exist_ok=True)
        (RETENTION_HISTORIES / f"{name}.json").write_text(history.to_json())
