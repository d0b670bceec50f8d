"""Server-side web sessions: the cookie is a random id, the session is a row.

Signing out ends the row, so a copied cookie stops working at once; a session
unused for ``idle_timeout_s`` ends; one started with a sign-on token ends when the
token expires; and a revoked user's sessions end at once (every read joins the
user's row). The table keeps only the id's SHA-256, so a row read from the
database (or a backup) is not a cookie. A session started through the identity
provider keeps its ID token for signing out there too, sealed under a key derived
from the cookie (so the row alone does not open it either); ending the session hands
it back once and clears it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.sessions import Session
from infra.codec import derive_key

TOUCH_EVERY_S = 60
"""A session's last use is written at most this often (not on every page), and at least
four times per idle timeout."""

WARN_BEFORE_S = 120
"""The pages warn this long before a session ends (half the idle timeout, if shorter)."""

_READ = text(
    "SELECT s.user_id, s.csrf, s.created_at, s.expires_at,"
    " s.last_seen_at < now() - make_interval(secs => :touch) AS stale"
    " FROM web_sessions s JOIN users u ON u.id = s.user_id"
    " WHERE s.id_hash = :id AND s.ended_at IS NULL AND s.expires_at > now()"
    " AND s.last_seen_at > now() - make_interval(secs => :idle) AND u.revoked_at IS NULL"
)
_TOUCH = text("UPDATE web_sessions SET last_seen_at = now() WHERE id_hash = :id")
_ISSUE = text(
    "INSERT INTO web_sessions (id_hash, user_id, csrf, expires_at, id_token_sealed)"
    " VALUES (:id, :user, :csrf, :expires, :id_token) RETURNING created_at"
)
_LAPSED = text(
    "SELECT s.user_id, s.csrf FROM web_sessions s JOIN users u ON u.id = s.user_id"
    " WHERE s.id_hash = :id AND u.revoked_at IS NULL"
    " AND s.created_at > now() - make_interval(secs => :age)"
)
_END = text(
    "UPDATE web_sessions s SET ended_at = now(), id_token_sealed = NULL"
    " FROM (SELECT id_hash, id_token_sealed FROM web_sessions WHERE id_hash = :id) o"
    " WHERE s.id_hash = o.id_hash AND s.ended_at IS NULL RETURNING o.id_token_sealed"
)
_ID_TOKEN_KEY = b"mashflow web session id token v1"


def _hash(cookie: str) -> bytes:
    return hashlib.sha256(cookie.encode()).digest()


def _seal(cookie: str, id_token: str) -> bytes:
    """The ID token under a key only the cookie gives (the row's id hash as associated data)."""
    nonce = os.urandom(12)
    key = derive_key(cookie.encode(), _ID_TOKEN_KEY)
    return nonce + AESGCM(key).encrypt(nonce, id_token.encode(), _hash(cookie))


def _open(cookie: str, sealed: bytes) -> str | None:
    key = derive_key(cookie.encode(), _ID_TOKEN_KEY)
    try:
        return AESGCM(key).decrypt(sealed[:12], sealed[12:], _hash(cookie)).decode()
    except (InvalidTag, ValueError):
        return None


class SessionStore:
    def __init__(self, engine: AsyncEngine, *, max_age_s: int, idle_timeout_s: int) -> None:
        self._engine = engine
        self.max_age_s = max_age_s
        self.idle_timeout_s = idle_timeout_s

    async def issue(
        self,
        user_id: uuid.UUID,
        *,
        token_expires_at: float | None = None,
        id_token: str | None = None,
    ) -> tuple[str, Session]:
        """A new session for ``user_id``; with a sign-on token's expiry, it ends then. The
        ``id_token`` of a sign-in through the identity provider is kept, sealed, for
        signing out there too."""
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(seconds=self.max_age_s)
        if token_expires_at is not None:
            expires = min(expires, datetime.fromtimestamp(token_expires_at, UTC))
        async with self._engine.begin() as conn:
            created = (
                await conn.execute(
                    _ISSUE,
                    {
                        "id": _hash(cookie),
                        "user": user_id,
                        "csrf": csrf,
                        "expires": expires,
                        "id_token": None if id_token is None else _seal(cookie, id_token),
                    },
                )
            ).scalar_one()
        return cookie, Session(user_id, int(created.timestamp()), csrf, int(expires.timestamp()))

    async def read(self, cookie: str | None, *, touch: bool = True) -> Session | None:
        """The open session behind ``cookie``, or None (unknown, ended, expired, idle too
        long, or its user revoked). Reading it counts as using it, unless ``touch`` is
        False."""
        if not cookie or len(cookie) > 100:
            return None
        key = _hash(cookie)
        every = min(TOUCH_EVERY_S, self.idle_timeout_s / 4)
        params = {"id": key, "touch": every, "idle": self.idle_timeout_s}
        async with self._engine.connect() as conn:
            row = (await conn.execute(_READ, params)).one_or_none()
        if row is None:
            return None
        if row.stale and touch:
            async with self._engine.begin() as conn:
                await conn.execute(_TOUCH, {"id": key})
        return Session(
            row.user_id,
            int(row.created_at.timestamp()),
            row.csrf,
            int(row.expires_at.timestamp()),
        )

    async def extend(self, cookie: str | None) -> Session | None:
        """ "Stay signed in": the open session behind ``cookie`` counts as used now (its idle
        time starts again; its end, and a sign-on token's, do not move)."""
        session = await self.read(cookie)
        if session is None or cookie is None:
            return None
        async with self._engine.begin() as conn:
            await conn.execute(_TOUCH, {"id": _hash(cookie)})
        return session

    async def lapsed(self, cookie: str | None) -> Session | None:
        """The session behind ``cookie`` whatever its state (ended, expired, idle), if the
        server issued it lately and its user is not revoked: whose form arrived too late.
        Never a signed-in session: only to keep a draft for its user."""
        if not cookie or len(cookie) > 100:
            return None
        params = {"id": _hash(cookie), "age": self.max_age_s + 86_400}
        async with self._engine.connect() as conn:
            row = (await conn.execute(_LAPSED, params)).one_or_none()
        return None if row is None else Session(row.user_id, 0, row.csrf)

    def timing(self, session: Session | None) -> dict[str, int | None]:
        """What the pages' timeout warning counts down from, in seconds from now: the idle
        timeout, the session's fixed end (its age, or its sign-on token's expiry) and how
        long before the end to warn."""
        ends_in = None
        if session is not None and session.expires_at is not None:
            ends_in = max(0, session.expires_at - int(time.time()))
        idle = self.idle_timeout_s
        return {"idle_s": idle, "ends_in_s": ends_in, "warn_s": min(WARN_BEFORE_S, idle // 2)}

    async def end(self, cookie: str | None) -> str | None:
        """Sign out: the session behind ``cookie`` ends now, for every copy of the cookie.
        Gives back the ID token it was started with through the identity provider (once:
        it is cleared), or None (a token sign-in, or a session already ended)."""
        if not cookie or len(cookie) > 100:
            return None
        async with self._engine.begin() as conn:
            sealed = (await conn.execute(_END, {"id": _hash(cookie)})).scalar_one_or_none()
        return None if sealed is None else _open(cookie, bytes(sealed))
