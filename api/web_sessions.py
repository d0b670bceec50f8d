"""Server-side web sessions: the cookie is a random id, the session is a row.

Signing out ends the row, so a copied cookie stops working at once; a session
unused for ``idle_timeout_s`` ends; one started with a sign-on token ends when the
token expires; and a revoked user's sessions end at once (every read joins the
user's row). The table keeps only the id's SHA-256, so a row read from the
database (or a backup) is not a cookie.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.sessions import Session

TOUCH_EVERY_S = 60
"""A session's last use is written at most this often (not on every page), and at least
four times per idle timeout."""

_READ = text(
    "SELECT s.user_id, s.csrf, s.created_at, s.last_seen_at < now() - make_interval(secs => :touch)"
    " AS stale FROM web_sessions s JOIN users u ON u.id = s.user_id"
    " WHERE s.id_hash = :id AND s.ended_at IS NULL AND s.expires_at > now()"
    " AND s.last_seen_at > now() - make_interval(secs => :idle) AND u.revoked_at IS NULL"
)
_TOUCH = text("UPDATE web_sessions SET last_seen_at = now() WHERE id_hash = :id")
_ISSUE = text(
    "INSERT INTO web_sessions (id_hash, user_id, csrf, expires_at)"
    " VALUES (:id, :user, :csrf, :expires) RETURNING created_at"
)
_END = text("UPDATE web_sessions SET ended_at = now() WHERE id_hash = :id AND ended_at IS NULL")


def _hash(cookie: str) -> bytes:
    return hashlib.sha256(cookie.encode()).digest()


class SessionStore:
    def __init__(self, engine: AsyncEngine, *, max_age_s: int, idle_timeout_s: int) -> None:
        self._engine = engine
        self.max_age_s = max_age_s
        self.idle_timeout_s = idle_timeout_s

    async def issue(
        self, user_id: uuid.UUID, *, token_expires_at: float | None = None
    ) -> tuple[str, Session]:
        """A new session for ``user_id``; with a sign-on token's expiry, it ends then."""
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(seconds=self.max_age_s)
        if token_expires_at is not None:
            expires = min(expires, datetime.fromtimestamp(token_expires_at, UTC))
        async with self._engine.begin() as conn:
            created = (
                await conn.execute(
                    _ISSUE,
                    {"id": _hash(cookie), "user": user_id, "csrf": csrf, "expires": expires},
                )
            ).scalar_one()
        return cookie, Session(user_id, int(created.timestamp()), csrf)

    async def read(self, cookie: str | None) -> Session | None:
        """The open session behind ``cookie``, or None (unknown, ended, expired, idle too
        long, or its user revoked)."""
        if not cookie or len(cookie) > 100:
            return None
        key = _hash(cookie)
        touch = min(TOUCH_EVERY_S, self.idle_timeout_s / 4)
        params = {"id": key, "touch": touch, "idle": self.idle_timeout_s}
        async with self._engine.connect() as conn:
            row = (await conn.execute(_READ, params)).one_or_none()
        if row is None:
            return None
        if row.stale:
            async with self._engine.begin() as conn:
                await conn.execute(_TOUCH, {"id": key})
        return Session(row.user_id, int(row.created_at.timestamp()), row.csrf)

    async def end(self, cookie: str | None) -> None:
        """Sign out: the session behind ``cookie`` ends now, for every copy of the cookie."""
        if not cookie or len(cookie) > 100:
            return
        async with self._engine.begin() as conn:
            await conn.execute(_END, {"id": _hash(cookie)})
