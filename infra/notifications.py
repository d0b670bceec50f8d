"""Notifications for each person: their list, what they have not seen, their e-mail
address and the e-mail deliveries (migration ``0009_notification_delivery``).

A notification (``infra.packages.Outbox``) is for roles, and for one agency or the
whole hub. It is for a user when the user holds one of its roles and either is a hub
role (no agency: coordinators, compliance officers) or belongs to its agency, or it
names no agency. The same rule picks whom to e-mail: active users with an address set
before the notification was made.

Deliveries are claimed with ``FOR UPDATE SKIP LOCKED``, so several workers sending at
once never e-mail the same row twice; the key (notification, user) makes a repeat
insert do nothing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.errors import ValidationFailed
from infra.packages import Notification

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 254

_FOR_USER = """
    n.audience_roles @> ARRAY[u.role]
    AND (u.agency_code IS NULL OR n.agency IS NULL OR n.agency = u.agency_code)
"""


def valid_email(value: str) -> str:
    """A trimmed address, or ValidationFailed naming the field."""
    address = value.strip()
    if len(address) > MAX_EMAIL or not EMAIL.fullmatch(address):
        raise ValidationFailed("email", "enter an e-mail address like name@agency.gov.uk")
    return address


@dataclass(frozen=True)
class Delivery:
    """An e-mail to send: which notification, to whom (the address is theirs, never logged)."""

    notification: Notification
    user_id: uuid.UUID
    email: str
    attempts: int


class NotificationInbox:
    """Each person's notifications, read mark and e-mail address."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def for_user(self, user_id: uuid.UUID, limit: int = 100) -> list[Notification]:
        sql = (
            "SELECT n.* FROM notifications n JOIN users u ON u.id = :user "  # noqa: S608
            f"WHERE {_FOR_USER} ORDER BY n.created_at DESC, n.notification_id LIMIT :limit"
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(text(sql), {"user": user_id, "limit": limit})).mappings()
            return [Notification(**dict(r)) for r in rows]

    async def unseen(self, user_id: uuid.UUID) -> int:
        """How many of the user's notifications came since they last opened the list."""
        sql = (
            "SELECT count(*) FROM notifications n JOIN users u ON u.id = :user "  # noqa: S608
            "LEFT JOIN notification_seen s ON s.user_id = u.id "
            f"WHERE {_FOR_USER} AND (s.seen_at IS NULL OR n.created_at > s.seen_at)"
        )
        async with self._engine.connect() as conn:
            return int(await conn.scalar(text(sql), {"user": user_id}) or 0)

    async def mark_seen(self, user_id: uuid.UUID, at: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO notification_seen (user_id, seen_at) VALUES (:user, :at) "
                    "ON CONFLICT (user_id) DO UPDATE SET seen_at = "
                    "greatest(notification_seen.seen_at, excluded.seen_at)"
                ),
                {"user": user_id, "at": at},
            )

    async def email(self, user_id: uuid.UUID) -> str | None:
        async with self._engine.connect() as conn:
            value = await conn.scalar(
                text("SELECT email FROM user_emails WHERE user_id = :user"), {"user": user_id}
            )
        return None if value is None else str(value)

    async def set_email(self, user_id: uuid.UUID, email: str | None, at: datetime) -> None:
        """E-mail the user at ``email`` from now on (None: stop e-mailing them)."""
        async with self._engine.begin() as conn:
            if email is None:
                await conn.execute(
                    text("DELETE FROM user_emails WHERE user_id = :user"), {"user": user_id}
                )
                return
            await conn.execute(
                text(
                    "INSERT INTO user_emails (user_id, email, since) VALUES (:user, :email, :at) "
                    "ON CONFLICT (user_id) DO UPDATE SET email = excluded.email"
                ),
                {"user": user_id, "email": valid_email(email), "at": at},
            )


PLAN_HORIZON = timedelta(days=2)
"""Notifications older than this when the e-mailer first meets them (after an outage of
the mail server or the workers) stay in the app only."""


class DeliveryQueue:
    """E-mail deliveries: planned for each notification of an e-mailed kind and each person
    it is for, claimed, then recorded as sent or failed."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def plan(
        self, kinds: frozenset[str], now: datetime, horizon: timedelta = PLAN_HORIZON
    ) -> int:
        """Add a pending delivery for every (notification, person) not planned yet, of the
        notifications made in the last ``horizon`` (the outbox only grows: the scan stays
        that window's, and an escalation older than it is stale by e-mail); returns how
        many were added."""
        sql = (
            "INSERT INTO notification_emails (notification_id, user_id, status, "  # noqa: S608
            "next_attempt_at) SELECT n.notification_id, u.id, 'pending', :now "
            "FROM notifications n JOIN users u ON u.revoked_at IS NULL AND "
            f"{_FOR_USER} JOIN user_emails e ON e.user_id = u.id AND n.created_at >= e.since "
            "WHERE n.kind = ANY(:kinds) AND n.created_at >= :oldest AND NOT EXISTS "
            "(SELECT 1 FROM notification_emails d "
            "WHERE d.notification_id = n.notification_id AND d.user_id = u.id) "
            "ON CONFLICT DO NOTHING"
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(
                text(sql), {"kinds": sorted(kinds), "now": now, "oldest": now - horizon}
            )
        return int(result.rowcount or 0)

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[Delivery]:
        """Take up to ``limit`` pending deliveries due by ``now``: each is leased (its next
        attempt moved to ``now + lease``) in a short transaction of its own, so no
        transaction stays open while mail is sent (an open one would hold back the event
        readers' horizon) and a sender that dies mid-batch leaves them to be retried."""
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    text(
                        "WITH due AS (SELECT notification_id, user_id FROM notification_emails "
                        "WHERE status = 'pending' AND next_attempt_at <= :now "
                        "ORDER BY next_attempt_at LIMIT :limit FOR UPDATE SKIP LOCKED) "
                        "UPDATE notification_emails d SET next_attempt_at = :until FROM due "
                        "WHERE (d.notification_id, d.user_id) = (due.notification_id, due.user_id) "
                        "RETURNING d.notification_id, d.user_id, d.attempts"
                    ),
                    {"now": now, "until": now + lease, "limit": limit},
                )
            ).all()
            if not rows:
                return []
            found = (
                await conn.execute(
                    text(
                        "SELECT n.*, e.user_id AS recipient, e.email FROM notifications n "
                        "JOIN user_emails e ON e.user_id = ANY(:users) "
                        "WHERE n.notification_id = ANY(:ids)"
                    ),
                    {
                        "users": list({r.user_id for r in rows}),
                        "ids": list({r.notification_id for r in rows}),
                    },
                )
            ).mappings()
            by_key = {(r["notification_id"], r["recipient"]): r for r in found}
        out = []
        for row in rows:
            r = by_key.get((row.notification_id, row.user_id))
            if r is None:  # the address was removed since: nothing to send to
                continue
            fields = {k: r[k] for k in Notification.__dataclass_fields__}
            out.append(Delivery(Notification(**fields), row.user_id, r["email"], row.attempts))
        return out

    async def sent(self, d: Delivery, at: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE notification_emails SET status = 'sent', sent_at = :at, "
                    "attempts = attempts + 1, last_error = NULL "
                    "WHERE notification_id = :n AND user_id = :u AND status = 'pending'"
                ),
                {"at": at, "n": d.notification.notification_id, "u": d.user_id},
            )

    async def failed(self, d: Delivery, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: try again at ``retry_at``, or give up (None)."""
        async with self._engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE notification_emails SET attempts = attempts + 1, "
                    "last_error = :error, status = CASE WHEN CAST(:retry AS timestamptz) "
                    "IS NULL THEN 'failed' ELSE 'pending' END, "
                    "next_attempt_at = coalesce(CAST(:retry AS timestamptz), next_attempt_at) "
                    "WHERE notification_id = :n AND user_id = :u AND status = 'pending'"
                ),
                {
                    "error": error[:80],
                    "retry": retry_at,
                    "n": d.notification.notification_id,
                    "u": d.user_id,
                },
            )

    async def status(self, notification_id: uuid.UUID) -> list[tuple[uuid.UUID, str, int]]:
        """(user, status, attempts) of each delivery of one notification."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT user_id, status, attempts FROM notification_emails "
                    "WHERE notification_id = :n ORDER BY user_id"
                ),
                {"n": notification_id},
            )
            return [(r.user_id, r.status, int(r.attempts)) for r in rows]


RETRY_BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
)
"""Waits after the 1st, 2nd... failed attempt; after the last, the delivery is failed."""
