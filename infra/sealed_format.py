"""How a sealed value is made and how it looks where it is stored: format 1 (bound to its
subject), format 2 (its subject and its place, the place at its head ahead of the nonce
and ciphertext), and a subject id as stored JSON names it.

Pure functions over bytes: :mod:`infra.crypto` seals and opens, the event store
(:mod:`infra.eventstore.binding`) checks a value's place with these.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from binascii import a2b_base64
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic_core import to_json

from domain.events import Sealed

NONCE_BYTES = 12
SEAL_AAD = b"mashflow sealed v1\x00"
SEAL_AAD_V2 = b"mashflow sealed v2\x00"

MENTIONED = re.compile(
    rb'"subject_id": ?"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
    rb'[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"'
)
"""A subject id as a JSON key and value (a Sealed value's ``subject_id``), in pydantic's
spelling or PostgreSQL's jsonb text. Inside a JSON string a quote is always escaped, so the
pattern can only match a real key; a match that is not a Sealed value's subject only makes
a session fetch one key too many. (Spelled out in both cases: ``re.IGNORECASE`` made the
scan three times slower.)"""


def head_of(where: bytes) -> bytes:
    """Format 2's head: the place's length (two bytes), then the place."""
    return len(where).to_bytes(2, "big") + where


def place(stream_id: str, event_id: UUID, event_type: str, field: str) -> bytes:
    """Where a format 2 value is stored: its stream, event, event type and field path
    (stream ids hold no control character, the rest no newline: the newlines delimit)."""
    return f"{stream_id}\n{event_id}\n{event_type}\n{field}".encode()


def place_of(sealed: Sealed) -> bytes | None:
    """The place a format 2 value names at the head of its ciphertext (None: format 1)."""
    if sealed.sealed != 2:
        return None
    try:
        raw = a2b_base64(sealed.ct, strict_mode=True)
    except (binascii.Error, ValueError):
        return b""
    return raw[2 : 2 + int.from_bytes(raw[:2], "big")]


def with_place(sealed: Sealed, where: bytes) -> Sealed:
    """The same ciphertext claiming another place: it will not open (``rows`` uses it for
    a value found somewhere other than where it was sealed)."""
    try:
        raw = a2b_base64(sealed.ct)
    except (binascii.Error, ValueError):
        raw = b"\x00\x00"  # not even base64: the place alone, which opens nothing
    body = raw[2 + int.from_bytes(raw[:2], "big") :]
    return Sealed(
        sealed=2, subject_id=sealed.subject_id, ct=base64.b64encode(head_of(where) + body).decode()
    )


def uuid_of(text: bytes) -> UUID:
    return UUID(text.decode())


def seal_aad(subject_id: UUID) -> bytes:
    return SEAL_AAD + subject_id.bytes


DataKey = tuple[AESGCM, bytes]
"""A subject's unwrapped key: its AES-GCM object, and the key of its format 2 nonces (an
HMAC key derived from the data key, see :meth:`KeySession.seal_at_loaded`)."""

Entry = tuple[AESGCM, bytes, bytes, bytes]
"""A loaded subject in a :class:`KeySession`: the AES-GCM object, the associated data of
format 1, the head of format 2's associated data (before the place), the nonce key."""


def entry_of(subject_id: UUID, key: DataKey) -> Entry:
    return key[0], seal_aad(subject_id), SEAL_AAD_V2 + subject_id.bytes, key[1]


def format2(entry: Entry, subject_id: UUID, nonce: bytes, plain: bytes, where: bytes) -> Sealed:
    """A format 2 value: the place at the head, then the nonce and the ciphertext, whose
    associated data is the subject's and the place."""
    body = entry[0].encrypt(nonce, plain, entry[2] + where)
    return Sealed(
        sealed=2, subject_id=subject_id, ct=base64.b64encode(head_of(where) + nonce + body).decode()
    )


def encrypt(aead: AESGCM, subject_id: UUID, value: Any) -> Sealed:
    nonce = os.urandom(NONCE_BYTES)
    body = aead.encrypt(nonce, to_json(value), seal_aad(subject_id))
    return Sealed(subject_id=subject_id, ct=base64.b64encode(nonce + body).decode("ascii"))
