"""Tamper evidence: checkpoints of stream heads, and verify() that locates every break.

Each event's hash covers its stream's previous hash and its canonical bytes
(``rows``), so a changed event breaks its own hash and a spliced chain breaks
a link. What a chain alone cannot show is its own end cut off, or a whole
stream gone: checkpoints do. A checkpoint is an event in the ``$checkpoints``
stream holding a horizon (every event below it was settled when it was
taken) and the head (version, hash) of each stream that moved since the
previous checkpoint. Its digest chains the previous checkpoint's digest with
those heads, so the latest digest commits to every stream head as of every
checkpoint ever taken, while each checkpoint stays as small as the activity
since the last one. Export the digest (``VerifyReport.checkpoint_digest``)
and pass it back as ``trusted_digest``: a superuser who rewrites the log and
recomputes every hash and checkpoint still cannot produce that digest.

Positions carry no evidence here: they have gaps by design (see ``store``).

Each checkpoint is signed with a key derived from the KEK and, when the store
has an anchor, written outside the database (``anchor``); ``verify`` checks the
signatures and compares the log's checkpoints with the anchor's, so a superuser
who deletes a stream and recomputes ``$checkpoints``, or cuts the events and the
checkpoints taken after some point, is found. Checkpoints taken before signing
existed (unsigned, all before the first signed one) are accepted as they are.

Limits: what happened after the latest anchored checkpoint is covered by the
chains only, so a stream, or a stream's tail, created and then deleted since
then goes unseen. The checkpoint schedule's interval is that window.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from hashlib import sha256
from typing import TYPE_CHECKING

from domain.events import Event, EventMetadata, event
from infra.eventstore.anchor import AnchoredCheckpoint, sign, signature_holds
from infra.eventstore.errors import ConcurrencyError
from infra.eventstore.model import (
    Checkpoint,
    Finding,
    FindingKind,
    NewEvent,
    VerifyReport,
)
from infra.eventstore.rows import COLUMNS, HORIZON, ZERO_HASH, row_hash

if TYPE_CHECKING:
    import asyncpg

    from infra.eventstore.store import EventStore

CHECKPOINTS = "$checkpoints"
_VERIFY_BATCH = 5000
VERIFY_SETTLE_S = 10.0
"""How long verify() waits at its start for the writes committed before it to settle."""
# Assembled from module constants only (hence noqa S608); the limit inlined: read_sql.ALL_SQL.
CHECKPOINTS_SQL = (
    f"SELECT {COLUMNS} FROM events "  # noqa: S608
    "WHERE stream_id = $1 AND position < $2 ORDER BY version"
)
WALK_SQL = (
    f"SELECT {COLUMNS} FROM events "  # noqa: S608
    f"WHERE position > $1 AND position < $2 ORDER BY position LIMIT {_VERIFY_BATCH:d}"
)


@event("eventstore.checkpoint_recorded")
class CheckpointRecorded(Event):
    """The heads that moved since the previous checkpoint, chained into one digest."""

    horizon: int
    previous_digest: str
    heads: list[tuple[str, int, str]]  # (stream id, version, hash hex), sorted by stream id
    digest: str
    signature: str = ""
    """HMAC of the checkpoint's version and digest under the KEK's checkpoint key (see
    ``anchor``); empty in checkpoints taken before signing existed."""


def checkpoint_digest(previous: str, horizon: int, heads: list[tuple[str, int, str]]) -> str:
    h = sha256(b"mashflow checkpoint v1\n")
    h.update(f"{previous}\n{horizon}\n".encode())
    for stream_id, version, head_hash in heads:
        # Stream ids hold no control characters (their domain's CHECK), so newlines separate
        # unambiguously.
        h.update(f"{stream_id}\n{version}\n{head_hash}\n".encode())
    return h.hexdigest()


async def take_checkpoint(store: EventStore) -> Checkpoint:
    key = None if store.keyring is None else store.keyring.checkpoint_key
    async with store.connections.acquire() as raw:
        horizon = int(await raw.fetchval(f"SELECT {HORIZON}"))
        last = await raw.fetchrow(
            "SELECT version, data::text, position FROM events WHERE stream_id = $1 "
            "ORDER BY version DESC LIMIT 1",
            CHECKPOINTS,
        )
        version, since, previous = 0, 0, ""
        if last is not None:
            prior = CheckpointRecorded.model_validate_json(last[1])
            version, since, previous = last[0], prior.horizon, prior.digest
            anchor = store.anchor
            if (
                anchor is not None
                and key is not None
                and signature_holds(key, last[0], prior.digest, prior.signature)
            ):
                # The previous checkpoint again (a no-op when it is there): if writing it
                # failed after its append, the anchor gets it now, with no gap left.
                await asyncio.to_thread(
                    anchor.write,
                    AnchoredCheckpoint(
                        last[0], last[2], prior.horizon, prior.digest, prior.signature
                    ),
                )
        rows = await raw.fetch(
            "SELECT DISTINCT ON (stream_id) stream_id, version, hash FROM events "
            "WHERE position >= $1 AND position < $2 ORDER BY stream_id, version DESC",
            since,
            horizon,
        )
    # Sorted here, by code point, so the digest never depends on the database's collation.
    heads = sorted((r[0], r[1], r[2].hex()) for r in rows)
    digest = checkpoint_digest(previous, horizon, heads)
    recorded = CheckpointRecorded(
        horizon=horizon,
        previous_digest=previous,
        heads=heads,
        digest=digest,
        signature="" if key is None else sign(key, version + 1, digest),
    )
    from uuid import uuid4

    try:
        result = await store.append_system(
            CHECKPOINTS, version, [NewEvent(uuid4(), recorded, EventMetadata())]
        )
    except ConcurrencyError:
        raise  # another process checkpointed at the same moment: theirs stands
    if store.anchor is not None:
        if not recorded.signature:
            raise ValueError("an anchor needs signed checkpoints: give the store a keyring")
        await asyncio.to_thread(
            store.anchor.write,
            AnchoredCheckpoint(
                result.version, result.positions[0], horizon, digest, recorded.signature
            ),
        )
    return Checkpoint(
        position=result.positions[0],
        version=result.version,
        horizon=horizon,
        digest=recorded.digest,
        heads_changed=len(heads),
    )


class _Walk:
    """The state of one verify pass: per-stream heads, gaps, and what was reported."""

    def __init__(self, checkpoints: list[tuple[int, CheckpointRecorded]]) -> None:
        self.heads: dict[str, tuple[int, bytes]] = {}
        self.gaps: dict[str, set[int]] = {}
        self.touched: dict[str, int] = {}  # stream -> first version seen since last checkpoint
        self.findings: list[Finding] = []
        self.seen: set[tuple[FindingKind, str, int | None]] = set()
        self.pending = sorted(checkpoints, key=lambda c: c[1].horizon)

    def report(self, kind: FindingKind, stream_id: str, version: int | None, detail: str) -> None:
        if (kind, stream_id, version) not in self.seen:
            self.seen.add((kind, stream_id, version))
            self.findings.append(Finding(kind, stream_id, version, detail))

    def row(self, row: asyncpg.Record) -> None:
        while self.pending and row[0] >= self.pending[0][1].horizon:
            self.compare(*self.pending.pop(0))
        stream_id: str = row[1]
        version: int = row[2]
        prev: bytes = row[9]
        if row_hash(row) != row[10]:
            self.report(FindingKind.CHANGED, stream_id, version, "content does not match its hash")
        elif str(row[11]) != str(json.loads(row[7]).get("correlation_id")):
            self.report(
                FindingKind.CHANGED, stream_id, version, "correlation id differs from metadata"
            )
        head = self.heads.get(stream_id)
        expected = 1 if head is None else head[0] + 1
        if version == expected:
            if prev != (ZERO_HASH if head is None else head[1]):
                if head is None:
                    detail, at = "first event does not start a chain", version
                else:
                    detail, at = (
                        "its hash differs from the one the next event recorded",
                        version - 1,
                    )
                self.report(FindingKind.CHANGED, stream_id, at, detail)
            self.heads[stream_id] = (version, row[10])
        elif version > expected:
            self.gaps.setdefault(stream_id, set()).update(range(expected, version))
            self.heads[stream_id] = (version, row[10])
        elif version in self.gaps.get(stream_id, ()):
            self.gaps[stream_id].discard(version)
            self.report(
                FindingKind.REORDERED, stream_id, version, f"comes after version {expected - 1}"
            )
        else:
            self.report(FindingKind.INSERTED, stream_id, version, "a second event at this version")
        self.touched.setdefault(stream_id, version)

    def compare(self, position: int, cp: CheckpointRecorded) -> None:
        """At a checkpoint's horizon, the heads seen must be exactly those it recorded."""
        covered = set()
        for stream_id, version, head_hash in cp.heads:
            covered.add(stream_id)
            head = self.heads.get(stream_id)
            where = f"checkpoint at position {position} recorded version {version}"
            if head is None:
                self.report(FindingKind.STREAM_MISSING, stream_id, None, where)
            elif head[0] < version:
                for missing in range(head[0] + 1, version + 1):
                    self.report(FindingKind.REMOVED, stream_id, missing, where)
            elif head[0] > version:
                self.report(FindingKind.INSERTED, stream_id, version + 1, where)
            elif head[1].hex() != head_hash:
                self.report(FindingKind.CHANGED, stream_id, version, where)
        for stream_id, first in self.touched.items():
            if stream_id not in covered:
                self.report(
                    FindingKind.INSERTED,
                    stream_id,
                    first,
                    f"below the horizon of the checkpoint at position {position}, unrecorded",
                )
        self.touched.clear()

    def finish(self) -> None:
        while self.pending:
            self.compare(*self.pending.pop(0))
        for stream_id, versions in self.gaps.items():
            for version in sorted(versions):
                self.report(FindingKind.REMOVED, stream_id, version, "missing from its stream")


async def verify_log(
    store: EventStore,
    progress: Callable[[int, int], None] | None,
    trusted_digest: str | None,
) -> VerifyReport:
    # Verify walks below the horizon (what can no longer change). A write committed just
    # before verify starts may still sit above it while some older transaction anywhere on
    # the server is open: wait, a bounded while, for the horizon to pass the highest
    # committed position, so a verify right after a write checks that write. If the
    # horizon is held back longer, verify goes on with what is settled (the report counts
    # what it checked; the rest is checked next time).
    async with store.connections.acquire() as raw:
        latest = await raw.fetchval("SELECT max(position) FROM events")
    if latest is not None:
        with contextlib.suppress(TimeoutError):
            await store.wait_visible(int(latest), within_s=VERIFY_SETTLE_S)
    async with store.connections.acquire() as raw:
        horizon = int(await raw.fetchval(f"SELECT {HORIZON}"))
        total = int(await raw.fetchval("SELECT count(*) FROM events WHERE position < $1", horizon))
    from infra.eventstore.checkpoint_checks import against_anchor, load_checkpoints

    findings: list[Finding] = []
    checkpoints, digest, vouched = await load_checkpoints(store, horizon, findings)
    anchored = 0
    if store.anchor is not None:
        anchored = against_anchor(store.anchor, horizon, checkpoints, vouched, findings, store)
    if trusted_digest is not None and trusted_digest not in {cp.digest for _, _, cp in checkpoints}:
        findings.append(
            Finding(FindingKind.CHECKPOINT_MISMATCH, CHECKPOINTS, None, "exported digest not found")
        )
    walk = _Walk([(position, cp) for position, _, cp in checkpoints])
    checked = 0
    after = -1
    while True:
        async with store.connections.acquire() as raw:
            rows = await raw.fetch(
                WALK_SQL,
                after,
                horizon,
            )
        if not rows:
            break
        for row in rows:
            walk.row(row)
        checked += len(rows)
        after = rows[-1][0]
        if progress is not None:
            progress(checked, total)
    walk.finish()
    return VerifyReport(
        findings=tuple(findings + walk.findings),
        events_checked=checked,
        checkpoints_checked=len(checkpoints),
        checkpoint_digest=digest,
        anchored_checked=anchored,
    )
