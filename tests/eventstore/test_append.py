"""Append: optimistic concurrency, idempotency by event id, atomic batches."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from domain.events import EventMetadata
from infra.eventstore import (
    ANY_VERSION,
    NEW_STREAM,
    ConcurrencyError,
    EventIdConflict,
    EventStore,
    NewEvent,
)
from tests.eventstore.events import ThingHappened


def new(n: int, note: str = "") -> NewEvent:
    return NewEvent(uuid.uuid4(), ThingHappened(n=n, note=note), EventMetadata(actor_id="tester"))


async def test_appends_a_new_stream_and_reads_it_back(store: EventStore, stream: str) -> None:
    batch = [new(1), new(2), new(3)]
    result = await store.append(stream, NEW_STREAM, batch)

    assert result.versions == (1, 2, 3)
    assert list(result.positions) == sorted(result.positions)
    assert not result.deduplicated
    events = await store.read_stream(stream)
    assert [e.event_id for e in events] == [b.event_id for b in batch]
    assert [e.event for e in events] == [b.event for b in batch]
    assert [e.position for e in events] == list(result.positions)
    assert all(e.metadata.actor_id == "tester" for e in events)
    assert await store.stream_version(stream) == 3


async def test_a_stale_expected_version_raises_and_writes_nothing(
    store: EventStore, stream: str
) -> None:
    await store.append(stream, NEW_STREAM, [new(1), new(2)])

    for stale in (0, 1, 5):
        with pytest.raises(ConcurrencyError) as caught:
            await store.append(stream, stale, [new(3)])
        assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == (
            stream,
            stale,
            2,
        )
    assert await store.stream_version(stream) == 2


async def test_any_version_appends_at_the_end(store: EventStore, stream: str) -> None:
    await store.append(stream, ANY_VERSION, [new(1)])
    result = await store.append(stream, ANY_VERSION, [new(2), new(3)])
    assert result.versions == (2, 3)


async def test_a_retried_batch_returns_the_original_positions_even_when_stale(
    store: EventStore, stream: str
) -> None:
    batch = [new(1), new(2)]
    first = await store.append(stream, NEW_STREAM, batch)
    await store.append(stream, 2, [new(3)])

    again = await store.append(stream, NEW_STREAM, batch)
    any_again = await store.append(stream, ANY_VERSION, batch)

    assert again.positions == first.positions == any_again.positions
    assert again.versions == (1, 2)
    assert again.deduplicated and any_again.deduplicated
    assert await store.stream_version(stream) == 3


async def test_the_same_event_id_with_other_content_is_refused(
    store: EventStore, stream: str
) -> None:
    original = new(1)
    await store.append(stream, NEW_STREAM, [original])

    for forged in (
        NewEvent(original.event_id, ThingHappened(n=2), original.metadata),
        NewEvent(original.event_id, original.event, EventMetadata(actor_id="someone else")),
    ):
        with pytest.raises(EventIdConflict) as caught:
            await store.append(stream, 1, [forged])
        assert caught.value.event_id == original.event_id
    with pytest.raises(EventIdConflict):  # same content, another stream: not a retry either
        await store.append(f"{stream}-other", NEW_STREAM, [original])
    assert await store.stream_version(stream) == 1


async def test_a_batch_is_atomic(store: EventStore, stream: str) -> None:
    taken = new(1)
    await store.append(f"{stream}-other", NEW_STREAM, [taken])

    with pytest.raises(EventIdConflict):
        await store.append(stream, NEW_STREAM, [new(1), taken, new(3)])
    assert await store.stream_version(stream) == 0
    assert await store.read_stream(stream) == []


async def test_refuses_bad_batches(store: EventStore, stream: str) -> None:
    same = new(1)
    with pytest.raises(ValueError):
        await store.append(stream, NEW_STREAM, [])
    with pytest.raises(ValueError):
        await store.append(stream, NEW_STREAM, [same, same])
    with pytest.raises(ValueError):
        await store.append("$checkpoints", ANY_VERSION, [new(1)])


async def test_many_writers_on_one_stream_exactly_one_wins_each_version(
    store: EventStore, stream: str
) -> None:
    contenders = [[new(1)] for _ in range(12)]
    outcomes = await asyncio.gather(
        *(store.append(stream, NEW_STREAM, batch) for batch in contenders), return_exceptions=True
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(o, ConcurrencyError) for o in outcomes if o not in winners)

    # Then writers that re-read and retry: every version is won by exactly one of them.
    written: dict[int, uuid.UUID] = {}

    async def writer(count: int) -> None:
        for _ in range(count):
            while True:
                version = await store.stream_version(stream)
                candidate = new(version + 1)
                try:
                    result = await store.append(stream, version, [candidate])
                except ConcurrencyError:
                    continue
                assert result.version not in written
                written[result.version] = candidate.event_id
                break

    await asyncio.gather(*(writer(10) for _ in range(8)))
    events = await store.read_stream(stream)
    assert [e.version for e in events] == list(range(1, 82))
    assert {e.version: e.event_id for e in events[1:]} == written


async def test_writers_on_different_streams_do_not_interfere(
    store: EventStore, stream: str
) -> None:
    async def writer(i: int) -> None:
        for version in range(20):
            await store.append(f"{stream}-{i}", version, [new(version)])

    await asyncio.gather(*(writer(i) for i in range(8)))
    for i in range(8):
        assert await store.stream_version(f"{stream}-{i}") == 20
