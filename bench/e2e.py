"""End to end: mashflow's real path against a bare Temporal design of the same shape.

    .venv/bin/python bench/e2e.py [--requests 40] [--rounds 3] [--concurrency 8]
                                  [--open 2000] [--sqlite] [--url URL]

One Temporal dev server (in memory, or on a SQLite file with ``--sqlite``) and a scratch
PostgreSQL database. Each round runs ``--requests`` one-agency requests that share with
consent through mashflow (the worker, its activities, the event store, sealing; the
``consent_given`` scenario, driven as people would through the application layer),
then the same number through the bare design of ``bench/bare_workflows.py`` (parent,
child, nine updates, an activity each), alternating sides so that both see the same
machine. Then ``--open`` mashflow requests are opened and left waiting, and the
process's RSS is read (the worker, the driver and the client live in this process).

Prints one ``key=value`` a line at the end: ``e2e_ratio`` (mashflow's requests/s over
the bare design's: above 1 means mashflow's shape is the cheaper), ``e2e_cpu_ratio``
(the bare design's CPU a request over mashflow's, counting this process, the Temporal
server and the PostgreSQL backends of the scratch database: above 1 means mashflow spends
less; steadier than throughput on a busy machine), both rates and CPU costs, the
history events and bytes of one request on each side, ``worker_rss_mib_<open>``, the
load average and whether bytecode was written (``PYTHONDONTWRITEBYTECODE``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import psutil
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import scenarios
from app.container import build_container, open_infrastructure
from app.scenario_builder import Hub, open_request
from bench.bare_workflows import STEPS, BareDecision, BareRequest, Step, bare_record
from bench.common import CpuMeter, scratch_database
from infra.directory import AlreadyExistsError
from infra.logging import configure_logging
from infra.search_attributes import dev_server_args
from infra.settings import Environment, Settings
from infra.stack import venv_binary
from infra.temporal import data_converter
from worker.main import build_worker
from workflows.common import agency_workflow_id, request_workflow_id

BENCH_KEK = "Mm67Flg+tx3kasZlZBlP/CQ0gPWIRNN+V34fjBk8SLM="
"""A fixed key for the scratch database only."""

HUB = [("police", "Police", "police"), ("csc", "Children's social care", "childrens_social_care")]

Run = Callable[[int], Awaitable[object]]


async def in_parallel(count: int, concurrency: int, run: Run) -> float:
    """Run ``count`` requests, ``concurrency`` at a time; the seconds it took."""
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await run(i)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return time.perf_counter() - started


async def bare_request(client: Client, queue: str) -> str:
    """One bare request through every update; its workflow id."""
    wid = f"bare-{uuid.uuid4()}"
    handle = await client.start_workflow(BareRequest.run, ["police"], id=wid, task_queue=queue)
    child = client.get_workflow_handle(f"{wid}-police")
    for name in STEPS:
        for _ in range(600):
            try:
                await child.execute_update(BareDecision.step, Step(name, "u-worker"))
                break
            except (RPCError, WorkflowUpdateFailedError):
                await asyncio.sleep(0.05)  # the child has not started, or the step waits
    await handle.result()
    return wid


async def history_size(client: Client, workflow_ids: list[str]) -> tuple[int, int]:
    """Events and bytes of the given workflows' histories together."""
    events = size = 0
    for wid in workflow_ids:
        history = await client.get_workflow_handle(wid).fetch_history()
        events += len(history.events)
        size += sum(e.ByteSize() for e in history.events)
    return events, size


async def main(args: argparse.Namespace) -> None:
    extra = ["--log-level", "warn", *dev_server_args()]
    if args.sqlite:
        extra += ["--db-filename", str(Path(tempfile.mkdtemp(prefix="e2e-")) / "temporal.db")]
    async with scratch_database(args.url) as url:
        settings = Settings(environment=Environment.TEST, database_url=url, kek=BENCH_KEK)
        configure_logging(settings)  # as the processes do: MASHFLOW_LOG_LEVEL
        env = await WorkflowEnvironment.start_local(
            data_converter=data_converter(settings.key_encryption_key()),
            dev_server_existing_path=str(venv_binary("temporal")),
            dev_server_extra_args=extra,
            ui=False,
        )
        try:
            await measure(args, settings, env)
        finally:
            await env.shutdown()


async def measure(args: argparse.Namespace, settings: Settings, env: WorkflowEnvironment) -> None:
    client = env.client
    bare_client = await Client.connect(client.service_client.config.target_host)
    queue, bare_queue = f"e2e-{uuid.uuid4().hex[:8]}", f"bare-{uuid.uuid4().hex[:8]}"
    async with open_infrastructure(settings) as infra:
        for code, name, kind in HUB:
            with contextlib.suppress(AlreadyExistsError):
                await infra.agencies.add(code, name, kind)
        container = build_container(infra, client, task_queue=queue)
        requests = container.requests
        hub = Hub(requests, container.packages)
        bare_worker = Worker(
            bare_client,
            task_queue=bare_queue,
            workflows=[BareRequest, BareDecision],
            activities=[bare_record],
        )
        cached = settings.worker_max_cached_workflows  # the worker process's default
        async with build_worker(client, queue, infra, max_cached_workflows=cached), bare_worker:
            mash_ids: list[str] = []
            bare_ids: list[str] = []

            async def mash_one(i: int) -> None:
                rid = await scenarios.consent_given(hub, f"Bench Example {i}")
                await requests.result(rid)
                mash_ids.append(str(rid))

            async def bare_one(_: int) -> None:
                bare_ids.append(await bare_request(bare_client, bare_queue))

            await in_parallel(2, 2, mash_one)  # warm-up: imports, pools, caches
            await in_parallel(2, 2, bare_one)
            mash_rates: list[float] = []
            bare_rates: list[float] = []
            mash_cpu: list[float] = []
            bare_cpu: list[float] = []
            splits: dict[str, dict[str, float]] = {"mashflow": {}, "bare": {}}
            meter = CpuMeter(str(settings.database_url).rsplit("/", 1)[-1])
            for r in range(args.rounds):
                sides = [
                    ("mashflow", mash_one, mash_rates, mash_cpu),
                    ("bare", bare_one, bare_rates, bare_cpu),
                ]
                for side, run, rates, cpu in sides if r % 2 == 0 else reversed(sides):
                    before = meter.split()
                    seconds = await in_parallel(args.requests, args.concurrency, run)
                    after = meter.split()
                    cpu.append(sum(after.values()) - sum(before.values()))
                    cpu[-1] *= 1000 / args.requests
                    for part, spent in after.items():
                        share = (spent - before[part]) * 1000 / args.requests / args.rounds
                        splits[side][part] = splits[side].get(part, 0.0) + share
                    rates.append(args.requests / seconds)
                    print(
                        f"round {r + 1} {side}: {rates[-1]:.2f} requests/s, "
                        f"{cpu[-1]:.0f} ms CPU a request",
                        flush=True,
                    )
            rid = uuid.UUID(mash_ids[-1])
            mash_events, mash_bytes = await history_size(
                client, [request_workflow_id(rid), agency_workflow_id(rid, "police")]
            )
            bare_events, bare_bytes = await history_size(
                bare_client, [bare_ids[-1], f"{bare_ids[-1]}-police"]
            )
            rss = await open_and_park(hub, args.open, args.concurrency)
    mash, bare = statistics.median(mash_rates), statistics.median(bare_rates)
    mash_ms, bare_ms = statistics.median(mash_cpu), statistics.median(bare_cpu)
    load = os.getloadavg()
    print(f"e2e_ratio={mash / bare:.2f}")
    print(f"e2e_cpu_ratio={bare_ms / mash_ms:.2f}")
    print(f"mashflow_cpu_ms_per_request={mash_ms:.0f}")
    print(f"bare_cpu_ms_per_request={bare_ms:.0f}")
    for side, split in splits.items():  # mean CPU a request, by process
        print(f"{side}_cpu_ms_split=" + ",".join(f"{p}:{ms:.0f}" for p, ms in split.items()))
    print(f"mashflow_requests_per_s={mash:.2f}")
    print(f"bare_requests_per_s={bare:.2f}")
    print(f"mashflow_history_events={mash_events}")
    print(f"mashflow_history_bytes={mash_bytes}")
    print(f"bare_history_events={bare_events}")
    print(f"bare_history_bytes={bare_bytes}")
    print(f"worker_rss_mib_{args.open}={rss:.0f}")
    print(f"max_cached_workflows={settings.worker_max_cached_workflows}")
    print(f"temporal_persistence={'sqlite' if args.sqlite else 'memory'}")
    print(f"load_average={load[0]:.2f},{load[1]:.2f},{load[2]:.2f}")
    print(f"bytecode={'off' if sys.dont_write_bytecode else 'on'}")


async def open_and_park(hub: Hub, count: int, concurrency: int) -> float:
    """Open ``count`` requests and leave them waiting for a worker; the RSS in MiB."""

    async def open_one(i: int) -> None:
        await open_request(hub, f"Parked Example {i}", ["police"])

    await in_parallel(count, concurrency, open_one)
    await asyncio.sleep(2)  # let the children start and park
    return float(psutil.Process().memory_info().rss) / 2**20


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="requests per side and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--open", type=int, default=2000, help="requests left open for RSS")
    parser.add_argument("--sqlite", action="store_true", help="Temporal on a SQLite file")
    parser.add_argument("--url", help="PostgreSQL server URL (default: 127.0.0.1:5432)")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
