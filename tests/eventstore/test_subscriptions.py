"""The followers' contract, run against each real follower of the log (the request read
models' Projection and the retention ReviewQueue): every event applied exactly once,
with its checkpoint; a failed batch leaves nothing; a batch read before a rewind is
never applied after it; an idle poll writes nothing.

Each follower is run as itself with one addition: its ``apply`` also inserts the batch's
event ids into a table of the test's, keyed on the event id, in the batch's transaction.
Applying any event twice fails that insert; an event never applied is missing from it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import EventMetadata, RecordedEvent, RetentionReviewOpened
from domain.vocabulary import RecordType
from infra.db import APP_ROLE
from infra.eventstore import ANY_VERSION, EventStore, NewEvent
from infra.eventstore.subscriptions import CheckpointFollower
from infra.readmodels import Projection
from infra.review_queue import ReviewQueue
from tests.eventstore.conftest import Fresh

FOLLOWERS: dict[str, type[Projection] | type[ReviewQueue]] = {
    "projection": Projection,
    "review_queue": ReviewQueue,
}


@dataclass(frozen=True)
class Contract:
    build: Callable[..., CheckpointFollower]
    """A follower of the kind under test, on the test's checkpoint (all share it)."""
    table: str
    store: EventStore

    async def applied(self) -> list[uuid.UUID]:
        """The ids of the events applied and committed, in no order."""
        async with self.store.engine.connect() as conn:
            rows = await conn.execute(text(f"SELECT event_id FROM {self.table}"))
            return [r[0] for r in rows]


@pytest.fixture(params=sorted(FOLLOWERS))
async def contract(request: pytest.FixtureRequest, fresh: Fresh) -> Contract:
    """Builds the follower under test on a database of its own, recording what it applies."""
    base = FOLLOWERS[request.param]
    table = f"applied_{uuid.uuid4().hex[:10]}"
    admin = await fresh.admin()
    try:
        await admin.execute(f"CREATE TABLE {table} (event_id uuid PRIMARY KEY)")
        await admin.execute(f"GRANT SELECT, INSERT, DELETE ON {table} TO {APP_ROLE}")
    finally:
        await admin.close()

    class Recording(base):  # type: ignore[valid-type,misc]
        fail_on: uuid.UUID | None = None

        async def apply(self, conn: AsyncConnection, events: list[RecordedEvent]) -> None:
            await super().apply(conn, events)
            await conn.execute(
                text(f"INSERT INTO {table} SELECT unnest(CAST(:ids AS uuid[]))"),
                {"ids": [e.event_id for e in events]},
            )
            if any(e.event_id == self.fail_on for e in events):
                raise RuntimeError("read model bug")

        async def empty(self, conn: AsyncConnection) -> None:
            await super().empty(conn)
            await conn.execute(text(f"DELETE FROM {table}"))

    name = f"contract-{uuid.uuid4().hex[:8]}"

    def build(
        *, batch_size: int = 500, fail_on: uuid.UUID | None = None, **kw: float
    ) -> CheckpointFollower:
        follower = Recording(fresh.store, batch_size=batch_size, name=name, **kw)
        follower.fail_on = fail_on
        return follower

    return Contract(build, table, fresh.store)


async def append_reviews(store: EventStore, n: int) -> list[uuid.UUID]:
    """Append ``n`` review openings (which every follower reads) on a stream of their own,
    one transaction each, and wait until followers can see them; returns their ids."""
    request = uuid.uuid4()
    ids: list[uuid.UUID] = []
    for _ in range(n):
        opened = RetentionReviewOpened(
            request_id=request,
            review_id=uuid.uuid4(),
            record_type=RecordType.SHARED_DECISION,
            due_on=date(2030, 1, 1),
            opened_at=datetime(2026, 12, 1, tzinfo=UTC),
        )
        event_id = uuid.uuid4()
        result = await store.append(
            f"retention:{request}", ANY_VERSION, [NewEvent(event_id, opened, EventMetadata())]
        )
        ids.append(event_id)
    await store.wait_visible(result.positions[-1])
    return ids


async def test_two_live_runners_apply_every_event_exactly_once(
    contract: Contract, fresh: Fresh
) -> None:
    runners = [contract.build(batch_size=5, poll_interval=0.01) for _ in range(2)]
    tasks = [asyncio.create_task(r.run()) for r in runners]
    appended = await asyncio.gather(*(append_reviews(fresh.store, 25) for _ in range(4)))
    expected = {i for ids in appended for i in ids}
    for _ in range(500):
        if len(await contract.applied()) == len(expected):
            break
        await asyncio.sleep(0.02)
    for r in runners:
        r.stop()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)

    assert set(await contract.applied()) == expected
    last = max([e.position async for e in fresh.store.read_all(verify=False)])
    assert await runners[0].position() >= last
    assert await contract.build().catch_up() == 0


async def test_a_failing_apply_rolls_back_its_batch_and_checkpoint(
    contract: Contract, fresh: Fresh
) -> None:
    ids = await append_reviews(fresh.store, 3)
    failing = contract.build(fail_on=ids[-1])
    with pytest.raises(RuntimeError, match="read model bug"):
        await failing.catch_up()
    assert await contract.applied() == []
    assert await failing.position() == 0

    assert await contract.build().catch_up() == 3
    assert sorted(await contract.applied()) == sorted(ids)


async def test_a_batch_read_before_a_rewind_is_not_applied_after_it(
    contract: Contract, fresh: Fresh
) -> None:
    # A rebuild empties the read model and rewinds the checkpoint while a runner holds a
    # batch read from the old checkpoint: applying that batch would leave every event
    # before it out of the rebuilt model for good.
    ids = await append_reviews(fresh.store, 4)
    follower = contract.build(batch_size=2)
    read = follower.read
    rewound = False

    async def read_then_rewind(after: int) -> tuple[list[RecordedEvent], int]:
        nonlocal rewound
        batch = await read(after)
        if after > 0 and not rewound:  # the second batch: rewind once the first commits
            rewound = True
            while await follower.position() < after:
                await asyncio.sleep(0.01)
            async with fresh.store.engine.begin() as conn:
                await follower.reset(conn)
        return batch

    follower.read = read_then_rewind  # type: ignore[method-assign]
    assert await follower.catch_up() == 2 + 4  # the first batch, then every event again
    assert rewound
    assert sorted(await contract.applied()) == sorted(ids)


async def test_an_idle_poll_writes_nothing(contract: Contract, fresh: Fresh) -> None:
    await append_reviews(fresh.store, 3)
    follower = contract.build()
    assert await follower.catch_up() == 3

    async def stamp() -> object:
        async with fresh.store.engine.connect() as conn:
            return await conn.scalar(
                text("SELECT updated_at FROM projection_checkpoints WHERE name = :n"),
                {"n": follower.name},
            )

    before = await stamp()
    for _ in range(3):
        assert await follower.catch_up() == 0
    assert await stamp() == before
