"""Opening a request or a share once, whatever the retries: the ``Idempotency-Key``.

A client's key (the HTTP header, a page form's hidden one-time key, the CLI's
``--idempotency-key``) never becomes an id itself. It is hashed with a server key
derived from the KEK (HMAC-SHA256, :attr:`infra.crypto.Keyring.idempotency_key`),
together with the user who sent it, into the request id, its subject id and its
opening event's id. So the same key from the same user opens the same workflow
(Temporal refuses a second workflow with that id, and the event store dedupes the
opening's event id) and another user's same key opens another request. What the
first call asked for is kept as a keyed digest of the body in the workflow's memo,
never the body: the same key with another body is refused (422), nothing written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.errors import ValidationFailed

HEADER = "Idempotency-Key"
MEMO_DIGEST = "opening_digest"
"""The memo field of a request's workflow that holds its opening body's keyed digest."""

_KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
"""A key: 1 to 255 visible ASCII characters (a UUID is what clients are told to send)."""


def check_key(key: str) -> str:
    """The key as given, or a 422 naming the header (the key itself is never echoed)."""
    if not _KEY_PATTERN.fullmatch(key):
        raise ValidationFailed(HEADER, "give 1 to 255 visible ASCII characters, such as a UUID")
    return key


@dataclass(frozen=True)
class OpeningIds:
    """The ids an opening under a key takes, and the digest of what it asked for."""

    request_id: UUID
    subject_id: UUID
    event_id: UUID
    digest: str


def _uuid(server_key: bytes, part: bytes, user_id: str, key: str) -> UUID:
    mac = hmac.digest(
        server_key, part + b"\x00" + user_id.encode() + b"\x00" + key.encode(), "sha256"
    )
    return uuid.UUID(bytes=mac[:16], version=4)


def opening_ids(server_key: bytes, user_id: str, key: str, body: dict[str, Any]) -> OpeningIds:
    """The ids of the opening under (user, key), and the keyed digest of ``body``."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    scoped = f"{user_id}\x00{key}\x00".encode()
    digest = hmac.new(server_key, b"body\x00" + scoped + canonical.encode(), hashlib.sha256)
    return OpeningIds(
        request_id=_uuid(server_key, b"request", user_id, key),
        subject_id=_uuid(server_key, b"subject", user_id, key),
        event_id=_uuid(server_key, b"opened", user_id, key),
        digest=digest.hexdigest(),
    )


def refuse_other_body() -> ValidationFailed:
    return ValidationFailed(
        HEADER,
        "this key was already used to open a request with other details; "
        "send those details again, or use a new key for a new request",
    )
