"""Durability: a worker process killed mid-request, and a restarted Temporal server.

The worker is a real separate process (``mashflow worker``) killed with SIGKILL; the
server is the real dev server on its SQLite file, stopped and started again. The
request finishes with every event written exactly once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from app.container import Infrastructure
from app.packages import PackageService
from app.requests import RequestService
from app.scenario_builder import Hub, Walk, open_request
from domain.commands import (
    DetermineLawfulBasis,
    RecordConsent,
    RecordDecision,
    RecordInforming,
    SeekConsent,
    SelectInformation,
)
from domain.events.values import InformPlan, LawfulBasis
from domain.vocabulary import Art6Basis, ConsentOutcome, Outcome
from infra.settings import Settings
from infra.stack import EmbeddedTemporal, free_port
from infra.temporal import client_interceptors, data_converter
from tests.conftest import TEST_KEK, TestDatabase

pytestmark = pytest.mark.timeout(240)


class WorkerProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "worker"],
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


@contextlib.contextmanager
def worker_process(env: dict[str, str], log: Path) -> Iterator[WorkerProcess]:
    made = WorkerProcess(env, log)
    try:
        yield made
    finally:
        made.kill()


async def _client(address: str) -> Client:
    kek = base64.b64decode(TEST_KEK)
    return await Client.connect(
        address, data_converter=data_converter(kek), interceptors=client_interceptors(kek)
    )


async def test_a_killed_worker_and_a_restarted_server_lose_and_repeat_nothing(
    tmp_path: Path, database: TestDatabase, infra: Infrastructure, settings: Settings
) -> None:
    server = EmbeddedTemporal(tmp_path / "temporal", free_port(), ui_port=None)
    address = await server.start()
    queue = f"durable-{os.getpid()}"
    env = {
        "MASHFLOW_DATABASE_URL": database.admin_url,
        "MASHFLOW_TEMPORAL_ADDRESS": address,
        "MASHFLOW_TEMPORAL_TASK_QUEUE": queue,
        "MASHFLOW_KEK": TEST_KEK,
        "MASHFLOW_DATA_DIR": str(tmp_path),
        "MASHFLOW_LOG_FORMAT": "json",
    }
    try:
        with worker_process(env, tmp_path / "worker.log") as worker:
            worker.start()
            requests = RequestService(await _client(address), infra.keyring, infra.agencies, queue)
            hub = Hub(
                requests,
                PackageService(requests, infra.packages, infra.agencies, settings, infra.store),
            )
            rid, subject = await open_request(hub, "Hal Example", ["police"])
            walk = Walk(hub, rid, subject, "police")
            await walk.assess()
            await walk.by_worker("seek_consent", SeekConsent())

            # Killed between steps: the next step waits for a worker, then runs once.
            worker.kill()
            pending = asyncio.create_task(
                requests.step(
                    hub.worker("police"),
                    rid,
                    "police",
                    "record_consent",
                    RecordConsent(outcome=ConsentOutcome.GIVEN),
                    task_id=f"{rid}:police:record_consent:2",
                )
            )
            await asyncio.sleep(1)
            assert not pending.done()
            worker.start()
            await asyncio.wait_for(pending, 60)

            await walk.by_worker(
                "determine_lawful_basis",
                DetermineLawfulBasis(basis=LawfulBasis(art6=Art6Basis.PUBLIC_TASK)),
            )
            await walk.by_worker("select_information", SelectInformation(items=await walk.items()))
            await walk.by_worker(
                "record_decision",
                RecordDecision(
                    outcome=Outcome.SHARE,
                    reasons=await walk.text("needed to protect the child"),
                    necessity=await walk.text("two entries only"),
                    inform=InformPlan(will_inform=True),
                ),
            )
            # Killed while the package is being sealed and delivered.
            worker.kill()

            # The server restarts on its SQLite file: the request is still there.
            server.stop()
            server = EmbeddedTemporal(tmp_path / "temporal", server.port, ui_port=None)
            await server.start()
            worker.start()
            requests.client = await _client(address)
            await walk.receive()
            await walk.by_worker("record_informing", RecordInforming(informed=True))
            result = await asyncio.wait_for(requests.result(rid), 60)
            assert result.shared_by == ["police"]
    finally:
        server.stop()

    events = await infra.store.read_correlation(rid)
    counts = Counter(e.event_type for e in events)
    assert all(n == 1 for n in counts.values()), counts
    assert counts["package.sent"] == 1 and counts["request.closed"] == 1
    assert len({e.event_id for e in events}) == len(events)
    for stream in {e.stream_id for e in events}:
        versions = [e.version for e in events if e.stream_id == stream]
        assert versions == list(range(1, len(versions) + 1))
    assert len(await infra.packages.list_for_request(rid)) == 1
