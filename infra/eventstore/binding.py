"""Sealed values bound to where they are stored: stream, event, event type and field.

A format 2 value's associated data is its subject and its place (``infra.sealed_format.place``:
the stream, the event's id, the event type and the field's path), and the place is
named at the head of its ciphertext. An edge that knows where its value will be stored
seals it so (``KeySession.seal_at``); the store then has nothing to seal and reads no
keys. A value sealed for its subject only (format 1: workflows carry values so, since
the event's id is chosen after the value is sealed) is sealed again in format 2 for
its place when the store appends it (:func:`bind_events`: one query for the subjects'
keys, one AES-GCM per value, deterministic so a retried append is byte-identical).

Reading, each format 2 value must name exactly the place it was found in, its field
path included (:func:`misplaced`); one that names another (a ciphertext copied into
another stream, event, event type or field, by a database administrator or by a
compromised application) is given the place it was found in, so it does not open
(:func:`relabel_moved`). The check reads only the fields of an event type that can
hold sealed values (:func:`sealed_fields`, worked out once per type) and the head of
each such value. Format 1 values stored before the binding still open.
"""

from __future__ import annotations

import binascii
import dataclasses
import functools
import types
import typing
from binascii import a2b_base64
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Union
from uuid import UUID

from pydantic import BaseModel

from domain.events import Event, Sealed
from infra.crypto import Keyring
from infra.eventstore.model import NewEvent
from infra.sealed_format import place, place_of, with_place

if TYPE_CHECKING:
    from infra.eventstore.rows import Connections

KEYS_SQL = (
    "SELECT subject_id, wrapped_key, kek_id FROM subject_keys WHERE subject_id = ANY($1::uuid[])"
)


async def bind_events(
    keyring: Keyring | None, stream_id: str, events: Sequence[NewEvent], connections: Connections
) -> Sequence[NewEvent]:
    """The events with every format 1 value bound to its place (see the module). Events
    whose values are all format 2 already (sealed at the edge) are returned as they are,
    with no key read."""
    subjects = {
        _subject(value)
        for new in events
        for _, value in sealed_in(new.event)
        if _format(value) == 1
    }
    if keyring is None or not subjects:
        return events
    keys = keyring.session()
    async with connections.acquire() as conn:
        keys.preload(await conn.fetch(KEYS_SQL, list(subjects)))
    bound: list[NewEvent] = []
    for new in events:
        event = new.event
        if any(_format(value) == 1 for _, value in sealed_in(event)):
            data = event.model_dump()
            for holder, key, path in _leaves(data, ""):
                sealed = Sealed.model_validate(holder[key])
                where = place(stream_id, new.event_id, event.event_type, path)
                holder[key] = (await keys.bind(sealed, where)).model_dump()
            event = type(event).model_validate(data)
        bound.append(NewEvent(new.event_id, event, new.metadata))
    return bound


def misplaced(
    event: Event, fields: tuple[tuple[str, bytes], ...], stream: bytes, event_id: bytes,
    event_type: bytes,
) -> bool:  # fmt: skip
    """Whether a format 2 value in ``event`` names another place than the one it sits in
    (``fields``: :func:`sealed_fields` of its type; the rest, its place's parts as
    stored). Runs for every event read whose type can hold sealed values, so the plain
    case (a value straight in a field) is handled here, inline, without a walk."""
    values = event.__dict__
    prefix = b""
    for name, name_bytes in fields:
        value = values[name]
        if value is None:
            continue
        if value.__class__ is Sealed:
            if value.sealed != 2:
                continue
            if not prefix:
                prefix = b"\n".join((stream, event_id, event_type, b""))
            where = prefix + name_bytes
            size = len(where)
            try:
                if a2b_base64(value.ct[: (size + 4) // 3 * 4])[: size + 2] != (
                    size.to_bytes(2, "big") + where
                ):
                    return True
            except (binascii.Error, ValueError):
                return True
            continue
        if not prefix:
            prefix = b"\n".join((stream, event_id, event_type, b""))
        for path, found in _walk(value, name):
            if _format(found) == 2 and not names(_ct(found), prefix + path.encode()):
                return True
    return False


def names(ct: str, where: bytes) -> bool:
    """Whether a format 2 ciphertext names ``where`` at its head (only the head is decoded)."""
    head = len(where).to_bytes(2, "big") + where
    try:
        return a2b_base64(ct[: (len(head) + 2) // 3 * 4], strict_mode=True)[: len(head)] == head
    except (binascii.Error, ValueError):
        return False


def relabel_moved(event: Event, stream_id: str, event_id: UUID, event_type: str) -> Event:
    """The event with each format 2 value that names another place made to name this one
    (so it does not open). Called for the rare event :func:`misplaced` flags."""
    data = event.model_dump()
    for holder, key, path in _leaves(data, ""):
        sealed = Sealed.model_validate(holder[key])
        here = place(stream_id, event_id, event_type, path)
        if sealed.sealed == 2 and place_of(sealed) != here:
            holder[key] = with_place(sealed, here).model_dump()
    return type(event).model_validate(data)


@functools.cache
def sealed_fields(model: type[BaseModel]) -> tuple[tuple[str, bytes], ...]:
    """The fields of ``model`` whose declared type can hold a sealed value (a Sealed, a
    model with such a field, a list, dict or Any that may hold one), with their names
    as bytes: the only fields a read checks. Worked out once per type."""
    return tuple(
        (name, name.encode())
        for name, field in model.model_fields.items()
        if _may_hold_sealed(field.annotation, {model})
    )


def _may_hold_sealed(annotation: Any, seen: set[type]) -> bool:
    """Whether a field declared so can hold a sealed value. Only what is known not to
    (plain classes such as str, int, UUID, enums, instants; literals) says no: a form
    this does not know says yes, so a read never skips a field that could hold one."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return False
    if origin is typing.Annotated:
        return _may_hold_sealed(typing.get_args(annotation)[0], seen)
    if origin in (Union, types.UnionType, list, tuple, set, frozenset):
        return any(_may_hold_sealed(arg, seen) for arg in typing.get_args(annotation))
    if origin is not None or not isinstance(annotation, type) or annotation is object:
        return True  # Any, mappings, generics, forward references: may
    if issubclass(annotation, BaseModel) and not issubclass(annotation, Sealed):
        if annotation in seen:
            return False  # recursive: its own fields decide
        return any(
            _may_hold_sealed(f.annotation, seen | {annotation})
            for f in annotation.model_fields.values()
        )
    return issubclass(annotation, Sealed | dict) or dataclasses.is_dataclass(annotation)


SealedLike = Sealed | dict[str, Any]
"""A sealed value in a model: a Sealed, or its JSON form held in a dict field."""


def sealed_in(event: BaseModel) -> Iterator[tuple[str, SealedLike]]:
    """Every sealed value of ``event`` with its field path, spelled as ``place`` binds it
    (``name``, ``name.inner``, ``name[0]``; dict-held values included)."""
    for name, _ in sealed_fields(type(event)):
        yield from _walk(getattr(event, name), name)


def _walk(value: Any, path: str) -> Iterator[tuple[str, SealedLike]]:
    if isinstance(value, Sealed):
        yield path, value
    elif isinstance(value, BaseModel):
        for name, _ in sealed_fields(type(value)):
            yield from _walk(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, dict):
        if "sealed" in value and "ct" in value:
            yield path, value
        else:
            for key, item in value.items():
                yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")


def _format(value: SealedLike) -> object:
    return value.sealed if isinstance(value, Sealed) else value.get("sealed")


def _ct(value: SealedLike) -> str:
    ct = value.ct if isinstance(value, Sealed) else value.get("ct")
    return ct if isinstance(ct, str) else ""


def _subject(value: SealedLike) -> UUID:
    return value.subject_id if isinstance(value, Sealed) else UUID(str(value["subject_id"]))


def _leaves(value: Any, path: str) -> Iterator[tuple[Any, Any, str]]:
    """Each sealed value in a ``model_dump()`` as (its holder, its key, its path), the
    path spelled as :func:`sealed_in` spells it for the model."""
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
