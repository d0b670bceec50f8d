"""Sealed values bound to their stream, event, event type and field, on real PostgreSQL.

A value sealed at the edge for its place (format 2) is stored as it is, with no key
read; the store binds a value sealed for its subject only (format 1) to where it is
stored. A ciphertext copied into another stream, event, event type or field (by the
application role, through the store's own append, or by a database administrator who
rewrites a stored event and its hash) does not open there; values stored before the
binding (format 1) still open.
"""

from __future__ import annotations

import typing
import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from pydantic import BaseModel

from domain.events import RecordedEvent, Sealed, registry
from domain.events.catalogue import RatingChanged, RequestWithdrawn
from domain.vocabulary import Rating
from infra.crypto import Keyring, KeyringError
from infra.eventstore import ANY_VERSION, EventStore, NewEvent
from infra.eventstore.binding import misplaced, relabel_moved, sealed_fields
from infra.eventstore.rows import CHAINED_SQL
from infra.sealed_format import place, place_of, with_place
from tests.eventstore.conftest import Fresh
from tests.eventstore.events import PairRecorded

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def _rating(request_id: UUID, rationale: Sealed) -> RatingChanged:
    return RatingChanged(
        request_id=request_id,
        previous=Rating.AMBER,
        rating=Rating.RED,
        rationale=rationale,
        changed_by="u-coordinator",
        changed_at=NOW,
        decision_due_at=NOW + timedelta(days=1),
    )


def _withdrawal(request_id: UUID, reason: Sealed) -> RequestWithdrawn:
    return RequestWithdrawn(
        request_id=request_id, reason=reason, withdrawn_by="u-coordinator", withdrawn_at=NOW
    )


async def _append(
    store: EventStore, stream: str, *events: RatingChanged | RequestWithdrawn
) -> None:
    await store.append(stream, ANY_VERSION, [NewEvent(uuid.uuid4(), e) for e in events])


async def _read(store: EventStore, stream: str) -> list[RecordedEvent]:
    return await store.read_stream(stream)


async def test_a_value_moved_to_another_stream_event_or_field_does_not_open(
    store: EventStore, keyring: Keyring
) -> None:
    subject, request_id = uuid.uuid4(), uuid.uuid4()
    home = f"request-{request_id}"
    await _append(store, home, _rating(request_id, await keyring.seal(subject, "a new concern")))
    (stored,) = await _read(store, home)
    assert isinstance(stored.event, RatingChanged)
    bound = stored.event.rationale
    assert bound.sealed == 2
    assert await keyring.open(bound) == "a new concern"  # where it was sealed: opens

    # Copied, ciphertext and all, into another stream; into another event type and field
    # of its own stream; and into another event of its own stream, type and field.
    elsewhere = f"request-{uuid.uuid4()}"
    await _append(store, elsewhere, _rating(request_id, bound))
    await _append(store, home, _withdrawal(request_id, bound))
    await _append(store, home, _rating(request_id, bound))  # same stream, type and field
    at_home = await _read(store, home)
    copies = [(await _read(store, elsewhere))[0].event, at_home[1].event, at_home[2].event]
    for copy in copies:
        value = copy.reason if isinstance(copy, RequestWithdrawn) else copy.rationale  # type: ignore[attr-defined]
        assert value.sealed == 2
        with pytest.raises(KeyringError, match="does not open"):
            await keyring.open(value)
    # The original still opens where it was stored.
    assert await keyring.open(_rationale((await _read(store, home))[0])) == "a new concern"


def _rationale(recorded: RecordedEvent) -> Sealed:
    assert isinstance(recorded.event, RatingChanged)
    return recorded.event.rationale


async def test_values_stored_before_the_binding_still_open(
    store: EventStore, keyring: Keyring
) -> None:
    """A store without a keyring appends as the store did before the binding (format 1)."""
    subject, request_id = uuid.uuid4(), uuid.uuid4()
    stream = f"request-{request_id}"
    old = EventStore(store.engine)
    try:
        await _append(old, stream, _rating(request_id, await keyring.seal(subject, "stored v1")))
    finally:
        await old.close()
    (stored,) = await _read(store, stream)
    assert isinstance(stored.event, RatingChanged) and stored.event.rationale.sealed == 1
    assert await keyring.open(stored.event.rationale) == "stored v1"


async def test_a_retried_append_binds_to_the_same_bytes(
    store: EventStore, keyring: Keyring
) -> None:
    subject, request_id = uuid.uuid4(), uuid.uuid4()
    stream = f"request-{request_id}"
    batch = [NewEvent(uuid.uuid4(), _rating(request_id, await keyring.seal(subject, "once")))]
    first = await store.append(stream, 0, batch)
    again = await store.append(stream, 0, batch)  # the activity retried after a lost reply
    assert again.deduplicated and again.positions == first.positions
    assert len(await _read(store, stream)) == 1


def test_a_malformed_or_foreign_value_is_found_misplaced_and_never_opens() -> None:
    """The read's check flags a format 2 value naming another event, one naming another
    field of its own event, and one whose head is not base64; relabelling each yields a
    value bound to here, which does not open."""
    request_id, event_id = uuid.uuid4(), uuid.uuid4()
    stream = f"request-{request_id}"
    parts = (stream.encode(), str(event_id).encode(), b"request.rating_changed")
    elsewhere = place(stream, uuid.uuid4(), "request.rating_changed", "rationale")
    other_field = place(stream, event_id, "request.rating_changed", "reason")
    here = place(stream, event_id, "request.rating_changed", "rationale")
    fields = sealed_fields(RatingChanged)
    assert [name for name, _ in fields] == ["rationale"]
    subject = uuid.uuid4()
    at_home = with_place(Sealed(sealed=2, subject_id=subject, ct="A" * 40), here)
    assert not misplaced(_rating(request_id, at_home), fields, *parts)
    for value in (
        with_place(Sealed(sealed=2, subject_id=subject, ct="A" * 40), elsewhere),
        with_place(Sealed(sealed=2, subject_id=subject, ct="A" * 40), other_field),
        Sealed(sealed=2, subject_id=subject, ct="!" * 40),
    ):
        event = _rating(request_id, value)
        assert misplaced(event, fields, *parts)
        relabelled = relabel_moved(event, stream, event_id, "request.rating_changed")
        assert isinstance(relabelled, RatingChanged)
        assert place_of(relabelled.rationale) == here


async def test_a_value_sealed_at_the_edge_for_its_place_is_stored_as_it_is(
    store: EventStore, keyring: Keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sealed where the event is built, for its stream, id, type and field: the store
    reads no key and stores the bytes it was given; sealing again for the same place and
    value gives the same bytes, so the append built again is deduplicated."""
    subject, request_id = uuid.uuid4(), uuid.uuid4()
    stream, event_id = f"request-{request_id}", uuid.uuid4()
    keys = keyring.session()
    where = place(stream, event_id, RatingChanged.event_type, "rationale")
    sealed = await keys.seal_at(subject, "sealed at the edge", where)
    assert sealed.sealed == 2 and place_of(sealed) == where
    assert keys.seal_at_loaded(subject, "sealed at the edge", where) == sealed
    other = place(stream, uuid.uuid4(), RatingChanged.event_type, "rationale")
    assert keys.seal_at_loaded(subject, "sealed at the edge", other).ct != sealed.ct

    def no_key_reads(*_: object) -> None:
        raise AssertionError("the store read keys for a value sealed for its place")

    monkeypatch.setattr(keyring, "session", no_key_reads)
    first = await store.append(stream, 0, [NewEvent(event_id, _rating(request_id, sealed))])
    rebuilt = keys.seal_at_loaded(subject, "sealed at the edge", where)
    again = await store.append(stream, 0, [NewEvent(event_id, _rating(request_id, rebuilt))])
    assert again.deduplicated and again.positions == first.positions
    monkeypatch.undo()
    (stored,) = await _read(store, stream)
    assert _rationale(stored) == sealed
    assert await keyring.open(_rationale(stored)) == "sealed at the edge"


async def test_a_value_moved_between_two_fields_of_one_stored_event_does_not_open(
    fresh: Fresh,
) -> None:
    """A database administrator swaps two values of one stored event and recomputes its
    hash: each value now sits in the other's field, and neither opens."""
    store, keyring = fresh.store, fresh.keyring
    subject, stream = uuid.uuid4(), f"pair-{uuid.uuid4().hex}"
    left, right = await keyring.seal(subject, "left text"), await keyring.seal(subject, "right")
    await store.append(stream, 0, [NewEvent(uuid.uuid4(), PairRecorded(left=left, right=right))])
    (stored,) = await _read(store, stream)
    assert isinstance(stored.event, PairRecorded)
    assert await keyring.open(stored.event.left) == "left text"  # before: both open
    assert await keyring.open(stored.event.right) == "right"

    conn = await fresh.admin()
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(
            "UPDATE events SET data = jsonb_build_object("
            "'left', data->'right', 'right', data->'left') WHERE stream_id = $1",
            stream,
        )
        await conn.execute(
            f"UPDATE events SET hash = sha256({CHAINED_SQL}) WHERE stream_id = $1", stream
        )
    finally:
        await conn.close()
    assert not (await store.verify()).findings  # a valid chain: only the binding sees it
    (moved,) = await _read(store, stream)
    assert isinstance(moved.event, PairRecorded)
    for value in (moved.event.left, moved.event.right):
        assert value.sealed == 2
        with pytest.raises(KeyringError, match="does not open"):
            await keyring.open(value)


def test_the_read_checks_every_field_of_every_event_type_that_can_hold_a_sealed_value() -> None:
    """The fields a read checks (worked out from each type's declarations) include every
    field whose declared type mentions Sealed, however deeply nested in models or lists."""
    for event_type in registry.types():
        model = registry.model_for(event_type)
        checked = {name for name, _ in sealed_fields(model)}
        for name, field in model.model_fields.items():
            if _mentions_sealed(field.annotation, set()):
                assert name in checked, f"{event_type}.{name} is not checked"
    assert {n for n, _ in sealed_fields(PairRecorded)} == {"left", "right"}


def _mentions_sealed(annotation: object, seen: set[type]) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation is Sealed:
            return True
        if annotation in seen:
            return False
        return any(
            _mentions_sealed(f.annotation, seen | {annotation})
            for f in annotation.model_fields.values()
        )
    args = typing.get_args(annotation)
    return "Sealed" in repr(annotation) or any(_mentions_sealed(a, seen) for a in args)
