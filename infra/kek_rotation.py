"""Rotating the KEK: every live key wrapped again under a new KEK, then the old one retired.

The operator sets the new KEK as ``MASHFLOW_KEK`` and the one it replaces as
``MASHFLOW_KEK_PREVIOUS``, restarts every process (each then reads both and
writes with the new one), and runs ``mashflow keys rotate-kek``. That takes the
live subject keys still under the previous KEK in batches, in the order of their
ids; each batch is one transaction: the keys are unwrapped and wrapped again here
(the database never sees a KEK), and ``mashflow_rewrap_subject_keys`` moves the
rows that are still live under the old KEK and appends
``keys.subject_keys_rewrapped`` (migration 0015). Agencies' private keys follow,
one transaction each. A run stopped at any point leaves every key wrapped under
one of the two KEKs and readable by the processes, which hold both; running the
command again carries on with the keys still under the old KEK. When none is
left it records ``keys.kek_rotation_completed`` and says what remains to do
before ``MASHFLOW_KEK_PREVIOUS`` is removed (docs/operations.md, Keys). It ends
with a checkpoint signed under the new KEK: it chains every earlier checkpoint,
so ``verify`` vouches for those signed under the old KEK once that is retired
(``infra.eventstore.checkpoint_checks``).

Why both KEKs are read during the transition instead of stopping the hub: the
hub stays up through a rotation of a million keys, and Temporal histories of
requests that are still open were encrypted and signed under the old KEK; they
must still be read until those workflows close. Outside a rotation, and after
it, a process refuses to start while any key is wrapped under a KEK it was not
given (:func:`check_key_generations`), so a forgotten or wrong KEK is found at
start rather than at the first reveal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from uuid import UUID, uuid4

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import EventMetadata
from domain.events.keys import KEYS_STREAM, KekRotationCompleted, KekRotationStarted
from infra.crypto import Keyring, KeyringError, kek_id_of
from infra.eventstore import ANY_VERSION, EventStore, NewEvent
from infra.kek_checks import ConfigurationError
from infra.transfer import TransferError, unwrap_private_key, wrap_private_key

OPERATOR = EventMetadata(actor_id="operator", actor_role="operator")

_LIVE_GENERATIONS = text(
    # A loose index scan over subject_keys_live_by_kek: one probe per KEK generation,
    # however many keys there are.
    "WITH RECURSIVE g(kek_id) AS ("
    " (SELECT kek_id FROM subject_keys WHERE wrapped_key IS NOT NULL ORDER BY kek_id LIMIT 1)"
    " UNION ALL SELECT (SELECT s.kek_id FROM subject_keys s WHERE s.wrapped_key IS NOT NULL"
    "  AND s.kek_id > g.kek_id ORDER BY s.kek_id LIMIT 1) FROM g WHERE g.kek_id IS NOT NULL)"
    " SELECT kek_id FROM g WHERE kek_id IS NOT NULL"
)
_BATCH = text(
    "SELECT subject_id, wrapped_key FROM subject_keys "
    "WHERE kek_id = :kek AND wrapped_key IS NOT NULL AND subject_id > :after "
    "ORDER BY subject_id LIMIT :n"
)
_LEFT = text("SELECT count(*) FROM subject_keys WHERE kek_id = :kek AND wrapped_key IS NOT NULL")
_REWRAP = text(
    "SELECT mashflow_rewrap_subject_keys(:old, :new, CAST(:ids AS uuid[]), "
    "CAST(:keys AS bytea[]), :actor)"
)
_AGENCIES = text("SELECT code, wrapped_private_key FROM agencies ORDER BY code")
_REWRAP_AGENCY = text(
    "SELECT mashflow_rewrap_agency_key(:code, :old_key, :new_key, :old, :new, :actor)"
)


async def live_generations(engine: AsyncEngine) -> set[str]:
    """The ids of the KEKs that live subject keys are wrapped under."""
    async with engine.connect() as conn:
        return {row[0] for row in await conn.execute(_LIVE_GENERATIONS)}


async def check_key_generations(
    engine: AsyncEngine, keyring: Keyring, kek: bytes, previous: tuple[bytes, ...]
) -> None:
    """Refuse to start while a key is wrapped under a KEK this process was not given."""
    unknown = await live_generations(engine) - keyring.kek_ids
    if unknown:
        raise ConfigurationError(
            f"MASHFLOW_KEK: subject keys are wrapped under KEK {', '.join(sorted(unknown))}, "
            "which this process was not given; set MASHFLOW_KEK_PREVIOUS to that KEK until "
            "`mashflow keys rotate-kek` has finished (docs/operations.md, Keys)"
        )
    async with engine.connect() as conn:
        agencies = (await conn.execute(_AGENCIES)).all()
    for code, wrapped in agencies:
        try:
            unwrap_private_key(kek, bytes(wrapped), code, previous)
        except TransferError:
            raise ConfigurationError(
                f"MASHFLOW_KEK: the private key of agency {code!r} opens under neither "
                "MASHFLOW_KEK nor MASHFLOW_KEK_PREVIOUS"
            ) from None


@dataclass
class RotationReport:
    from_kek: str
    to_kek: str
    subject_keys: int = 0
    """Subject keys this run wrapped again."""
    agency_keys: int = 0
    left: int = 0
    """Live subject keys still under the previous KEK (0 when the rotation is complete)."""
    unreadable: list[str] = field(default_factory=list)
    """Subject ids and agency codes whose key did not open under the previous KEK."""

    @property
    def complete(self) -> bool:
        return self.left == 0 and not self.unreadable


BatchHook = Callable[[int], Awaitable[None]]


class KekRotation:
    """Moves every live key from the previous KEK to the KEK. Resumable; see the module."""

    def __init__(
        self,
        engine: AsyncEngine,
        store: EventStore,
        kek: bytes,
        previous: bytes,
        *,
        batch_size: int = 500,
    ) -> None:
        if kek == previous:
            raise ConfigurationError("MASHFLOW_KEK_PREVIOUS: is the same key as MASHFLOW_KEK")
        self._engine = engine
        self._store = store
        self._kek, self._previous = kek, previous
        self._keyring = Keyring(engine, kek, [previous])
        self._batch_size = batch_size
        self.report = RotationReport(from_kek=kek_id_of(previous), to_kek=kek_id_of(kek))

    async def run(self, *, in_batch: BatchHook | None = None) -> RotationReport:
        """Rotate what is left. ``in_batch(n)`` runs inside batch ``n``'s transaction
        before it commits (the tests stop a rotation there)."""
        report = self.report
        async with self._engine.connect() as conn:
            left = int(await conn.scalar(_LEFT, {"kek": report.from_kek}) or 0)
        await self._record(
            KekRotationStarted(
                from_kek=report.from_kek, to_kek=report.to_kek, subject_keys_left=left
            )
        )
        await self._subject_keys(in_batch)
        await self._agency_keys()
        async with self._engine.connect() as conn:
            report.left = int(await conn.scalar(_LEFT, {"kek": report.from_kek}) or 0)
        if report.complete:
            await self._record(
                KekRotationCompleted(
                    from_kek=report.from_kek,
                    to_kek=report.to_kek,
                    subject_keys=report.subject_keys,
                    agency_keys=report.agency_keys,
                )
            )
            # Signed with the new KEK and chaining every earlier checkpoint, so `verify`
            # vouches for those signed under the old one once it is retired.
            await self._store.checkpoint()
        return report

    async def _subject_keys(self, in_batch: BatchHook | None) -> None:
        report, after, number = self.report, UUID(int=0), 0
        while True:
            number += 1
            async with self._engine.begin() as conn:
                rows = (
                    await conn.execute(
                        _BATCH, {"kek": report.from_kek, "after": after, "n": self._batch_size}
                    )
                ).all()
                if not rows:
                    return
                ids, keys = [], []
                for subject_id, wrapped in rows:
                    try:
                        keys.append(
                            self._keyring.rewrap(subject_id, bytes(wrapped), report.from_kek)
                        )
                    except KeyringError:
                        report.unreadable.append(str(subject_id))
                        continue
                    ids.append(subject_id)
                moved = await conn.scalar(
                    _REWRAP,
                    {
                        "old": report.from_kek,
                        "new": report.to_kek,
                        "ids": ids,
                        "keys": keys,
                        "actor": OPERATOR.actor_id,
                    },
                )
                if in_batch is not None:
                    await in_batch(number)
            report.subject_keys += int(moved or 0)
            after = rows[-1][0]

    async def _agency_keys(self) -> None:
        report = self.report
        async with self._engine.connect() as conn:
            agencies = (await conn.execute(_AGENCIES)).all()
        for code, stored in agencies:
            wrapped = bytes(stored)
            try:
                unwrap_private_key(self._kek, wrapped, code)
                continue  # under the KEK already
            except TransferError:
                pass
            try:
                raw = unwrap_private_key(self._previous, wrapped, code)
            except TransferError:
                report.unreadable.append(f"agency {code}")
                continue
            async with self._engine.begin() as conn:
                moved = await conn.scalar(
                    _REWRAP_AGENCY,
                    {
                        "code": code,
                        "old_key": wrapped,
                        "new_key": wrap_private_key(self._kek, raw, code),
                        "old": report.from_kek,
                        "new": report.to_kek,
                        "actor": OPERATOR.actor_id,
                    },
                )
            report.agency_keys += bool(moved)

    async def _record(self, event: KekRotationStarted | KekRotationCompleted) -> None:
        await self._store.append(KEYS_STREAM, ANY_VERSION, [NewEvent(uuid4(), event, OPERATOR)])
