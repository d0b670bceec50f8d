"""Sealed values bound to where they are stored: stream, event type and field.

The edge seals a personal value for its subject (format 1) before anyone knows
which event will carry it, and the workflow carries it so (its Temporal payload
is bound to the workflow by the codec). When the store appends an event, every
format 1 value in it is sealed again in format 2, whose associated data is also
the stream, the event (its id), the event type and the field path
(``infra.crypto.place``), named at
the head of the ciphertext (:func:`bind_events`). When the store reads an event,
each format 2 value must name the place it was found in; one that names another
(a ciphertext copied into another stream, event or field, by a database
administrator or by a compromised application) is given the place it was found
in, so it does not open (:func:`relabel_moved`). Every event read is scanned for
that (:func:`moved_here`: its bytes, and the head of each format 2 value, not the
model), so a replay pays little for it; the field is compared only for an event
that holds a value from elsewhere. Format 1 values stored before the binding still
open.
"""

from __future__ import annotations

import binascii
import re
from binascii import a2b_base64
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.events import Event, Sealed
from domain.models import sealed_values
from infra.crypto import Keyring, place, place_of, with_place
from infra.eventstore.model import NewEvent

if TYPE_CHECKING:
    from infra.eventstore.rows import Connections

KEYS_SQL = (
    "SELECT subject_id, wrapped_key, kek_id FROM subject_keys WHERE subject_id = ANY($1::uuid[])"
)


async def bind_events(
    keyring: Keyring | None, stream_id: str, events: Sequence[NewEvent], connections: Connections
) -> Sequence[NewEvent]:
    """The events with every format 1 value bound to its place (see the module)."""
    subjects = {
        value.subject_id
        for new in events
        for _, value in sealed_values(new.event)
        if value.sealed == 1
    }
    if keyring is None or not subjects:
        return events
    keys = keyring.session()
    async with connections.acquire() as conn:
        keys.preload(await conn.fetch(KEYS_SQL, list(subjects)))
    bound: list[NewEvent] = []
    for new in events:
        event = new.event
        if _has(event, 1):
            data = event.model_dump()
            for holder, key, path in _leaves(data, ""):
                sealed = Sealed.model_validate(holder[key])
                where = place(stream_id, new.event_id, event.event_type, path)
                holder[key] = (await keys.bind(sealed, where)).model_dump()
            event = type(event).model_validate(data)
        bound.append(NewEvent(new.event_id, event, new.metadata))
    return bound


_FORMAT_2_CT = re.compile(rb'"ct": ?"([^"]*)", ?"sealed": ?2\b')
"""A format 2 value's ciphertext in stored JSON (jsonb orders keys: ct, sealed, subject_id)."""


def moved_here(data: bytes, here: bytes) -> bool:
    """Whether a format 2 value in an event's stored JSON names another stream, event or
    event type than ``here`` (``place`` without the field): a scan of the bytes and of
    each value's head only, cheap enough for every event of a replay (the field is
    checked by :func:`relabel_moved`)."""
    for ct in _FORMAT_2_CT.findall(data):
        try:
            length = int.from_bytes(a2b_base64(ct[:4])[:2], "big")
            head = a2b_base64(ct[: (2 + length + 2) // 3 * 4])
        except (binascii.Error, ValueError):
            return True
        if not head[2 : 2 + length].startswith(here):
            return True
    return False


def relabel_moved(event: Event, stream_id: str, event_id: UUID, event_type: str) -> Event:
    """The event with each format 2 value that names another place made to name this one
    (so it does not open). Called for the rare event :func:`moved_here` flags."""
    data = event.model_dump()
    for holder, key, path in _leaves(data, ""):
        sealed = Sealed.model_validate(holder[key])
        here = place(stream_id, event_id, event_type, path)
        if sealed.sealed == 2 and place_of(sealed) != here:
            holder[key] = with_place(sealed, here).model_dump()
    return type(event).model_validate(data)


def _has(event: Event, fmt: int) -> bool:
    return any(value.sealed == fmt for _, value in sealed_values(event))


Holder = dict[str, Any] | list[Any]


def _leaves(value: Any, path: str) -> Iterator[tuple[Any, Any, str]]:
    """Each sealed value in a ``model_dump()`` as (its holder, its key, its path), the
    path spelled as ``domain.models.sealed_values`` spells it for the model."""
    if isinstance(value, dict):
        for name, item in value.items():
            here = f"{path}.{name}" if path else name
            if isinstance(item, dict) and "sealed" in item and "ct" in item:
                yield value, name, here
            else:
                yield from _leaves(item, here)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            here = f"{path}[{i}]"
            if isinstance(item, dict) and "sealed" in item and "ct" in item:
                yield value, i, here
            else:
                yield from _leaves(item, here)
