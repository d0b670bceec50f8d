"""Workflow histories: replayed after every path test, and kept under tests/histories/.

Set ``MASHFLOW_RECORD_HISTORIES=1`` to (re)write the kept files from a test run; the
replay test then proves that today's workflow code still replays them, so a
non-deterministic change fails CI. The files were encrypted by the payload codec
with the test-only key in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from uuid import UUID

from temporalio.client import Client
from temporalio.worker import Replayer

from worker.registry import WORKFLOWS
from workflows.common import agency_workflow_id, request_workflow_id

HISTORIES = Path(__file__).parent.parent / "histories"


async def replay_and_keep(client: Client, name: str, request_id: UUID, agencies: list[str]) -> None:
    ids = {"request": request_workflow_id(request_id)} | {
        f"agency-{a}": agency_workflow_id(request_id, a) for a in agencies
    }
    replayer = Replayer(workflows=WORKFLOWS, data_converter=client.data_converter)
    for suffix, workflow_id in ids.items():
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        await replayer.replay_workflow(history)
        if os.environ.get("MASHFLOW_RECORD_HISTORIES") == "1":
            HISTORIES.mkdir(exist_ok=True)
            (HISTORIES / f"{name}.{suffix}.json").write_text(history.to_json())
