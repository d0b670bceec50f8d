"""Tamper evidence: each superuser tampering (triggers disabled) is detected and located.

Every test here works in a database of its own (``fresh``): tampering is for real.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from domain.events import EventMetadata
from infra.eventstore import (
    CHECKPOINTS,
    NEW_STREAM,
    Checkpoint,
    EventStore,
    Finding,
    FindingKind,
    NewEvent,
    TamperedEvent,
)
from infra.eventstore.rows import CANONICAL_SQL, CHAINED_SQL
from tests.eventstore.conftest import Fresh
from tests.eventstore.events import ThingHappened

A, B, C = "case-a", "case-b", "case-c"


def new(n: int) -> NewEvent:
    return NewEvent(uuid.uuid4(), ThingHappened(n=n), EventMetadata(actor_id="worker-1"))


async def populate(store: EventStore) -> Checkpoint:
    await store.append(A, NEW_STREAM, [new(1), new(2), new(3)])
    await store.append(B, NEW_STREAM, [new(1), new(2), new(3)])
    first_c = await store.append(C, NEW_STREAM, [new(1)])
    # A checkpoint records the heads below the horizon, and read_all and verify read below
    # it: wait until what was written is there (another transaction may hold it back).
    await store.wait_visible(first_c.positions[-1])
    checkpoint = await store.checkpoint()
    last = await store.append(C, 1, [new(2)])  # after the checkpoint: chains alone cover it
    await store.wait_visible(last.positions[-1])
    return checkpoint


async def tamper(fresh: Fresh, *statements: str) -> None:
    """Run statements as the superuser with every trigger off for the session."""
    conn = await fresh.admin()
    try:
        await conn.execute("SET session_replication_role = replica")
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def located(problems: tuple[Finding, ...]) -> set[tuple[FindingKind, str, int | None]]:
    return {(p.kind, p.stream_id, p.version) for p in problems}


async def test_an_untouched_log_verifies_and_exports_its_digest(fresh: Fresh) -> None:
    checkpoint = await populate(fresh.store)
    calls: list[tuple[int, int]] = []

    report = await fresh.store.verify(lambda done, total: calls.append((done, total)))

    assert report.ok, report.findings
    assert report.events_checked == 9  # 8 events and the checkpoint
    assert report.checkpoint_digest == checkpoint.digest
    assert calls and calls[-1] == (9, 9)
    assert (await fresh.store.verify(trusted_digest=checkpoint.digest)).ok


async def test_detects_a_changed_payload(fresh: Fresh) -> None:
    await populate(fresh.store)
    await tamper(
        fresh,
        f"UPDATE events SET data = jsonb_set(data, '{{n}}', '99') "
        f"WHERE stream_id = '{A}' AND version = 2",
    )
    report = await fresh.store.verify()
    assert located(report.findings) == {(FindingKind.CHANGED, A, 2)}
    with pytest.raises(TamperedEvent, match="version 2"):
        await fresh.store.read_stream(A)


async def test_detects_changed_metadata(fresh: Fresh) -> None:
    await populate(fresh.store)
    await tamper(
        fresh,
        "UPDATE events SET metadata = jsonb_set(metadata, '{actor_id}', '\"mallory\"') "
        f"WHERE stream_id = '{B}' AND version = 1",
    )
    assert located((await fresh.store.verify()).findings) == {(FindingKind.CHANGED, B, 1)}


async def test_detects_a_rehashed_change_by_the_broken_link(fresh: Fresh) -> None:
    await populate(fresh.store)
    # A careful forger fixes the changed event's own hash; its successor still points back.
    await tamper(
        fresh,
        f"UPDATE events SET data = jsonb_set(data, '{{n}}', '99') "
        f"WHERE stream_id = '{A}' AND version = 2",
        f"UPDATE events SET hash = sha256({CHAINED_SQL}) WHERE stream_id = '{A}' AND version = 2",
    )
    assert located((await fresh.store.verify()).findings) == {(FindingKind.CHANGED, A, 2)}


async def test_detects_a_removed_event(fresh: Fresh) -> None:
    await populate(fresh.store)
    await tamper(fresh, f"DELETE FROM events WHERE stream_id = '{A}' AND version = 2")
    assert located((await fresh.store.verify()).findings) == {(FindingKind.REMOVED, A, 2)}


async def test_detects_a_removed_stream_tail_covered_by_a_checkpoint(fresh: Fresh) -> None:
    await populate(fresh.store)
    await tamper(fresh, f"DELETE FROM events WHERE stream_id = '{B}' AND version = 3")
    assert located((await fresh.store.verify()).findings) == {(FindingKind.REMOVED, B, 3)}


async def test_detects_an_inserted_event(fresh: Fresh) -> None:
    await populate(fresh.store)
    # A forger who knows the hashing appends a well-formed event to A, placed before
    # the checkpoint; only the checkpoint knows A ended at version 3.
    forged = (
        "INSERT INTO events (position, stream_id, version, event_id, event_type, "
        "schema_version, data, metadata, correlation_id, recorded_at, prev_hash, hash) "
        "SELECT p.position + 1, p.stream_id, 4, gen_random_uuid(), p.event_type, "
        "p.schema_version, p.data, p.metadata, NULL, p.recorded_at, p.hash, sha256(p.hash || "
        + CANONICAL_SQL.format(
            stream="p.stream_id",
            version="4",
            event_id="n.id",
            event_type="p.event_type",
            schema_version="p.schema_version",
            data="p.data",
            metadata="p.metadata",
            recorded_at="p.recorded_at",
        )
        + f") FROM events p, (SELECT gen_random_uuid() AS id) n "
        f"WHERE p.stream_id = '{A}' AND p.version = 3"
    )
    # gen_random_uuid() twice would differ: use the one from n for both columns.
    forged = forged.replace("4, gen_random_uuid(), p.event_type", "4, n.id, p.event_type")
    await tamper(fresh, forged)
    assert located((await fresh.store.verify()).findings) == {(FindingKind.INSERTED, A, 4)}


async def test_detects_a_second_event_at_an_existing_version(fresh: Fresh) -> None:
    await populate(fresh.store)
    await tamper(
        fresh,
        "ALTER TABLE events DROP CONSTRAINT events_stream_version_key",
        "INSERT INTO events SELECT position + 1, stream_id, version, gen_random_uuid(), "
        "event_type, schema_version, data, metadata, correlation_id, recorded_at, prev_hash, "
        f"hash FROM events WHERE stream_id = '{C}' AND version = 2",
    )
    assert (FindingKind.INSERTED, C, 2) in located((await fresh.store.verify()).findings)


async def test_detects_reordered_events(fresh: Fresh) -> None:
    await populate(fresh.store)
    where = f"stream_id = '{A}' AND version"
    await tamper(
        fresh,
        "CREATE TEMP TABLE p AS SELECT version, position FROM events "
        f"WHERE stream_id = '{A}' AND version IN (2, 3)",
        f"UPDATE events SET position = -1 WHERE {where} = 2",
        f"UPDATE events SET position = (SELECT position FROM p WHERE version = 2) "
        f"WHERE {where} = 3",
        f"UPDATE events SET position = (SELECT position FROM p WHERE version = 3) "
        f"WHERE {where} = 2",
    )
    assert located((await fresh.store.verify()).findings) == {(FindingKind.REORDERED, A, 2)}


async def test_detects_a_whole_stream_deleted_with_triggers_disabled(fresh: Fresh) -> None:
    await populate(fresh.store)
    conn = await fresh.admin()
    try:
        await conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
        await conn.execute(f"DELETE FROM events WHERE stream_id = '{B}'")
        await conn.execute("ALTER TABLE events ENABLE TRIGGER ALL")
    finally:
        await conn.close()
    assert located((await fresh.store.verify()).findings) == {(FindingKind.STREAM_MISSING, B, None)}


async def test_detects_a_rewritten_checkpoint_and_an_unknown_exported_digest(
    fresh: Fresh,
) -> None:
    checkpoint = await populate(fresh.store)
    await tamper(
        fresh,
        "UPDATE events SET data = jsonb_set(data, '{heads}', '[]') "
        f"WHERE stream_id = '{CHECKPOINTS}'",
    )
    report = await fresh.store.verify(trusted_digest=checkpoint.digest)
    found = located(report.findings)
    assert (FindingKind.CHANGED, CHECKPOINTS, 1) in found
    assert (FindingKind.CHECKPOINT_MISMATCH, CHECKPOINTS, 1) in found

    untouched = await fresh.store.verify(trusted_digest="0" * 64)
    assert (FindingKind.CHECKPOINT_MISMATCH, CHECKPOINTS, None) in located(untouched.findings)


async def test_checkpoints_chain_and_cover_only_what_moved(fresh: Fresh) -> None:
    first = await populate(fresh.store)
    second = await fresh.store.checkpoint()
    assert second.version == first.version + 1
    assert second.heads_changed == 2  # C moved, and $checkpoints itself
    report = await fresh.store.verify(trusted_digest=first.digest)
    assert report.ok, report.findings
    assert report.checkpoint_digest == second.digest
    assert report.checkpoints_checked == 2


async def test_the_database_refuses_changes_even_to_a_superuser(fresh: Fresh) -> None:
    await populate(fresh.store)
    conn = await fresh.admin()
    try:
        for statement in (
            f"UPDATE events SET data = '{{}}' WHERE stream_id = '{A}'",
            f"DELETE FROM events WHERE stream_id = '{A}'",
            "TRUNCATE events",
        ):
            with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
                await conn.execute(statement)
    finally:
        await conn.close()
    assert (await fresh.store.verify()).ok


async def test_reads_refuse_a_rehashed_change_and_a_changed_time(fresh: Fresh) -> None:
    await populate(fresh.store)
    rehash = (
        f"UPDATE events SET hash = sha256({CHAINED_SQL}) "
        "WHERE stream_id = '{stream}' AND version = {version}"
    )
    await tamper(
        fresh,
        f"UPDATE events SET data = jsonb_set(data, '{{n}}', '99') "
        f"WHERE stream_id = '{A}' AND version = 2",
        rehash.format(stream=A, version=2),
        f"UPDATE events SET recorded_at = recorded_at + interval '1 second' "
        f"WHERE stream_id = '{B}' AND version = 3",
    )
    # The forged event's own hash now matches: its successor's link gives it away.
    with pytest.raises(TamperedEvent, match="version 3: previous event's hash"):
        await fresh.store.read_stream(A)
    with pytest.raises(TamperedEvent, match="version 3: content does not match"):
        await fresh.store.read_stream(B)
    with pytest.raises(TamperedEvent):
        async for _ in fresh.store.read_all_batches(batch_size=2):
            pass
    with pytest.raises(TamperedEvent):
        async for _ in fresh.store.read_all():
            pass
    # Opting out of the check is explicit, and then the forged values do come back.
    forged = [e async for e in fresh.store.read_all(verify=False) if e.stream_id == A]
    assert [getattr(e.event, "n", None) for e in forged] == [1, 99, 3]


async def test_verify_waits_for_a_write_held_back_by_an_open_transaction(fresh: Fresh) -> None:
    await populate(fresh.store)
    blocker = await fresh.admin()
    try:
        # An older transaction with an id holds the horizon back: the write below
        # commits but stays invisible to readers of the log until the blocker ends.
        await blocker.execute("BEGIN")
        await blocker.fetchval("SELECT pg_current_xact_id()")
        await fresh.store.append(A, 3, [new(4)])
        checking = asyncio.create_task(fresh.store.verify())
        await asyncio.sleep(0.5)
        assert not checking.done()  # waiting for the write to settle
        await blocker.execute("COMMIT")
        report = await asyncio.wait_for(checking, 10)
    finally:
        await blocker.close()
    assert report.ok, report.findings
    assert report.events_checked == 10  # 9 from populate, and the one held back
