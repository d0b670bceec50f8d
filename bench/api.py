"""API latency at a fixed arrival rate: p50, p95 and p99 of reads and of a command.

    .venv/bin/python bench/api.py [--tasks 200] [--read-rate 50] [--write-rate 5]
                                  [--seconds 20] [--alone 40] [--url URL]

A scratch PostgreSQL database, the Temporal dev server in memory, and in this process a
worker with the read-model projection and the API over uvicorn (the shape of
``mashflow up``). ``--tasks`` requests are opened first so that one worker's inbox
holds that many tasks. Then, open loop (each call starts on schedule whether or not the
ones before it have answered): ``GET /api/tasks`` at ``--read-rate`` per second, then
``GET /api/requests/{id}`` at the same rate, then ``POST /api/requests`` at
``--write-rate`` per second, each for ``--seconds``. Prints ``key=value`` lines:
``<name>_p50_ms``, ``_p95_ms``, ``_p99_ms``, ``_errors`` and ``_cpu_ms_per_call`` (the
process's CPU over the calls made: server, worker and client; whether the rate fits the
cores when the machine is not shared) for each, the load average and whether bytecode
was written. Last, ``--alone`` commands are sent one at a time, 0.2 s apart
(``open_request_alone_*``): a command's own time, which an open loop on busy cores
hides behind the queue (the CPU a call then includes the pauses' idle work).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.app import create_app
from app.container import open_infrastructure
from bench.common import scratch_database
from domain.vocabulary import AgencyKind, Role
from infra.logging import configure_logging
from infra.readmodels import ProjectionRunner
from infra.search_attributes import dev_server_args
from infra.settings import Environment, Settings
from infra.stack import free_port, settle_heap, venv_binary
from infra.temporal import data_converter
from infra.users import UserDirectory
from worker.main import build_worker

BENCH_KEK = "Mm67Flg+tx3kasZlZBlP/CQ0gPWIRNN+V34fjBk8SLM="


def body(requester: str, holder: str) -> dict[str, Any]:
    return {
        "subject": {"name": "Bench Example", "date_of_birth": "2017-03-14"},
        "subject_kind": "child",
        "requesting_agency": requester,
        "holding_agencies": [holder],
        "purpose_category": "safeguarding_welfare",
        "purpose": "Strategy discussion after concerns raised by the school",
        "information_sought": "Police contact with the household in the last year",
        "rating": "amber",
    }


async def at_rate(rate: float, seconds: float, call: Callable[[], Any]) -> tuple[list[float], int]:
    """Start ``call`` every 1/``rate`` s for ``seconds``; latencies (ms) and errors."""
    latencies: list[float] = []
    errors = 0

    async def one() -> None:
        nonlocal errors
        started = time.perf_counter()
        try:
            response: httpx.Response = await call()
        except httpx.HTTPError:  # the server dropped the connection: an error, timed
            errors += 1
        else:
            errors += response.status_code >= 400
        latencies.append((time.perf_counter() - started) * 1000)

    loop = asyncio.get_running_loop()
    t0 = loop.time()
    tasks = []
    for i in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, t0 + i / rate - loop.time()))
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    return latencies, errors


def cpu_seconds() -> float:
    """CPU (user + system) this process has spent: server, worker and client together."""
    times = os.times()
    return times.user + times.system


def report(name: str, latencies: list[float], errors: int, cpu_s: float) -> None:
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{name}_cpu_ms_per_call={cpu_s * 1000 / len(latencies):.1f}")
    print(f"{name}_p50_ms={cuts[49]:.1f}")
    print(f"{name}_p95_ms={cuts[94]:.1f}")
    print(f"{name}_p99_ms={cuts[98]:.1f}")
    print(f"{name}_errors={errors}")


async def main(args: argparse.Namespace) -> None:
    import uvicorn

    async with scratch_database(args.url) as url:
        settings = Settings(
            environment=Environment.TEST,
            database_url=url,
            kek=BENCH_KEK,
            temporal_task_queue=f"api-bench-{uuid.uuid4().hex[:8]}",
            signin_failure_limit=10_000,
        )
        configure_logging(settings)  # as the processes do: MASHFLOW_LOG_LEVEL
        env = await WorkflowEnvironment.start_local(
            data_converter=data_converter(settings.key_encryption_key()),
            dev_server_existing_path=str(venv_binary("temporal")),
            dev_server_extra_args=["--log-level", "warn", *dev_server_args()],
            ui=False,
        )
        try:
            async with open_infrastructure(settings) as infra:
                holder = (await infra.agencies.add("police", "Police", AgencyKind.POLICE)).code
                requester = (
                    await infra.agencies.add("csc", "CSC", AgencyKind.CHILDRENS_SOCIAL_CARE)
                ).code
                users = UserDirectory(infra.engine)
                coordinator = (await users.add("Coordinator", Role.COORDINATOR, None)).token
                worker = (await users.add("Worker", Role.AGENCY_WORKER, holder)).token
                projections = ProjectionRunner(infra.store)
                projections.start()
                port = free_port()
                app = create_app(settings, engine=infra.engine, temporal=env.client)
                server = uvicorn.Server(
                    uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None)
                )
                settle_heap()  # as mashflow up does
                serving = asyncio.create_task(server.serve())
                try:
                    async with build_worker(
                        env.client,
                        settings.temporal_task_queue,
                        infra,
                        max_cached_workflows=settings.worker_max_cached_workflows,
                    ):
                        for _ in range(200):
                            if server.started:
                                break
                            await asyncio.sleep(0.05)
                        await run(args, f"http://127.0.0.1:{port}", coordinator, worker,
                                  requester, holder)  # fmt: skip
                finally:
                    server.should_exit = True
                    await serving
                    await projections.stop()
        finally:
            await env.shutdown()


async def run(
    args: argparse.Namespace,
    base: str,
    coordinator: str,
    worker: str,
    requester: str,
    holder: str,
) -> None:
    as_coordinator = {"Authorization": f"Bearer {coordinator}"}
    as_worker = {"Authorization": f"Bearer {worker}"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        gate = asyncio.Semaphore(8)

        async def open_one() -> str:
            async with gate:
                done = await http.post(
                    "/api/requests", json=body(requester, holder), headers=as_coordinator
                )
                return str(done.json()["request_id"])

        ids = await asyncio.gather(*(open_one() for _ in range(args.tasks)))
        inbox = (await http.get("/api/tasks", headers=as_worker)).json()["tasks"]
        print(f"inbox_tasks={len(inbox)}", flush=True)

        spent = cpu_seconds()
        measured = await at_rate(
            args.read_rate, args.seconds, lambda: http.get("/api/tasks", headers=as_worker)
        )
        report("tasks", *measured, cpu_seconds() - spent)
        spent = cpu_seconds()
        measured = await at_rate(
            args.read_rate,
            args.seconds,
            lambda: http.get(f"/api/requests/{ids[0]}", headers=as_coordinator),
        )
        report("request", *measured, cpu_seconds() - spent)
        spent = cpu_seconds()
        measured = await at_rate(
            args.write_rate,
            args.seconds,
            lambda: http.post(
                "/api/requests", json=body(requester, holder), headers=as_coordinator
            ),
        )
        report("open_request", *measured, cpu_seconds() - spent)
        spent = cpu_seconds()
        alone: list[float] = []
        errors = 0
        for _ in range(args.alone):  # one at a time: the call's own time, no queue
            started = time.perf_counter()
            done = await http.post(
                "/api/requests", json=body(requester, holder), headers=as_coordinator
            )
            alone.append((time.perf_counter() - started) * 1000)
            errors += done.status_code >= 400
            await asyncio.sleep(0.2)
        if alone:
            report("open_request_alone", alone, errors, cpu_seconds() - spent)
    load = os.getloadavg()
    print(f"load_average={load[0]:.2f},{load[1]:.2f},{load[2]:.2f}")
    print(f"bytecode={'off' if sys.dont_write_bytecode else 'on'}")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=200, help="tasks in the worker's inbox")
    parser.add_argument("--read-rate", type=float, default=50.0, help="reads per second")
    parser.add_argument("--write-rate", type=float, default=5.0, help="commands per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="per measured call")
    parser.add_argument(
        "--alone", type=int, default=40, help="commands sent one at a time, after the rest"
    )
    parser.add_argument("--url", help="PostgreSQL server URL (default: 127.0.0.1:5432)")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
