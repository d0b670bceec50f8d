"""The read models follow real requests: status, outcomes, tasks, deadlines, and rebuilds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from app import scenarios
from app.container import Infrastructure
from app.queries import Queries
from app.scenario_builder import Hub, Walk, open_request
from domain.commands import SeekConsent
from domain.decision import TaskKind
from domain.vocabulary import Rating
from infra.readmodels import Projection, rebuild, reset, snapshot
from tests.compliance.build import shared_path
from tests.readmodels.settle import settled


async def caught_up(infra: Infrastructure, *rids: UUID) -> Queries:
    return await settled(infra, *rids)


async def task_ids(queries: Queries, rid: UUID, agency: str) -> set[str]:
    async with queries.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT task_id FROM rm_tasks WHERE request_id = :r AND holder = :a"),
            {"r": rid, "a": agency},
        )
        return {r[0] for r in rows}


async def test_a_shared_request_reads_as_closed_with_its_outcome(
    hub: Hub, infra: Infrastructure
) -> None:
    rid = await scenarios.consent_given(hub)
    await hub.requests.result(rid)
    queries = await caught_up(infra, rid)
    found = await queries.get_request(rid)
    assert found is not None
    assert (found.status, found.requesting_agency, found.rating) == ("closed", "csc", "amber")
    (police,) = found.agencies
    assert (police.agency, police.status, police.outcome) == ("police", "completed", "share")
    assert police.on_time is True and police.missed == []
    assert found.closed_at is not None and not found.overdue(found.closed_at + timedelta(days=30))
    assert await task_ids(queries, rid, "police") == set()


async def test_tasks_follow_each_step_and_vanish_on_withdrawal(
    hub: Hub, infra: Infrastructure
) -> None:
    rid, subject = await open_request(hub, "Gil Example", ["police", "asc"])
    walk = Walk(hub, rid, subject, "police")
    await walk.assess()
    await Walk(hub, rid, subject, "asc").until(TaskKind.ASSESS_PURPOSE)
    queries = await caught_up(infra, rid)
    version = (await hub.requests.tasks(rid, "police")).version
    assert await task_ids(queries, rid, "police") == {f"{rid}:police:resolve_consent:{version}"}
    assert await task_ids(queries, rid, "asc") == {f"{rid}:asc:assess_purpose:0"}

    await walk.by_worker("seek_consent", SeekConsent())
    queries = await caught_up(infra, rid)
    version = (await hub.requests.tasks(rid, "police")).version
    assert await task_ids(queries, rid, "police") == {f"{rid}:police:resolve_consent:{version}"}
    found = await queries.get_request(rid)
    assert found is not None and found.status == "open"
    assert found.time_left(found.opened_at) == found.decision_due_at - found.opened_at

    await hub.requests.withdraw(hub.coordinator, rid, "No longer needed", subject)
    await hub.requests.result(rid)
    queries = await caught_up(infra, rid)
    found = await queries.get_request(rid)
    assert found is not None and found.status == "withdrawn"
    assert {a.status for a in found.agencies} == {"withdrawn"}
    assert await task_ids(queries, rid, "police") == set()
    assert await task_ids(queries, rid, "asc") == set()


async def test_a_missed_deadline_shows_as_overdue_then_late(
    hub: Hub, infra: Infrastructure, time_skipping_env: WorkflowEnvironment
) -> None:
    opened: asyncio.Queue[UUID] = asyncio.Queue()
    answered = asyncio.Event()
    running = asyncio.create_task(scenarios.deadline_missed(hub, opened, answered))
    rid = await opened.get()
    queries = await caught_up(infra, rid)
    found = await queries.get_request(rid)
    assert found is not None and not found.overdue(found.opened_at)

    await time_skipping_env.sleep(timedelta(hours=5))
    queries = await caught_up(infra, rid)
    now = await time_skipping_env.get_current_time()
    found = await queries.get_request(rid)
    assert found is not None and found.agencies[0].missed == ["decision"]
    assert found.overdue(now)
    left = found.time_left(now)
    assert left is not None and left < timedelta(0)
    overdue = await queries.list_requests(overdue=True, agency="probation", now=now)
    assert rid in {r.request_id for r in overdue}
    on_time = await queries.list_requests(overdue=False, agency="probation", now=now)
    assert rid not in {r.request_id for r in on_time}
    times = {t.agency: t for t in await queries.agency_response_times(now)}
    assert times["probation"].overdue_now >= 1

    answered.set()
    assert await running == rid
    await hub.requests.result(rid)
    queries = await caught_up(infra, rid)
    found = await queries.get_request(rid)
    assert found is not None and found.status == "closed"
    (probation,) = found.agencies
    assert (probation.outcome, probation.on_time) == ("not_share", False)
    times = {t.agency: t for t in await queries.agency_response_times(now)}
    assert times["probation"].late >= 1 and times["probation"].missed_deadlines >= 1


def mine(tables: dict[str, list[Any]], rids: set[UUID]) -> dict[str, list[dict[str, Any]]]:
    return {t: [dict(r) for r in rows if r["request_id"] in rids] for t, rows in tables.items()}


async def test_rebuilding_from_empty_gives_identical_tables(
    hub: Hub, infra: Infrastructure
) -> None:
    rids = {
        await scenarios.consent_refused_not_shared(hub),
        await scenarios.red_consent_not_sought(hub),
    }
    for rid in rids:
        await hub.requests.result(rid)
    open_rid, _ = await open_request(hub, "Hal Example", ["school_oak", "police"])
    rids.add(open_rid)
    await caught_up(infra, *rids)
    live = await snapshot(infra.engine)
    assert all(any(r["request_id"] == rid for r in live["rm_requests"]) for rid in rids)
    seen: list[tuple[int, int]] = []
    applied = await rebuild(infra.store, lambda d, t: seen.append((d, t)))
    assert applied > 0 and seen[-1][0] == applied
    rebuilt = await snapshot(infra.engine)
    assert mine(rebuilt, rids) == mine(live, rids)
    assert len(rebuilt["rm_requests"]) == len(live["rm_requests"])


async def test_the_inbox_puts_red_first_and_shows_only_the_callers_work(
    hub: Hub, infra: Infrastructure
) -> None:
    rids: dict[Rating, UUID] = {}
    for rating in (Rating.GREEN, Rating.RED, Rating.AMBER):
        rid, subject = await open_request(hub, "Ivy Example", ["asc"], rating=rating)
        await Walk(hub, rid, subject, "asc").until(TaskKind.ASSESS_PURPOSE)
        rids[rating] = rid
    queries = await caught_up(infra, *rids.values())
    now = datetime.now(UTC)
    worker = [
        t for t in await queries.inbox(hub.worker("asc"), now) if t.request_id in rids.values()
    ]
    assert [t.rating for t in worker] == ["red", "amber", "green"]
    assert {t.kind for t in worker} == {"assess_purpose"}
    for other in (hub.advisor("asc"), hub.worker("police"), hub.recipient, hub.coordinator):
        seen = {t.request_id for t in await queries.inbox(other, now)}
        assert not seen & set(rids.values())
    mine_ = await queries.list_requests(agency="asc", now=now)
    assert set(rids.values()) <= {r.request_id for r in mine_}
    police = await queries.list_requests(agency="police", now=now)
    assert not set(rids.values()) & {r.request_id for r in police}
    red = await queries.list_requests(rating="red", agency="asc", now=now)
    assert rids[Rating.RED] in {r.request_id for r in red}
    assert rids[Rating.GREEN] not in {r.request_id for r in red}


async def test_two_runners_apply_each_event_once_between_them(infra: Infrastructure) -> None:
    """A rolling deploy runs two projections at once: each event lands exactly once."""
    built = [await shared_path(infra.store, infra.keyring) for _ in range(2)]
    rids = {b.request_id for b in built}
    await caught_up(infra, *rids)
    live = await snapshot(infra.engine)
    await reset(infra.store)
    # A checkpoint of their own, which no other runner of this session moves.
    name = f"two-runners-{uuid4().hex[:8]}"
    first, second = (Projection(infra.store, batch_size=40, name=name) for _ in range(2))
    applied = await asyncio.gather(first.catch_up(), second.catch_up())
    reached = await first.position()
    async with infra.engine.connect() as conn:
        logged = await conn.scalar(
            text("SELECT count(*) FROM events WHERE position <= :p"), {"p": reached}
        )
    assert sum(applied) == logged
    assert mine(await snapshot(infra.engine), rids) == mine(live, rids)
    await reset(infra.store)  # leave the session's own projection to start from empty


async def test_a_reset_while_a_runner_catches_up_sends_it_back_to_the_start(
    infra: Infrastructure,
) -> None:
    built = await shared_path(infra.store, infra.keyring)
    await caught_up(infra, built.request_id)
    live = await snapshot(infra.engine)
    await reset(infra.store)
    started = asyncio.Event()
    runner = Projection(infra.store, batch_size=20)
    batches: list[int] = []

    def applied(done: int) -> None:
        batches.append(done)
        started.set()

    async def reset_midway() -> None:
        await started.wait()
        await reset(infra.store)

    await asyncio.gather(runner.catch_up(applied), reset_midway())
    await runner.catch_up()
    rebuilt = await snapshot(infra.engine)
    assert len(batches) > 1
    assert mine(rebuilt, {built.request_id}) == mine(live, {built.request_id})
    assert len(rebuilt["rm_requests"]) == len(live["rm_requests"])
