"""Reads: streams, requests (correlation), the whole log live, typed decoding."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.events import Event, EventMetadata, EventRegistry, RecordedEvent, RequestClosed
from infra.eventstore import ANY_VERSION, NEW_STREAM, EventStore, NewEvent, UnknownEventType
from infra.eventstore.store import _slices
from tests.eventstore.conftest import Fresh
from tests.eventstore.events import ThingHappened

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def new(n: int, correlation: uuid.UUID | None = None) -> NewEvent:
    return NewEvent(uuid.uuid4(), ThingHappened(n=n), EventMetadata(correlation_id=correlation))


async def test_reads_a_stream_from_a_version(store: EventStore, stream: str) -> None:
    await store.append(stream, NEW_STREAM, [new(i) for i in range(1, 6)])
    tail = await store.read_stream(stream, from_version=4)
    assert [(e.version, e.event) for e in tail] == [
        (4, ThingHappened(n=4)),
        (5, ThingHappened(n=5)),
    ]
    assert await store.read_stream(f"{stream}-none") == []
    assert await store.stream_version(f"{stream}-none") == 0


async def test_reads_every_stream_of_a_request_by_correlation(
    store: EventStore, stream: str
) -> None:
    request = uuid.uuid4()
    await store.append(f"{stream}-a", NEW_STREAM, [new(1, request)])
    await store.append(f"{stream}-b", NEW_STREAM, [new(2, request), new(3, uuid.uuid4())])
    await store.append(f"{stream}-a", 1, [new(4, request)])

    events = await store.read_correlation(request)
    assert [e.event for e in events] == [ThingHappened(n=1), ThingHappened(n=2), ThingHappened(n=4)]
    assert [e.position for e in events] == sorted(e.position for e in events)


async def test_read_all_streams_in_batches_in_position_order(
    store: EventStore, stream: str
) -> None:
    for i in range(7):
        last = await store.append(stream, ANY_VERSION, [new(i), new(i)])
    await store.wait_visible(last.positions[-1])
    seen = [e async for e in store.read_all(batch_size=3) if e.stream_id == stream]
    assert [e.version for e in seen] == list(range(1, 15))
    positions = [e.position async for e in store.read_all(batch_size=5)]
    assert positions == sorted(set(positions))
    start = seen[5].position
    assert [e.version async for e in store.read_all(start) if e.stream_id == stream] == list(
        range(7, 15)
    )


async def test_a_live_follower_sees_every_committed_event_once_in_order(
    store: EventStore, stream: str
) -> None:
    start = max([e.position async for e in store.read_all(verify=False)], default=0)
    written: set[uuid.UUID] = set()
    done = asyncio.Event()

    async def writer(i: int) -> None:
        for n in range(40):
            # Mixed: some writers share a stream (contention), batches of 1 to 3.
            target = f"{stream}-{i % 3}"
            batch = [new(n) for _ in range(1 + n % 3)]
            await store.append(target, ANY_VERSION, batch)
            written.update(b.event_id for b in batch)

    async def follower() -> list[RecordedEvent]:
        seen: list[RecordedEvent] = []
        async for recorded in store.read_all(start, batch_size=7, live=True, poll_interval=0.01):
            if recorded.stream_id.startswith(stream):
                seen.append(recorded)
            if done.is_set() and {e.event_id for e in seen} >= written:
                break
        return seen

    following = asyncio.create_task(follower())
    await asyncio.gather(*(writer(i) for i in range(8)))
    done.set()
    seen = await asyncio.wait_for(following, 30)

    ids = [e.event_id for e in seen]
    assert len(ids) == len(set(ids)) == len(written)
    assert set(ids) == written
    positions = [e.position for e in seen]
    assert positions == sorted(positions)
    for target in {e.stream_id for e in seen}:
        versions = [e.version for e in seen if e.stream_id == target]
        assert versions == list(range(1, len(versions) + 1))


def _registry_v1() -> EventRegistry:
    registry = EventRegistry()

    class NamedV1(Event):
        event_type = "test.person_named"
        schema_version = 1
        full_name: str

    registry.register(NamedV1)
    return registry


def _registry_v2() -> EventRegistry:
    registry = EventRegistry()

    class NamedV2(Event):
        event_type = "test.person_named"
        schema_version = 2
        given: str
        family: str

    @registry.upcaster("test.person_named", 1)
    def split(data: dict[str, Any]) -> dict[str, Any]:
        given, _, family = data.pop("full_name").partition(" ")
        return {**data, "given": given, "family": family}

    registry.register(NamedV2)
    return registry


async def test_old_schema_versions_are_upcast_when_read(fresh: Fresh, stream: str) -> None:
    store = (
        fresh.store
    )  # a log of its own: types unknown to the catalogue stay out of the shared one
    old = EventStore(store.engine, _registry_v1())
    model = old.registry.model_for("test.person_named")
    await old.append(
        stream,
        NEW_STREAM,
        [NewEvent(uuid.uuid4(), model.model_validate({"full_name": "Ada Lovelace"}))],
    )

    current = EventStore(store.engine, _registry_v2())
    [recorded] = await current.read_stream(stream)
    await old.close()
    await current.close()
    assert recorded.schema_version == 1
    assert recorded.event.model_dump() == {"given": "Ada", "family": "Lovelace"}
    assert type(recorded.event).schema_version == 2


async def test_an_unknown_event_type_is_an_error_naming_it(fresh: Fresh, stream: str) -> None:
    store = fresh.store
    writer = EventStore(store.engine, _registry_v1())
    model = writer.registry.model_for("test.person_named")
    await writer.append(
        stream, NEW_STREAM, [NewEvent(uuid.uuid4(), model.model_validate({"full_name": "X Y"}))]
    )

    with pytest.raises(UnknownEventType, match=r"test\.person_named") as caught:
        await store.read_stream(stream)
    assert caught.value.event_type == "test.person_named"
    with pytest.raises(UnknownEventType):  # nor can it be written where it is unknown
        await store.append(
            stream, ANY_VERSION, [NewEvent(uuid.uuid4(), model.model_validate({"full_name": "X"}))]
        )
    await writer.close()


async def test_read_all_batches_gives_what_read_all_gives(store: EventStore, stream: str) -> None:
    for i in range(5):
        last = await store.append(stream, ANY_VERSION, [new(i)] if i % 2 else [new(i), new(i + 10)])
    await store.wait_visible(last.positions[-1])
    one_by_one = [e async for e in store.read_all(batch_size=3)]
    batches = [batch async for batch in store.read_all_batches(batch_size=3)]
    assert all(0 < len(batch) <= 3 for batch in batches)
    assert [e for batch in batches for e in batch] == one_by_one
    mine = [e for e in one_by_one if e.stream_id == stream]
    assert [e.version for e in mine] == list(range(1, 9))
    assert [e.event for e in mine] == [e.event for e in await store.read_stream(stream)]


async def test_every_field_read_back_is_the_stored_column(store: EventStore, stream: str) -> None:
    # Reads parse stream, version, id, type, schema version and time from the hashed
    # canonical bytes, not from the columns: they must come back exactly as stored,
    # whatever characters the stream id holds.
    odd = f'{stream}:straße/ü \\ "quoted" 1'
    correlation = uuid.uuid4()
    appended = await store.append(odd, NEW_STREAM, [new(1, correlation), new(2, correlation)])
    await store.wait_visible(appended.positions[-1])
    async with store.connections.acquire() as raw:
        rows = await raw.fetch(
            "SELECT position, stream_id, version, event_id, event_type, schema_version, "
            "recorded_at, encode(hash, 'hex') AS hash FROM events WHERE stream_id = $1 "
            "ORDER BY version",
            odd,
        )
    expected = [tuple(row) for row in rows]
    for read in (
        await store.read_stream(odd),
        await store.read_correlation(correlation),
        [e async for e in store.read_all() if e.stream_id == odd],
    ):
        assert [
            (
                e.position,
                e.stream_id,
                e.version,
                e.event_id,
                e.event_type,
                e.schema_version,
                e.recorded_at,
                e.hash,
            )
            for e in read
        ] == expected
        assert all(e.recorded_at.utcoffset() == timedelta(0) for e in read)
        assert all(isinstance(e.event_id, uuid.UUID) for e in read)
        assert [e.event for e in read] == [ThingHappened(n=1), ThingHappened(n=2)]


async def test_read_all_gives_every_event_across_slices_and_batches(
    store: EventStore, stream: str
) -> None:
    # read_all fetches each batch as slices of rows (arrays, one slice to a row): batch
    # sizes below, at and above the slice size, and batches that end mid-slice.
    await store.append(stream, NEW_STREAM, [new(i) for i in range(30)])
    last = await store.append(stream, 30, [new(i) for i in range(30, 53)])
    await store.wait_visible(last.positions[-1])
    expected = await store.read_stream(stream)
    assert len(expected) == 53
    for batch_size in (1, 7, 20, 45, 2000):
        read = [e async for e in store.read_all(batch_size=batch_size) if e.stream_id == stream]
        assert read == expected, batch_size
        batches = [
            [e for e in batch if e.stream_id == stream]
            async for batch in store.read_all_batches(batch_size=batch_size)
        ]
        assert [e for batch in batches for e in batch] == expected, batch_size


def test_a_batch_is_put_in_position_order_whatever_order_it_came_in() -> None:
    positions = list(range(100, 145))
    rows = [(p, f"chained {p}".encode(), b"h%d" % p) for p in positions]
    slices = _slices(positions, [r[1] for r in rows], [r[2] for r in rows])
    assert [len(s[0]) for s in slices] == [20, 20, 5]
    assert [r for s in slices for r in zip(*s, strict=True)] == rows
    shuffled = rows[7:] + rows[:7]
    again = _slices([r[0] for r in shuffled], [r[1] for r in shuffled], [r[2] for r in shuffled])
    assert [r for s in again for r in zip(*s, strict=True)] == rows


async def test_read_types_gives_only_those_types_and_the_position_it_covered(
    fresh: Fresh, stream: str
) -> None:
    store = fresh.store
    request = uuid.uuid4()
    other = RequestClosed(
        request_id=request, shared_by=[], not_shared_by=[], withdrawn=True, closed_at=NOW
    )
    written = []
    for n in range(3):
        for event in (ThingHappened(n=n), other):
            result = await store.append(stream, ANY_VERSION, [NewEvent(uuid.uuid4(), event)])
            written.append((result.positions[0], event))
    await store.wait_visible(written[-1][0])
    things = [p for p, e in written if isinstance(e, ThingHappened)]

    page, covered = await store.read_types(0, ["test.thing_happened"], 2)
    assert [e.position for e in page] == things[:2] and covered == things[1]
    assert [e.event for e in page] == [ThingHappened(n=0), ThingHappened(n=1)]
    # Short of the limit: everything settled is covered, the other type's last event too.
    page, covered = await store.read_types(covered, ["test.thing_happened"], 2)
    assert [e.position for e in page] == things[2:] and covered >= written[-1][0]
    page, again = await store.read_types(covered, ["test.thing_happened"], 2)
    assert page == [] and again >= covered
