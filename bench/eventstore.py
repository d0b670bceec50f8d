"""Event store benchmark: appends and replay against raw SQL, measured in the same run.

    .venv/bin/python bench/eventstore.py [--events 1000000] [--seconds 3] [--url URL]

Uses the PostgreSQL at 127.0.0.1:5432 when it answers (or --url), else the
embedded server; works in a scratch database it drops at the end. Prints a
table, then one ``key=value`` a line (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import scratch_database
from bench.eventstore_raw import (
    POOL,
    RAW_INSERT,
    RAW_SELECT,
    RAW_TABLES,
    REPLAY_PASSES,
    NoteRecorded,
    keep_session,
    side_by_side,
    timed,
)
from domain.events import EventMetadata, Sealed
from infra.crypto import Keyring, KeySession
from infra.db import create_engine, plain_url
from infra.eventstore import ANY_VERSION, EventStore, NewEvent
from infra.eventstore.read_sql import ALL_ARRAYS_SQL
from infra.eventstore.store import _slices
from infra.sealed_format import place


class Bench:
    def __init__(self, url: str, seconds: float) -> None:
        self.url = url
        self.seconds = seconds
        self.engine = create_engine(url, pool_size=40)
        kek = os.urandom(32)
        self.keyring = Keyring(self.engine, kek)
        # The store's pool as large as the raw side's (32), so 32 writers get 32 connections.
        self.store = EventStore(self.engine, keyring=self.keyring, pool_size=POOL)
        self.results: dict[str, float] = {}
        self.sealed: list[Sealed] = []
        self.people: list[tuple[uuid.UUID, dict[str, str]]] = []
        self.keys: KeySession = self.keyring.session()
        self.replay_from = 0  # the log's last position before the replay's events

    async def setup(self) -> None:
        conn = await asyncpg.connect(plain_url(self.url))
        try:
            await conn.execute(RAW_TABLES)
        finally:
            await conn.close()
        self.people = [
            (uuid.uuid4(), {"name": f"Person {i}", "dob": "2014-05-06"}) for i in range(1000)
        ]
        # Values sealed once for their subject (the position strategies' rows); the
        # edge's key session, every key loaded, which seals each event's value for its
        # place on both sides of the append figures (same events, same client work).
        self.sealed = [await self.keys.seal(subject, plain) for subject, plain in self.people]

    def batch(self, w: int, i: int, size: int, stream: str | None = None) -> list[NewEvent]:
        """``size`` events of writer ``w``; with ``stream``, each person sealed at the edge
        for the event's place there, as both sides of the append figures build them (the
        store then seals nothing and reads no key), else the value sealed once for its
        subject (the position strategies' rows)."""
        request = uuid.uuid5(uuid.NAMESPACE_URL, f"{w}")
        meta = EventMetadata(
            actor_id=f"worker-{w}", actor_role="coordinator", correlation_id=request
        )
        n = (w * 31 + i) % len(self.people)
        events = []
        for _ in range(size):
            event_id = uuid.uuid4()
            if stream is None:
                person = self.sealed[n]
            else:
                subject, plain = self.people[n]
                where = place(stream, event_id, NoteRecorded.event_type, "person")
                person = self.keys.seal_at_loaded(subject, plain, where)
            note = NoteRecorded(request_id=request, step=i, outcome="shared", person=person)
            events.append(NewEvent(event_id, note, meta))
        return events

    async def appends(self) -> None:
        # The raw side gets the same pool treatment as the store's own pool (no reset
        # query on release), so the ratio compares statements, not pool settings.
        pool = await asyncpg.create_pool(
            plain_url(self.url), min_size=POOL, max_size=POOL, reset=keep_session
        )
        assert pool is not None
        await self.warm_store_pool()
        try:
            for size in (1, 10):
                for writers in (1, 8, 32):
                    raw_one, store_one = self.sides(pool, size, writers, "raw_events")
                    raw, ours = await side_by_side(writers, self.seconds, raw_one, store_one)
                    key = f"{size}x{writers}"
                    self.results[f"raw_append_{key}"] = raw
                    self.results[f"store_append_{key}"] = ours
                    print(
                        f"append {size:>2} ev/tx {writers:>2} writers: store {ours:>9.0f} ev/s"
                        f"  raw {raw:>9.0f} ev/s  ratio {ours / raw:.2f}"
                    )
            bare_one, store_one = self.sides(pool, 1, 8, "bare_events")
            bare, ours = await side_by_side(8, self.seconds, bare_one, store_one)
            self.results["bare_append_1x8"] = bare
            self.results["store_append_1x8_vs_bare"] = ours
            print(
                f"append  1 ev/tx  8 writers: store {ours:>9.0f} ev/s  bare {bare:>9.0f} ev/s"
                f"  ratio {ours / bare:.2f} (the baseline of runs A-O: no constraints, no"
                " correlation index)"
            )
            await self.strategies(pool)
        finally:
            await pool.close()

    def sides(
        self, pool: asyncpg.Pool, size: int, writers: int, table: str
    ) -> tuple[Callable[[int, int], Awaitable[int]], Callable[[int, int], Awaitable[int]]]:
        """One append of ``size`` events by writer ``w``: raw into ``table``, and the store's."""
        run = uuid.uuid4().hex[:8]
        versions = [0] * writers
        raw_versions = [0] * writers
        insert = RAW_INSERT.replace("raw_events", table)

        async def store_one(w: int, i: int) -> int:
            stream = f"bench-{run}-{w}"
            result = await self.store.append(stream, versions[w], self.batch(w, i, size, stream))
            versions[w] = result.version
            return size

        async def raw_one(w: int, i: int) -> int:
            stream = f"raw-{run}-{w}"
            evs = self.batch(w, i, size, stream)
            async with pool.acquire() as conn:
                await conn.execute(
                    insert,
                    stream,
                    raw_versions[w],
                    [e.event_id for e in evs],
                    [e.event.model_dump_json() for e in evs],
                    evs[0].metadata.model_dump_json(),
                    evs[0].metadata.correlation_id,
                )
            raw_versions[w] += size
            return size

        return raw_one, store_one

    async def warm_store_pool(self) -> None:
        """Open all the store's connections now, as the raw pool (min_size) already has:
        otherwise the store's first figures at 8 and 32 writers would pay for connecting."""

        async def hold() -> None:
            async with self.store.connections.acquire() as conn:
                await conn.fetchval("SELECT 1")
                await asyncio.sleep(0.2)

        await asyncio.gather(*(hold() for _ in range(POOL)))

    async def strategies(self, pool: asyncpg.Pool) -> None:
        """The two position strategies on equally shaped raw tables, one event per tx."""
        data = self.batch(0, 0, 1)[0].event.model_dump_json()
        for writers in (1, 8):
            run = uuid.uuid4().hex[:8]

            async def serialised(w: int, i: int, run: str = run) -> int:
                async with pool.acquire() as conn:
                    await conn.fetchval(
                        "SELECT ser_append($1, $2, $3, $4::text::jsonb, '{}')",
                        f"s-{run}-{w}",
                        i + 1,
                        uuid.uuid4(),
                        data,
                    )
                return 1

            async def horizon(w: int, i: int, run: str = run) -> int:
                async with pool.acquire() as conn:
                    await conn.execute(
                        "INSERT INTO raw_events (position, stream_id, version, event_id, "
                        "event_type, schema_version, data, metadata) VALUES "
                        "(pg_current_xact_id()::text::bigint * 65536 + 1, $1, $2, $3, 'b', 1, "
                        "$4::text::jsonb, '{}')",
                        f"x-{run}-{w}",
                        i + 1,
                        uuid.uuid4(),
                        data,
                    )
                return 1

            ser = await timed(writers, self.seconds, serialised)
            xid = await timed(writers, self.seconds, horizon)
            self.results[f"serialised_{writers}"] = ser
            self.results[f"xid_horizon_{writers}"] = xid
            print(
                f"position strategy, {writers} writers: serialised {ser:.0f} ev/s, "
                f"xid horizon {xid:.0f} ev/s"
            )

    async def populate(self, total: int) -> None:
        async with self.store.connections.acquire() as conn:
            self.replay_from = int(await conn.fetchval("SELECT max(position) FROM events"))
        per_stream = 100
        streams = total // per_stream
        started = time.perf_counter()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for s in range(streams):
            queue.put_nowait(s)

        async def worker() -> None:
            while not queue.empty():
                s = queue.get_nowait()
                stream = f"replay-{s}"
                await self.store.append(stream, ANY_VERSION, self.batch(s, 0, per_stream, stream))

        await asyncio.gather(*(worker() for _ in range(6)))
        elapsed = time.perf_counter() - started
        # Autovacuum would analyse the grown table in time; a benchmark cannot wait for it.
        conn = await asyncpg.connect(plain_url(self.url))
        try:
            await conn.execute("VACUUM ANALYZE events")
        finally:
            await conn.close()
        print(
            f"populated {streams * per_stream} events in {elapsed:.1f}s "
            f"({streams * per_stream / elapsed:.0f} ev/s in batches of {per_stream})"
        )

    async def raw_batches(self, batch: int) -> AsyncIterator[list[asyncpg.Record]]:
        async def fetch(after: int) -> list[asyncpg.Record]:
            async with self.store.connections.acquire() as conn:
                rows: list[asyncpg.Record] = await conn.fetch(RAW_SELECT.format(limit=batch), after)
                return rows

        pending = asyncio.create_task(fetch(0))
        while rows := await pending:
            pending = asyncio.create_task(fetch(rows[-1][0]))
            await asyncio.sleep(0)
            yield rows

    async def raw_select(self, batch: int) -> float:
        started = time.perf_counter()
        raw_rows = 0
        async for rows in self.raw_batches(batch):
            raw_rows += len(rows)
        return raw_rows / (time.perf_counter() - started)

    async def replay_pass(self, batch: int, process: psutil.Process) -> tuple[int, int, float, int]:
        """One timed replay of the whole log: events, values opened, events/s, peak RSS."""
        peak = process.memory_info().rss
        session = self.keyring.session()  # a fresh session: every key is fetched in the pass
        opened = 0
        started = time.perf_counter()
        count = 0
        async for recorded in self.store.read_all(0, batch, keys=session):
            count += 1
            person = getattr(recorded.event, "person", None)
            if person is not None:
                try:  # each batch's keys come in with the batch (one query); opens are dict hits
                    session.open_loaded(person)
                except KeyError:
                    await session.open(person)
                opened += 1
            if count % 20000 == 0:
                peak = max(peak, process.memory_info().rss)
        rate = count / (time.perf_counter() - started)
        return count, opened, rate, max(peak, process.memory_info().rss)

    async def replay(self, batch: int = 5000) -> None:
        process = psutil.Process()
        rss_before = process.memory_info().rss
        # Raw: the same rows, every column as stored (JSON as text), the same keyset
        # pagination and batch size, one batch prefetched, no decoding at all. A fixed
        # query: whatever the store selects, the baseline does not get slower with it.
        # Alternating passes (raw, replay, raw, replay, raw), the best of each side kept:
        # a burst of other work on this shared machine lands on one pass, not on a figure,
        # and the baseline gets one pass more than the replay.
        raw_rates = [await self.raw_select(batch)]
        rates: list[float] = []
        peak = process.memory_info().rss
        count = opened = 0
        for _ in range(REPLAY_PASSES):
            count, opened, rate, pass_peak = await self.replay_pass(batch, process)
            rates.append(rate)
            peak = max(peak, pass_peak)
            raw_rates.append(await self.raw_select(batch))
        rate, raw_rate = max(rates), max(raw_rates)
        median_ratio = statistics.median(rates) / statistics.median(raw_rates)
        self.results.update(
            replay_events=count,
            replay_events_per_s=rate,
            raw_select_rows_per_s=raw_rate,
            replay_ratio=rate / raw_rate,
            replay_events_per_s_median=statistics.median(rates),
            replay_ratio_medians=median_ratio,
            replay_opened=opened,
            replay_rss_before_mb=rss_before / 2**20,
            replay_peak_rss_mb=peak / 2**20,
        )
        passes = ", ".join(f"{r:.0f}" for r in rates)
        raw_passes = ", ".join(f"{r:.0f}" for r in raw_rates)
        print(
            f"replay {count} events (hash-checked, decoded, {opened} values decrypted): "
            f"{rate:.0f} ev/s (passes: {passes}); "
            f"raw SELECT {raw_rate:.0f} rows/s (passes: {raw_passes}); "
            f"ratio {rate / raw_rate:.2f} (of the medians {median_ratio:.2f}); "
            f"RSS {rss_before / 2**20:.0f} MB before, peak {peak / 2**20:.0f} MB"
        )

    async def decode_cpu(self, rows: int = 20000, repeats: int = 15) -> None:
        """CPU an event to decode (hash, chain, model, place check) and open the replay's
        first ``rows`` events, fetched once and decoded again and again; best of
        ``repeats`` by the process's CPU clock, the figure least moved by other work."""
        async with self.store.connections.acquire() as conn:
            positions, chained, hashes = await conn.fetchrow(
                ALL_ARRAYS_SQL.format(limit=rows), self.replay_from
            )
        session = self.keyring.session()
        await session.load([subject for subject, _ in self.people])
        best = float("inf")
        slices = _slices(positions, chained, hashes)  # as read_all decodes them
        for _ in range(repeats):
            decode = self.store.decoder().decode_rows
            started = time.process_time()
            for columns in slices:
                for recorded in decode(zip(*columns, strict=True)):
                    session.open_loaded(recorded.event.person)  # type: ignore[attr-defined]
            best = min(best, time.process_time() - started)
        self.results["replay_cpu_us_per_event"] = best / len(positions) * 1e6
        print(f"decode and open in memory: {best / len(positions) * 1e6:.2f} µs of CPU an event")

    def summary(self) -> None:
        r = self.results
        lines = {
            "append_events_per_s": r["store_append_1x8"],
            "raw_append_events_per_s": r["raw_append_1x8"],
            "append_ratio": r["store_append_1x8"] / r["raw_append_1x8"],
            **{k: v for k, v in r.items() if k.startswith(("store_append", "raw_append"))},
            "bare_append_ratio": r["store_append_1x8_vs_bare"] / r["bare_append_1x8"],
            "bare_append_1x8": r["bare_append_1x8"],
            "serialised_ratio_8": r["serialised_8"] / r["raw_append_1x8"],
            "xid_horizon_ratio_8": r["xid_horizon_8"] / r["raw_append_1x8"],
            "serialised_8": r["serialised_8"],
            "xid_horizon_8": r["xid_horizon_8"],
            "replay_events": r["replay_events"],
            "replay_events_per_s": r["replay_events_per_s"],
            "raw_select_rows_per_s": r["raw_select_rows_per_s"],
            "replay_ratio": r["replay_ratio"],
            "replay_events_per_s_median": r["replay_events_per_s_median"],
            "replay_ratio_medians": r["replay_ratio_medians"],
            "replay_peak_rss_mb": r["replay_peak_rss_mb"],
            "replay_rss_before_mb": r["replay_rss_before_mb"],
            "replay_cpu_us_per_event": r["replay_cpu_us_per_event"],
        }
        print()
        for key, value in lines.items():
            shown = f"{value:.2f}" if isinstance(value, float) and value < 100 else f"{value:.0f}"
            print(f"{key}={shown}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events to replay")
    parser.add_argument("--seconds", type=float, default=3.0, help="per append measurement")
    parser.add_argument("--url", help="superuser URL of a PostgreSQL server")
    args = parser.parse_args()

    async with scratch_database(args.url) as url:
        bench = Bench(url, args.seconds)
        try:
            await bench.setup()
            await bench.appends()
            await bench.populate(args.events)
            await bench.replay()
            await bench.decode_cpu()
            bench.summary()
        finally:
            await bench.store.close()
            await bench.engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
