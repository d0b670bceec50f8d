"""Subscriptions: a projection's read model and checkpoint move together, exactly once."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import EventMetadata, RecordedEvent
from infra.db import APP_ROLE, plain_url
from infra.eventstore import ANY_VERSION, EventStore, Handler, NewEvent, Subscription
from tests.conftest import TestDatabase as Database
from tests.eventstore.events import ThingHappened


async def make_read_model(database: Database) -> str:
    table = f"test_rm_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(plain_url(database.admin_url))
    try:
        # A primary key on the event id: applying any event twice would fail the test.
        await conn.execute(f"CREATE TABLE {table} (event_id uuid PRIMARY KEY, n int NOT NULL)")
        await conn.execute(f"GRANT SELECT, INSERT ON {table} TO {APP_ROLE}")
    finally:
        await conn.close()
    return table


def projector(table: str, prefix: str) -> Handler:
    async def handle(conn: AsyncConnection, recorded: RecordedEvent) -> None:
        if recorded.stream_id.startswith(prefix) and isinstance(recorded.event, ThingHappened):
            await conn.execute(
                text(f"INSERT INTO {table} (event_id, n) VALUES (:id, :n)"),
                {"id": recorded.event_id, "n": recorded.event.n},
            )

    return handle


async def count(store: EventStore, table: str) -> int:
    async with store.engine.connect() as conn:
        return int(await conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


async def append_some(store: EventStore, stream: str, n: int) -> None:
    """Append ``n`` events and wait until readers of the log can see them all."""
    for i in range(n):
        result = await store.append(
            stream, ANY_VERSION, [NewEvent(uuid.uuid4(), ThingHappened(n=i), EventMetadata())]
        )
    await store.wait_visible(result.positions[-1])


async def test_two_live_runners_apply_every_event_exactly_once(
    store: EventStore, database: Database, stream: str
) -> None:
    table = await make_read_model(database)
    name = f"projection-{uuid.uuid4().hex}"
    handle = projector(table, stream)
    runners = [
        Subscription(store, name, handle, batch_size=5, poll_interval=0.01) for _ in range(2)
    ]
    tasks = [asyncio.create_task(r.run()) for r in runners]

    await asyncio.gather(*(append_some(store, f"{stream}-{i}", 25) for i in range(4)))
    for _ in range(500):
        if await count(store, table) == 100:
            break
        await asyncio.sleep(0.02)
    for r in runners:
        r.stop()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)

    assert await count(store, table) == 100
    last = max([e.position async for e in store.read_all(verify=False)])
    assert await runners[0].position() >= last - 65536 * 1000  # caught up to the log's end
    assert await Subscription(store, name, handle).catch_up() == 0


async def test_a_failing_handler_rolls_back_its_batch_and_checkpoint(
    store: EventStore, database: Database, stream: str
) -> None:
    table = await make_read_model(database)
    name = f"projection-{uuid.uuid4().hex}"
    await append_some(store, stream, 3)
    good = projector(table, stream)

    async def flaky(conn: AsyncConnection, recorded: RecordedEvent) -> None:
        await good(conn, recorded)
        if recorded.stream_id == stream and recorded.version == 3:
            raise RuntimeError("read model bug")

    subscription = Subscription(store, name, flaky, batch_size=100_000)
    with pytest.raises(RuntimeError):
        await subscription.catch_up()
    assert await count(store, table) == 0
    assert await subscription.position() == 0

    assert await Subscription(store, name, good, batch_size=100_000).catch_up() > 0
    assert await count(store, table) == 3


async def test_a_batch_read_before_a_rewind_is_not_applied_after_it(
    store: EventStore, database: Database, stream: str
) -> None:
    # A rebuild empties the read model and rewinds the checkpoint while a runner holds a
    # batch read from the old checkpoint: applying that batch would leave every event
    # before it out of the rebuilt model for good.
    table = await make_read_model(database)
    name = f"projection-{uuid.uuid4().hex}"
    handle = projector(table, stream)
    await append_some(store, stream, 4)
    events = [e async for e in store.read_all(verify=False) if e.stream_id == stream]
    first, rest = events[:2], events[2:]

    subscription = Subscription(store, name, handle)
    async with store.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO projection_checkpoints (name, position) VALUES (:n, :p) "
                "ON CONFLICT (name) DO UPDATE SET position = :p"
            ),
            {"n": name, "p": first[-1].position},
        )
    rewound_to = 0  # the rebuild's reset, after the batch `rest` was read
    async with store.engine.begin() as conn:
        await conn.execute(
            text("UPDATE projection_checkpoints SET position = :p WHERE name = :n"),
            {"n": name, "p": rewound_to},
        )
    assert await subscription._apply(rest, first[-1].position) == 0
    assert await count(store, table) == 0 and await subscription.position() == rewound_to

    # The next catch-up reads from the rewound checkpoint: every event, once.
    await subscription.catch_up()
    assert await count(store, table) == 4
