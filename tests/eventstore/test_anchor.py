"""Signed checkpoints and the anchor outside the database, attacked by a superuser.

Two attacks that leave the database consistent with itself: a stream deleted and
``$checkpoints`` recomputed without it, and the events and checkpoint after some
point cut off. Each is invisible to a verify that reads only the database, and
found once the anchor (and the KEK's signature) are checked.
"""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.events import EventMetadata
from infra.eventstore import (
    CHECKPOINTS,
    NEW_STREAM,
    EventStore,
    FindingKind,
    NewEvent,
    VerifyReport,
)
from infra.eventstore.anchor import AnchoredCheckpoint, AnchorError, DirectoryAnchor
from infra.eventstore.integrity import CheckpointRecorded, checkpoint_digest
from tests.eventstore.conftest import Fresh
from tests.eventstore.events import ThingHappened
from tests.eventstore.forged import insert_chained
from tests.eventstore.test_integrity import tamper

A, B = "case-a", "case-b"


def new(n: int) -> NewEvent:
    return NewEvent(uuid.uuid4(), ThingHappened(n=n), EventMetadata(actor_id="worker-1"))


@pytest.fixture
async def anchored(fresh: Fresh, tmp_path: Path) -> AsyncIterator[EventStore]:
    store = EventStore(
        fresh.store.engine, keyring=fresh.keyring, anchor=DirectoryAnchor(tmp_path / "anchor")
    )
    try:
        yield store
    finally:
        await store.close()


async def settle(store: EventStore, position: int) -> None:
    await store.wait_visible(position)


def mismatches(report: VerifyReport) -> set[tuple[int | None, str]]:
    return {
        (p.version, p.detail)
        for p in report.findings
        if p.kind is FindingKind.CHECKPOINT_MISMATCH and p.stream_id == CHECKPOINTS
    }


async def test_each_checkpoint_is_signed_and_written_once_to_the_anchor(
    anchored: EventStore, tmp_path: Path
) -> None:
    last = await anchored.append(A, NEW_STREAM, [new(1)])
    await settle(anchored, last.positions[-1])
    first = await anchored.checkpoint()
    second = await anchored.checkpoint()
    files = sorted((tmp_path / "anchor").iterdir())
    assert [f.name for f in files] == [
        "checkpoint-000000000001.json",
        "checkpoint-000000000002.json",
    ]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o444 for f in files)
    entries = DirectoryAnchor(tmp_path / "anchor").read().entries
    assert [(e.version, e.digest) for e in entries] == [(1, first.digest), (2, second.digest)]
    await settle(anchored, second.position)
    report = await anchored.verify()
    assert report.ok, report.findings
    assert report.anchored_checked == 2


async def test_a_deleted_stream_with_recomputed_checkpoints_is_found(
    fresh: Fresh, anchored: EventStore
) -> None:
    await anchored.append(A, NEW_STREAM, [new(1), new(2)])
    last = await anchored.append(B, NEW_STREAM, [new(1)])
    await settle(anchored, last.positions[-1])
    taken = await anchored.checkpoint()
    [original] = await anchored.read_stream(CHECKPOINTS)
    # The superuser removes B and the checkpoint, then writes the checkpoint again without
    # B's head: digest and chain recomputed, signature copied (they cannot make one).
    await tamper(fresh, f"DELETE FROM events WHERE stream_id IN ('{B}', '{CHECKPOINTS}')")
    event = original.event
    assert isinstance(event, CheckpointRecorded)
    heads = [h for h in event.heads if h[0] != B]
    digest = checkpoint_digest("", event.horizon, heads)
    forged = CheckpointRecorded(
        horizon=event.horizon,
        previous_digest="",
        heads=heads,
        digest=digest,
        signature=event.signature,
    )
    await insert_chained(
        fresh.admin_url,
        CHECKPOINTS,
        "eventstore.checkpoint_recorded",
        forged.model_dump_json(),
        position=taken.position,
        role=None,
    )
    # What the database alone says: nothing is wrong.
    plain = EventStore(fresh.store.engine)
    try:
        assert (await plain.verify()).ok
    finally:
        await plain.close()
    # The signature and the anchor say otherwise.
    assert mismatches(await anchored.verify()) == {
        (1, "signature does not hold (not signed with this hub's KEK)"),
        (1, "differs from the anchored checkpoint"),
    }


async def test_a_tail_cut_with_the_checkpoint_after_it_is_found(
    fresh: Fresh, anchored: EventStore
) -> None:
    last = await anchored.append(A, NEW_STREAM, [new(1), new(2)])
    await settle(anchored, last.positions[-1])
    await anchored.checkpoint()
    tail = await anchored.append(A, 2, [new(3), new(4)])
    await settle(anchored, tail.positions[-1])
    await anchored.checkpoint()
    # The superuser cuts A's last two events and the checkpoint that recorded them.
    await tamper(
        fresh,
        f"DELETE FROM events WHERE (stream_id = '{A}' AND version > 2) "
        f"OR (stream_id = '{CHECKPOINTS}' AND version = 2)",
    )
    alone = await fresh.store.verify()  # the database's own view: consistent
    assert alone.ok
    assert mismatches(await anchored.verify()) == {(2, "anchored, missing from the log")}


async def test_a_missing_anchor_entry_between_two_is_a_gap(
    anchored: EventStore, tmp_path: Path
) -> None:
    last = await anchored.append(A, NEW_STREAM, [new(1)])
    await settle(anchored, last.positions[-1])
    for _ in range(3):
        taken = await anchored.checkpoint()
    await settle(anchored, taken.position)
    middle = tmp_path / "anchor" / "checkpoint-000000000002.json"
    middle.unlink()
    assert mismatches(await anchored.verify()) == {
        (2, "missing from the anchor (between anchored checkpoints)")
    }


async def test_the_anchor_refuses_a_second_entry_and_links(tmp_path: Path) -> None:
    anchor = DirectoryAnchor(tmp_path / "anchor")
    entry = AnchoredCheckpoint(1, 10, 20, "ab" * 32, "cd" * 32)
    anchor.write(entry)
    anchor.write(entry)  # the same entry again: a retried write, accepted
    with pytest.raises(AnchorError, match="another checkpoint 1"):
        anchor.write(AnchoredCheckpoint(1, 10, 20, "ef" * 32, "cd" * 32))
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("")
    os.symlink(elsewhere, tmp_path / "anchor" / "checkpoint-000000000002.json")
    with pytest.raises(AnchorError):
        anchor.write(AnchoredCheckpoint(2, 11, 21, "ab" * 32, "cd" * 32))
    assert elsewhere.read_text() == ""
    assert [e.version for e in anchor.read().entries] == [1]
    assert anchor.read().unreadable == ("checkpoint-000000000002.json",)


async def test_an_empty_anchor_beside_signed_checkpoints_is_reported(
    fresh: Fresh, anchored: EventStore, tmp_path: Path
) -> None:
    last = await anchored.append(A, NEW_STREAM, [new(1)])
    await settle(anchored, last.positions[-1])
    taken = await anchored.checkpoint()
    await settle(anchored, taken.position)
    elsewhere = EventStore(
        fresh.store.engine, keyring=fresh.keyring, anchor=DirectoryAnchor(tmp_path / "empty")
    )
    try:
        report = await elsewhere.verify()
    finally:
        await elsewhere.close()
    [(version, detail)] = mismatches(report)
    assert version is None and "holds none of the log's signed checkpoints" in detail
