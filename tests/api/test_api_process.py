"""``mashflow api`` alone serves commands: its own OS process, a worker elsewhere.

The API process is started through the real entry point against this session's
PostgreSQL and the Temporal dev server; the worker (with the read-model
projection) runs in the test on the same task queue, as a separate worker
process would. A coordinator opens a request and the holding agency's worker
completes its first step, all over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from app.container import open_infrastructure
from domain.vocabulary import Role
from infra.readmodels import ProjectionRunner
from infra.settings import Settings
from infra.stack import free_port
from tests.api.conftest import MASHFLOW, Person, Registered
from worker.main import build_worker


@contextlib.asynccontextmanager
async def api_process(env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """``mashflow api`` on a free port; a client once ``/readyz`` answers 200."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        str(MASHFLOW),
        "api",
        "--port",
        str(port),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/readyz")).status_code == 200:
                        break
                if process.returncode is not None:
                    _, err = await process.communicate()
                    pytest.fail(f"mashflow api exited: {err.decode()[-2000:]}")
                await asyncio.sleep(0.1)
            else:
                pytest.fail("mashflow api never became ready")
            yield client
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 20)
    assert process.returncode in (0, -15)


async def inbox_task(client: httpx.AsyncClient, person: Person, request_id: str) -> dict[str, Any]:
    """The person's open task for the request, once the read models show it."""
    for _ in range(300):
        inbox = await client.get("/api/tasks", headers=person.headers)
        assert inbox.status_code == 200, inbox.text
        for task in inbox.json()["tasks"]:
            if task["request_id"] == request_id:
                return dict(task)
        await asyncio.sleep(0.1)
    raise TimeoutError("the task never reached the inbox")


async def test_the_api_process_opens_a_request_and_completes_a_step_through_a_separate_worker(
    cli_env: dict[str, str], settings: Settings, temporal: Client, hub: Registered
) -> None:
    queue = f"api-process-{uuid.uuid4().hex[:8]}"
    env = cli_env | {
        "MASHFLOW_TEMPORAL_ADDRESS": temporal.service_client.config.target_host,
        "MASHFLOW_TEMPORAL_TASK_QUEUE": queue,
    }
    coordinator = hub.people[Role.COORDINATOR]
    worker = hub.people[Role.AGENCY_WORKER]
    async with open_infrastructure(settings) as infra:
        projections = ProjectionRunner(infra.store, poll_interval=0.05)
        projections.start()
        try:
            async with build_worker(temporal, queue, infra), api_process(env) as client:
                ready = (await client.get("/readyz")).json()
                assert ready == {"status": "ready", "checks": {"database": "ok", "temporal": "ok"}}
                opened = await client.post(
                    "/api/requests",
                    headers=coordinator.headers,
                    json={
                        "subject": {"name": "Ada Example", "date_of_birth": "2017-03-14"},
                        "subject_kind": "child",
                        "requesting_agency": hub.health,
                        "holding_agencies": [hub.police],
                        "purpose_category": "safeguarding_welfare",
                        "purpose": "Strategy discussion after concerns raised by the school",
                        "information_sought": "Police contact with the household this year",
                        "rating": "amber",
                    },
                )
                assert opened.status_code == 201, opened.text
                request_id = opened.json()["request_id"]

                task = await inbox_task(client, worker, request_id)
                assert task["kind"] == "assess_purpose" and task["agency"] == hub.police
                done = await client.post(
                    f"/api/tasks/{task['task_id']}",
                    headers=worker.headers,
                    json={
                        "action": "assess_purpose",
                        "purpose_clear": True,
                        "identifiable": True,
                        "confidential": True,
                        "special_category": False,
                        "note": "Purpose checked against the referral",
                    },
                )
                assert done.status_code == 200, done.text
                step = done.json()
                assert step["action"] == "assess_purpose" and step["version"] > task["version"]
                assert {t["kind"] for t in step["open_tasks"]} == {"resolve_consent"}
        finally:
            await projections.stop()


async def test_the_api_process_refuses_to_start_without_a_temporal_server(
    cli_env: dict[str, str],
) -> None:
    started = await asyncio.to_thread(
        subprocess.run,
        [str(MASHFLOW), "api", "--port", str(free_port())],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2
    assert "MASHFLOW_TEMPORAL_ADDRESS: not set" in started.stderr
