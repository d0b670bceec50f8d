"""Web sessions and CSRF tokens.

A signed-in session is a row on the server (``api.web_sessions``); its cookie is a
random id (HttpOnly, SameSite=Lax), and the session holds a per-session CSRF secret.

CSRF is a synchroniser token: every form carries ``csrf_token``, which must
equal the session's secret. Before sign-in there is no session, so the
sign-in form is protected by a signed double-submit cookie instead.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from infra.codec import derive_key

SESSION_COOKIE = "mashflow_session"
CSRF_COOKIE = "mashflow_csrf"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True, slots=True)
class Session:
    user_id: uuid.UUID
    issued_at: int
    csrf: str
    expires_at: int | None = None
    """When it ends at the latest (its age, or its sign-on token's expiry), in Unix seconds."""


class SessionCodec:
    def __init__(
        self, kek: bytes, *, max_age_s: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._session_key = derive_key(kek, b"mashflow web session v1")
        self._csrf_key = derive_key(kek, b"mashflow web csrf v1")
        self.max_age_s = max_age_s
        self._clock = clock

    # -- CSRF before sign-in --------------------------------------------------------------

    def anonymous_csrf(self) -> str:
        return _sign(self._csrf_key, secrets.token_urlsafe(24).encode())

    def anonymous_csrf_valid(self, cookie: str | None) -> bool:
        return _verify(self._csrf_key, cookie) is not None


def tokens_match(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, payload: bytes) -> str:
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def _verify(key: bytes, value: str | None) -> bytes | None:
    if not value or value.count(".") != 1 or len(value) > 4096:
        return None
    body, mac = value.split(".")
    try:
        payload, given = _unb64(body), _unb64(mac)
    except (binascii.Error, ValueError):
        return None
    expected = hmac.new(key, payload, hashlib.sha256).digest()
    return payload if hmac.compare_digest(expected, given) else None
