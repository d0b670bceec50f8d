"""The checkpoints' own checks for ``verify``: their chain, their signatures, the anchor.

Signatures are checked with every checkpoint key the keyring holds: the KEK's
and, during a KEK rotation, the previous KEK's. A checkpoint signed under a key
no longer held (a KEK rotated and retired) is vouched for by the first later
checkpoint whose signature does hold: each digest chains the one before it, so a
signature over a later digest commits to every earlier checkpoint, and an earlier
one cannot be changed without breaking that chain. Only a signature that no later
held signature vouches for is reported; so is an anchor entry that is neither
signed under a held key nor the same digest as a vouched-for checkpoint of the log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from infra.eventstore.anchor import DirectoryAnchor, signature_holds
from infra.eventstore.integrity import (
    CHECKPOINTS,
    CHECKPOINTS_SQL,
    CheckpointRecorded,
    checkpoint_digest,
)
from infra.eventstore.model import Finding, FindingKind

if TYPE_CHECKING:
    from infra.eventstore.store import EventStore

Loaded = list[tuple[int, int, CheckpointRecorded]]
"""(position, version, checkpoint) of each settled checkpoint, in order."""


def _keys(store: EventStore) -> tuple[bytes, ...]:
    return () if store.keyring is None else store.keyring.checkpoint_keys


def _holds(keys: tuple[bytes, ...], version: int, digest: str, signature: str) -> bool:
    return any(signature_holds(key, version, digest, signature) for key in keys)


async def load_checkpoints(
    store: EventStore, horizon: int, findings: list[Finding]
) -> tuple[Loaded, str | None, set[int]]:
    """The settled checkpoints, their chain and signatures checked; the last digest; and
    the versions vouched for by a signature this hub holds (theirs or a later one's)."""
    async with store.connections.acquire() as raw:
        rows = await raw.fetch(CHECKPOINTS_SQL, CHECKPOINTS, horizon)
    keys = _keys(store)
    found: Loaded = []
    previous = ""
    signed_seen = False
    unvouched: list[int] = []
    vouched: set[int] = set()

    def mismatch(version: int, detail: str) -> None:
        findings.append(Finding(FindingKind.CHECKPOINT_MISMATCH, CHECKPOINTS, version, detail))

    for row in rows:
        try:
            cp = CheckpointRecorded.model_validate_json(row[6])
        except ValidationError:
            mismatch(row[2], "unreadable")
            continue
        if cp.previous_digest != previous:
            mismatch(row[2], "chain broken")
        if checkpoint_digest(cp.previous_digest, cp.horizon, cp.heads) != cp.digest:
            mismatch(row[2], "digest differs")
        if keys:
            if cp.signature:
                signed_seen = True
                unvouched.append(row[2])
                if _holds(keys, row[2], cp.digest, cp.signature):
                    vouched.update(unvouched)
                    unvouched.clear()
            elif signed_seen:
                mismatch(row[2], "unsigned, after signed checkpoints")
        previous = cp.digest
        found.append((row[0], row[2], cp))
    for version in unvouched:
        mismatch(version, "signature does not hold (not signed with this hub's KEK)")
    return found, (found[-1][2].digest if found else None), vouched


def against_anchor(
    anchor: DirectoryAnchor,
    horizon: int,
    checkpoints: Loaded,
    vouched: set[int],
    findings: list[Finding],
    store: EventStore,
) -> int:
    """Compare the log's checkpoints with the anchor's; the number of entries compared."""
    contents = anchor.read()
    keys = _keys(store)

    def mismatch(version: int | None, detail: str) -> None:
        findings.append(Finding(FindingKind.CHECKPOINT_MISMATCH, CHECKPOINTS, version, detail))

    for name in contents.unreadable:
        mismatch(None, f"anchor file {name} is not a checkpoint entry")
    in_log = {version: (position, cp) for position, version, cp in checkpoints}
    anchored = {e.version: e for e in contents.entries}
    compared = 0
    for entry in contents.entries:
        logged = in_log.get(entry.version)
        if (
            keys
            and not _holds(keys, entry.version, entry.digest, entry.signature)
            and not (
                entry.version in vouched and logged is not None and logged[1].digest == entry.digest
            )
        ):
            mismatch(entry.version, "the anchor's entry is not signed with this hub's KEK")
            continue
        if entry.position >= horizon:
            continue  # not settled in the log yet: the next verify compares it
        compared += 1
        if logged is None:
            mismatch(entry.version, "anchored, missing from the log")
        elif logged[1].digest != entry.digest or logged[0] != entry.position:
            mismatch(entry.version, "differs from the anchored checkpoint")
    if anchored:
        first, last = min(anchored), max(anchored)
        for version in range(first, last + 1):
            if version not in anchored:
                mismatch(version, "missing from the anchor (between anchored checkpoints)")
        for version, (_, cp) in in_log.items():
            if version < first and cp.signature:
                mismatch(version, "signed, but missing from the anchor")
    elif any(cp.signature for _, _, cp in checkpoints):
        mismatch(None, f"the anchor at {anchor.path} holds none of the log's signed checkpoints")
    return compared
