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
import hashlib
import os
import random
import resource
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import psutil
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import scratch_database
from domain import handlers as h
from domain.commands import (
    AcknowledgeReceipt,
    AssessPurpose,
    DetermineLawfulBasis,
    OpenPackage,
    OpenRequest,
    RecordConsent,
    RecordDecision,
    RecordInforming,
    RecordPackageSent,
    SeekConsent,
    SelectInformation,
)
from domain.decision import AgencyDecisionState, fold, start
from domain.events import Event, EventMetadata, RequestOpened, Sealed
from domain.events.values import InformationItem, InformPlan, LawfulBasis
from domain.models import Actor, Agency, AgencyRegister, Isp, IspRegister, SharingRequest
from domain.request import decide_close, decide_open, fold_request, start_request
from domain.vocabulary import (
    AgencyKind,
    Art6Basis,
    ConsentOutcome,
    FactOrOpinion,
    NotShareReason,
    Outcome,
    PurposeCategory,
    Rating,
    Role,
    SubjectKind,
)
from infra.crypto import Keyring
from infra.db import create_engine, plain_url
from infra.eventstore import EventStore, NewEvent
from infra.readmodels import TABLES, rebuild

REQUESTER = "csc"
HOLDERS = ("police", "school_oak", "gp_riverside", "probation", "housing")
AGENCIES = AgencyRegister(
    agencies=[
        Agency(
            code=REQUESTER,
            name="Children's social care",
            kind=AgencyKind.CHILDRENS_SOCIAL_CARE,
            public_key="A" * 43 + "=",
        ),
        Agency(code="police", name="Police", kind=AgencyKind.POLICE),
        Agency(code="school_oak", name="Oak Primary School", kind=AgencyKind.EDUCATION),
        Agency(code="gp_riverside", name="Riverside Surgery", kind=AgencyKind.HEALTH_GP),
        Agency(code="probation", name="Probation service", kind=AgencyKind.PROBATION),
        Agency(code="housing", name="Housing", kind=AgencyKind.HOUSING),
    ]
)
ISPS = IspRegister(
    isps=[
        Isp(
            isp_id=uuid.uuid5(uuid.NAMESPACE_URL, "bench-isp"),
            agencies=["police", REQUESTER],
            title="Safeguarding ISP",
            signed_on=date(2020, 1, 1),
        )
    ]
)
COORDINATOR = Actor(user_id="u-coordinator-1", role=Role.COORDINATOR)
RECIPIENT = Actor(user_id=f"u-recipient-{REQUESTER}", role=Role.RECIPIENT, agency=REQUESTER)
SUBJECTS = 64
"""Distinct data subjects; their sealed values are made once and reused (sealing a
million values would dominate the run and measure nothing of interest here)."""
PATHS = ("shared", "refused", "no_purpose")
PATH_WEIGHTS = (5, 3, 2)
EPOCH = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)

Phase = list[tuple[str, int, list[NewEvent]]]
"""Appends that may run concurrently: (stream id, expected version, events)."""


@dataclass(frozen=True)
class Subject:
    subject_id: uuid.UUID
    details: Sealed
    texts: tuple[Sealed, ...]


def worker(agency: str) -> Actor:
    return Actor(user_id=f"u-worker-{agency}", role=Role.AGENCY_WORKER, agency=agency)


def envelopes(
    events: Sequence[Event], actor: Actor | None, request_id: uuid.UUID
) -> list[NewEvent]:
    meta = EventMetadata(
        actor_id=actor.user_id if actor else None,
        actor_role=str(actor.role) if actor else None,
        actor_agency=actor.agency if actor else None,
        workflow_id=f"request-{request_id}",
        correlation_id=request_id,
    )
    return [NewEvent(uuid.uuid4(), e, meta) for e in events]


class Generator:
    """One request's history at a time, every event from a pure ``decide_*`` function."""

    def __init__(self, subjects: list[Subject], seed: int = 6) -> None:
        self.subjects = subjects
        self.rng = random.Random(seed)
        self.paths: Counter[str] = Counter()

    def request(self, i: int) -> list[Phase]:
        rng = self.rng
        subject = self.subjects[i % len(self.subjects)]
        t = subject.texts
        holders = rng.sample(HOLDERS, 2 if rng.random() < 0.35 else 1)
        paths = [rng.choices(PATHS, PATH_WEIGHTS)[0] for _ in holders]
        request_id = uuid.uuid4()
        now = EPOCH + timedelta(minutes=7 * i)
        opening = OpenRequest(
            request=SharingRequest(
                request_id=request_id,
                subject_id=subject.subject_id,
                subject_kind=SubjectKind.CHILD,
                requesting_agency=REQUESTER,
                requested_by=f"u-worker-{REQUESTER}",
                holding_agencies=holders,
                purpose_category=PurposeCategory.SAFEGUARDING_WELFARE,
                rating=rng.choice((Rating.AMBER, Rating.AMBER, Rating.GREEN)),
                subject_details=subject.details,
                purpose=t[0],
                information_sought=t[1],
            )
        )
        opened = decide_open(opening, COORDINATOR, now, AGENCIES, ISPS)
        first = opened[0]
        assert isinstance(first, RequestOpened)
        request = start_request(first)
        agency_appends: Phase = []
        completions: list[Event] = []
        for agency, path in zip(holders, paths, strict=True):
            self.paths[path] += 1
            events = self.agency(start(first, agency), path, now, t)
            agency_appends.append((f"request:{request_id}:agency:{agency}", 0, events))
            completions.append(events[-1].event)
        closed = decide_close(fold_request(request, completions), now + timedelta(days=2))
        return [
            [(f"request:{request_id}", 0, envelopes(opened, COORDINATOR, request_id))],
            agency_appends,
            [(f"request:{request_id}", 1, envelopes(closed, None, request_id))],
        ]

    def agency(
        self, state: AgencyDecisionState, path: str, now: datetime, t: tuple[Sealed, ...]
    ) -> list[NewEvent]:
        rid = state.request_id
        out: list[NewEvent] = []
        who = worker(state.agency)
        clock = [now]

        def step(actor: Actor | None, events: list[Event]) -> None:
            nonlocal state
            state = fold(state, events)
            out.extend(envelopes(events, actor, rid))

        def later() -> datetime:
            clock[0] += timedelta(minutes=20 + self.rng.randrange(120))
            return clock[0]

        assess = AssessPurpose(
            purpose_clear=path != "no_purpose",
            identifiable=True,
            confidential=True,
            special_category=False,
            note=t[2],
        )
        step(who, h.decide_assess_purpose(state, assess, who, later()))
        if path == "no_purpose":
            decision = RecordDecision(
                outcome=Outcome.NOT_SHARE,
                reasons=t[3],
                not_share_reasons=[NotShareReason.NO_LEGITIMATE_PURPOSE],
            )
            step(who, h.decide_record_decision(state, decision, who, later()))
            return out
        step(who, h.decide_seek_consent(state, SeekConsent(), who, later()))
        if path == "refused":
            refused = RecordConsent(outcome=ConsentOutcome.REFUSED, note=t[4])
            step(who, h.decide_record_consent(state, refused, who, later()))
            decision = RecordDecision(
                outcome=Outcome.NOT_SHARE,
                reasons=t[3],
                not_share_reasons=[NotShareReason.RESPECTING_REFUSAL],
            )
            step(who, h.decide_record_decision(state, decision, who, later()))
            return out
        given = RecordConsent(outcome=ConsentOutcome.GIVEN)
        step(who, h.decide_record_consent(state, given, who, later()))
        basis = DetermineLawfulBasis(basis=LawfulBasis(art6=Art6Basis.PUBLIC_TASK))
        step(who, h.decide_lawful_basis(state, basis, who, later()))
        moment = later()
        items = [
            InformationItem(
                item_id=uuid.uuid4(),
                description=t[5],
                content=t[6],
                kind=kind,
                dated=moment.date() - timedelta(days=40),
                source=t[7],
                historical=False,
            )
            for kind in (FactOrOpinion.FACT, FactOrOpinion.OPINION)
        ]
        step(who, h.decide_select_information(state, SelectInformation(items=items), who, moment))
        decision = RecordDecision(
            outcome=Outcome.SHARE,
            reasons=t[3],
            necessity=t[8],
            inform=InformPlan(will_inform=True),
        )
        step(who, h.decide_record_decision(state, decision, who, later()))
        package_id = uuid.uuid4()
        digest = hashlib.sha256(package_id.bytes).hexdigest()
        sent = RecordPackageSent(package_id=package_id, sha256=digest)
        step(None, h.decide_package_sent(state, sent, later()))
        step(
            RECIPIENT,
            h.decide_open_package(state, OpenPackage(package_id=package_id), RECIPIENT, later()),
        )
        ack = AcknowledgeReceipt(package_id=package_id, sha256=digest)
        step(RECIPIENT, h.decide_acknowledge(state, ack, RECIPIENT, later()))
        step(who, h.decide_inform(state, RecordInforming(informed=True), who, later()))
        return out


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
