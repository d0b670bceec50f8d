"""``mashflow requests`` and ``mashflow tasks`` as subprocesses, against the real stack.

The test database, a real Temporal dev server started here, and a worker with
the read-model projection running in this process on the CLI's task queue.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from domain.events.base import RecordedEvent
from infra.readmodels import ProjectionRunner
from infra.stack import EmbeddedTemporal, free_port
from infra.temporal import connect_client
from tests.conftest import TEST_KEK
from tests.workflows.conftest import register_hub
from worker.main import Infrastructure, build_worker, infrastructure

if TYPE_CHECKING:
    from tests.conftest import TestDatabase

MASHFLOW = Path(sys.executable).parent / "mashflow"
COORDINATOR = "coordinator-7"
WORKER = "police-worker-3"


@dataclass(frozen=True)
class Cli:
    env: dict[str, str]
    infra: Infrastructure

    async def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            [str(MASHFLOW), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
async def cli(database: TestDatabase, tmp_path: Path) -> AsyncIterator[Cli]:
    temporal = EmbeddedTemporal(tmp_path / "temporal", free_port(), None)
    address = await temporal.start()
    queue = f"cli-{uuid.uuid4().hex[:8]}"
    settings = database.settings.with_overrides(temporal_address=address)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASHFLOW_")} | {
        "MASHFLOW_ENVIRONMENT": "test",
        "MASHFLOW_DATABASE_URL": database.admin_url,
        "MASHFLOW_KEK": TEST_KEK,
        "MASHFLOW_TEMPORAL_ADDRESS": address,
        "MASHFLOW_TEMPORAL_TASK_QUEUE": queue,
        "MASHFLOW_DATA_DIR": tempfile.mkdtemp(prefix="mashflow-cli-"),
        "MASHFLOW_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }
    try:
        client = await connect_client(settings)
        async with infrastructure(settings) as infra:
            await register_hub(infra.agencies)
            projections = ProjectionRunner(infra.store, poll_interval=0.05)
            projections.start()
            try:
                async with build_worker(client, queue, infra.activities()):
                    yield Cli(env, infra)
            finally:
                await projections.stop()
    finally:
        temporal.stop()


async def _until(cli: Cli, *args: str, check: object) -> object:
    """Run a JSON command until the read models show what ``check`` wants."""
    assert callable(check)
    for _ in range(100):
        done = await cli(*args, "--json")
        assert done.returncode == 0, done.stderr
        found = json.loads(done.stdout)
        if check(found):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"never settled: {args}")


async def _events(cli: Cli, rid: uuid.UUID, wanted: str) -> list[RecordedEvent]:
    """The request's events once one of type ``wanted`` has been recorded."""
    for _ in range(100):
        events = await cli.infra.store.read_correlation(rid)
        if any(e.event_type == wanted for e in events):
            return events
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {wanted} event for {rid}")


ASSESS = {
    "purpose_clear": True,
    "identifiable": True,
    "confidential": True,
    "special_category": False,
}


async def test_open_list_show_and_complete_a_task(cli: Cli) -> None:
    opened = await cli(
        "requests", "open", "--as", COORDINATOR,
        "--subject-name", "Ada Example", "--subject-kind", "child",
        "--requesting-agency", "csc", "--holder", "police",
        "--purpose-category", "safeguarding_welfare",
        "--purpose", "Strategy discussion after concerns raised by the school",
        "--information-sought", "Police contact with the household in the last year",
        "--rating", "amber",
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    rid = uuid.UUID(opened.stdout.strip())
    events = await _events(cli, rid, "request.opened")
    assert events[0].metadata.actor_id == COORDINATOR

    listed = await _until(
        cli, "requests", "list", "--agency", "police", "--rating", "amber",
        check=lambda rows: any(r["request_id"] == str(rid) for r in rows),
    )  # fmt: skip
    assert isinstance(listed, list)
    mine = next(r for r in listed if r["request_id"] == str(rid))
    assert mine["status"] == "open" and mine["requesting_agency"] == "csc"
    assert "Ada" not in json.dumps(listed)  # ids and codes only: no personal data

    shown = await cli("requests", "show", str(rid), "--json")
    assert shown.returncode == 0, shown.stderr
    assert [a["agency"] for a in json.loads(shown.stdout)["agencies"]] == ["police"]
    table = await cli("requests", "list")
    assert table.returncode == 0 and str(rid) in table.stdout

    inbox = await _until(
        cli, "tasks", "list", "--as", WORKER, "--role", "agency_worker", "--agency", "police",
        check=lambda rows: any(r["request_id"] == str(rid) for r in rows),
    )  # fmt: skip
    assert isinstance(inbox, list)
    (task,) = [t for t in inbox if t["request_id"] == str(rid)]
    assert task["kind"] == "assess_purpose"

    before = len(await cli.infra.store.read_correlation(rid))
    wrong_role = await cli(
        "tasks", "complete", task["task_id"], "--action", "assess_purpose",
        "--body", json.dumps(ASSESS), "--as", "police-advisor", "--role", "advisor",
        "--agency", "police",
    )  # fmt: skip
    assert wrong_role.returncode == 3, wrong_role.stderr
    assert wrong_role.stderr.startswith("error:") and len(wrong_role.stderr.splitlines()) == 1
    other_agency = await cli(
        "tasks", "complete", task["task_id"], "--action", "assess_purpose",
        "--body", json.dumps(ASSESS), "--as", "gp-worker", "--role", "agency_worker",
        "--agency", "gp_riverside",
    )  # fmt: skip
    assert other_agency.returncode == 3, other_agency.stderr
    bad_body = await cli(
        "tasks", "complete", task["task_id"], "--action", "assess_purpose",
        "--body", '{"purpose_clear": "perhaps"}', "--as", WORKER, "--role", "agency_worker",
        "--agency", "police",
    )  # fmt: skip
    assert bad_body.returncode == 2, bad_body.stderr
    assert len(await cli.infra.store.read_correlation(rid)) == before  # nothing written

    body = Path(tempfile.mkdtemp()) / "assess.json"
    body.write_text(json.dumps({"action": "assess_purpose", **ASSESS, "note": "clear"}))
    done = await cli(
        "tasks", "complete", task["task_id"], "--action", "assess_purpose",
        "--body", f"@{body}", "--as", WORKER, "--role", "agency_worker", "--agency", "police",
        "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    step = json.loads(done.stdout)
    assert step["action"] == "assess_purpose" and step["open_tasks"]
    events = await _events(cli, rid, "purpose.assessed")
    assessed = [e for e in events if e.event_type == "purpose.assessed"]
    assert len(assessed) == 1
    assert assessed[0].metadata.actor_id == WORKER
    assert assessed[0].metadata.actor_agency == "police"


async def test_unknown_request_and_missing_settings(cli: Cli) -> None:
    missing = await cli("requests", "show", str(uuid.uuid4()))
    assert missing.returncode == 4 and "no request" in missing.stderr
    bad = await cli("requests", "show", "not-an-id")
    assert bad.returncode == 2
    gone = await cli(
        "tasks", "complete", f"{uuid.uuid4()}:police:assess_purpose:1", "--action",
        "assess_purpose", "--body", json.dumps(ASSESS), "--as", WORKER,
        "--role", "agency_worker", "--agency", "police",
    )  # fmt: skip
    assert gone.returncode == 4, gone.stderr
    unset = dict(cli.env)
    del unset["MASHFLOW_TEMPORAL_ADDRESS"]
    no_temporal = await asyncio.to_thread(
        subprocess.run,
        [str(MASHFLOW), "requests", "open", "--as", COORDINATOR,
         "--subject-name", "A", "--subject-kind", "child", "--requesting-agency", "csc",
         "--holder", "police", "--purpose-category", "safeguarding_welfare",
         "--purpose", "p", "--information-sought", "i", "--rating", "green"],
        env=unset, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert no_temporal.returncode == 2
    assert "MASHFLOW_TEMPORAL_ADDRESS" in no_temporal.stderr
