"""Sealed values bound to their stream, event, event type and field, on real PostgreSQL.

The store binds each value it appends to where it is stored (format 2). A ciphertext
copied into another stream, event, event type or field (here by the
application role, through the store's own append, so every hash is valid) does not
open there; values stored before the binding (format 1) still open.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from domain.events import RecordedEvent, Sealed
from domain.events.catalogue import RatingChanged, RequestWithdrawn
from domain.vocabulary import Rating
from infra.crypto import Keyring, KeyringError, place, place_of, with_place
from infra.eventstore import ANY_VERSION, EventStore, NewEvent
from infra.eventstore.binding import moved_here, relabel_moved

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


def test_a_malformed_or_foreign_value_is_found_moved_and_never_opens() -> None:
    """The byte scan flags a format 2 value naming another event, and one whose head is
    not base64; relabelling either yields a value bound to here, which does not open."""
    request_id, event_id = uuid.uuid4(), uuid.uuid4()
    stream = f"request-{request_id}"
    here = f"{stream}\n{event_id}\nrequest.rating_changed\n".encode()
    elsewhere = place(stream, uuid.uuid4(), "request.rating_changed", "rationale")
    foreign = with_place(Sealed(sealed=2, subject_id=uuid.uuid4(), ct="A" * 40), elsewhere)
    for value in (foreign, Sealed(sealed=2, subject_id=uuid.uuid4(), ct="!" * 40)):
        event = _rating(request_id, value)
        assert moved_here(_jsonb(event), here)
        relabelled = relabel_moved(event, stream, event_id, "request.rating_changed")
        assert isinstance(relabelled, RatingChanged)
        assert place_of(relabelled.rationale) == place(
            stream, event_id, "request.rating_changed", "rationale"
        )


def _jsonb(event: RatingChanged) -> bytes:
    """The event's data as PostgreSQL's jsonb prints it (keys by length, then bytes)."""
    return json.dumps(_sorted(event.model_dump(mode="json"))).encode()


def _sorted(value: object) -> object:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=lambda k: (len(k), k))}
    return value
