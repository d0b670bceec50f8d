"""Replay benchmark: rebuild every read model from realistic request histories.

    .venv/bin/python bench/replay.py [--requests 100000] [--writers 8] [--url URL]

Generates ``--requests`` requests' event histories with the pure domain
``decide_*`` functions (so every event is one the workflows could have written),
appends them to a scratch database (one append per stream and step of the
workflow, several requests at once), then measures in the same run: the store's
raw ``read_all`` (decode and hash check, no projection), ``rebuild()`` of all
the read models, and the peak RSS during the rebuild. Uses the PostgreSQL at
127.0.0.1:5432 when it answers (or --url), else the embedded server; drops the
scratch database at the end. Prints figures, then one ``key=value`` a line (see
docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import psutil
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import scratch_database
from bench.replay_history import (
    SUBJECTS,
    Generator,
    Subject,
)
from infra.crypto import Keyring
from infra.db import create_engine, plain_url
from infra.eventstore import EventStore
from infra.readmodels import TABLES, rebuild


class Bench:
    def __init__(self, url: str, writers: int) -> None:
        self.url = url
        # Pools no larger than the writers need: the server's connections are shared.
        self.engine = create_engine(url, pool_size=writers + 2)
        self.keyring = Keyring(self.engine, os.urandom(32))
        self.store = EventStore(self.engine, keyring=self.keyring, pool_size=writers + 2)
        self.results: dict[str, float] = {}

    async def subjects(self) -> list[Subject]:
        session = self.keyring.session()
        out = []
        for n in range(SUBJECTS):
            sid = uuid.uuid4()
            details = await session.seal(sid, {"name": f"Child {n}", "date_of_birth": "2017-03-14"})
            texts = tuple(
                [await session.seal(sid, f"Recorded text {k} about child {n}") for k in range(9)]
            )
            out.append(Subject(sid, details, texts))
        return out

    async def populate(self, requests: int, writers: int) -> None:
        generator = Generator(await self.subjects())
        next_request = 0
        events = 0
        gen_s = 0.0
        started = time.perf_counter()

        async def writer() -> None:
            nonlocal next_request, events, gen_s
            while next_request < requests:
                i = next_request
                next_request += 1
                t0 = time.perf_counter()
                phases = generator.request(i)
                gen_s += time.perf_counter() - t0
                for phase in phases:
                    await asyncio.gather(
                        *(self.store.append(s, v, evs) for s, v, evs in phase if evs)
                    )
                    events += sum(len(evs) for _, _, evs in phase)
                if (i + 1) % 10000 == 0:
                    elapsed = time.perf_counter() - started
                    print(f"  {i + 1} requests, {events} events, {elapsed:.0f}s", flush=True)

        # Opened before the load, not after it: on a shared server every connection slot
        # may be taken by the time the load ends, and the run would be lost.
        admin = await asyncpg.connect(plain_url(self.url))
        try:
            await asyncio.gather(*(writer() for _ in range(writers)))
            elapsed = time.perf_counter() - started
            # Autovacuum would analyse the grown table in time; a benchmark cannot wait for it.
            await admin.execute("VACUUM ANALYZE events")
        finally:
            await admin.close()
        paths = ", ".join(f"{k} {v}" for k, v in sorted(generator.paths.items()))
        print(
            f"generated and appended {requests} requests, {events} events in {elapsed:.1f}s "
            f"({events / elapsed:.0f} ev/s; {gen_s:.1f}s of it in the decide functions); "
            f"agency decisions: {paths}"
        )
        self.results.update(requests=requests, events=events, populate_s=elapsed)

    async def read_all(self) -> None:
        started = time.perf_counter()
        count = 0
        async for _ in self.store.read_all(0, 1000):
            count += 1
        rate = count / (time.perf_counter() - started)
        self.results.update(read_all_events=count, read_all_events_per_s=rate)
        print(f"read_all (decode + hash check, no projection): {count} events, {rate:.0f} ev/s")

    async def rebuild(self) -> None:
        process = psutil.Process()
        rss_before = process.memory_info().rss
        peak = rss_before
        last_print = time.perf_counter()

        def progress(done: int, total: int) -> None:
            nonlocal peak, last_print
            peak = max(peak, process.memory_info().rss)
            now = time.perf_counter()
            if now - last_print > 30:
                last_print = now
                print(f"  rebuild {done}/{total}", flush=True)

        started = time.perf_counter()
        applied = await rebuild(self.store, progress)
        elapsed = time.perf_counter() - started
        peak = max(peak, process.memory_info().rss)
        rate = applied / elapsed
        ratio = rate / self.results["read_all_events_per_s"]
        async with self.engine.connect() as conn:
            rows = {
                t: int(await conn.scalar(text(f"SELECT count(*) FROM {t}")) or 0) for t in TABLES
            }
        self.results.update(
            rebuild_events=applied,
            rebuild_s=elapsed,
            rebuild_events_per_s=rate,
            rebuild_ratio=ratio,
            rebuild_rss_before_mb=rss_before / 2**20,
            rebuild_peak_rss_mb=peak / 2**20,
            max_rss_process_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        )
        print(
            f"rebuild: {applied} events in {elapsed:.1f}s, {rate:.0f} ev/s, ratio to read_all "
            f"{ratio:.3f}; RSS {rss_before / 2**20:.0f} MB before, peak {peak / 2**20:.0f} MB; "
            + ", ".join(f"{t} {n} rows" for t, n in rows.items())
        )

    def summary(self) -> None:
        r = self.results
        print()
        for key in (
            "requests",
            "events",
            "read_all_events_per_s",
            "rebuild_events_per_s",
            "rebuild_ratio",
            "rebuild_peak_rss_mb",
            "rebuild_rss_before_mb",
            "rebuild_s",
            "populate_s",
        ):
            value = r[key]
            print(f"{key}={value:.3f}" if value < 10 else f"{key}={value:.0f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000, help="requests to generate")
    parser.add_argument("--writers", type=int, default=8, help="requests appended at once")
    parser.add_argument("--url", help="superuser URL of a PostgreSQL server")
    args = parser.parse_args()

    async with scratch_database(args.url) as url:
        bench = Bench(url, args.writers)
        try:
            await bench.populate(args.requests, args.writers)
            await bench.read_all()
            await bench.rebuild()
            bench.summary()
        finally:
            await bench.store.close()
            await bench.engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
