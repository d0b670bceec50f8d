"""Delivered packages (the recipient agency's inbox) and the notification outbox.

These are operational tables, not the record: the event store keeps what was
sent (its digest), opened, acknowledged and revoked. A package's sealed bytes
are deleted when it is revoked or its subject's record is disposed of, so
nothing personal outlives the decision to dispose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncEngine

metadata = sa.MetaData()

packages = sa.Table(
    "packages",
    metadata,
    sa.Column("package_id", sa.Uuid, primary_key=True),
    sa.Column("request_id", sa.Uuid, nullable=False, index=True),
    sa.Column("subject_id", sa.Uuid, nullable=False, index=True),
    sa.Column("sender_agency", sa.Text, nullable=False),
    sa.Column("recipient_agency", sa.Text, nullable=False, index=True),
    sa.Column("sealed", BYTEA, nullable=True),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("item_count", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True)),
    sa.Column("opened_by", sa.Text),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("purged_at", sa.DateTime(timezone=True)),
)

_events = sa.table(
    "events",
    sa.column("correlation_id", sa.Uuid),
    sa.column("event_type", sa.Text),
    sa.column("data", JSONB),
)
"""The event log, as far as listing packages reads it (whether the sending is recorded)."""

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("notification_id", sa.Uuid, primary_key=True),
    sa.Column("request_id", sa.Uuid, nullable=False, index=True),
    sa.Column("agency", sa.Text, nullable=True, index=True),
    sa.Column("audience_roles", ARRAY(sa.Text), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


class PackageStatus:
    DELIVERED = "delivered"
    OPENED = "opened"
    ACKNOWLEDGED = "acknowledged"
    REVOKED = "revoked"


@dataclass(frozen=True)
class StoredPackage:
    package_id: UUID
    request_id: UUID
    subject_id: UUID
    sender_agency: str
    recipient_agency: str
    sealed: bytes | None
    sha256: str
    size_bytes: int
    item_count: int
    status: str
    sent_at: datetime
    opened_at: datetime | None
    acknowledged_at: datetime | None
    revoked_at: datetime | None


class PackageRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def deliver(
        self,
        *,
        package_id: UUID,
        request_id: UUID,
        subject_id: UUID,
        sender_agency: str,
        recipient_agency: str,
        sealed: bytes,
        sha256: str,
        item_count: int,
        sent_at: datetime,
    ) -> StoredPackage:
        """Store a sealed package; a retry with the same id returns the first delivery."""
        stmt = (
            insert(packages)
            .values(
                package_id=package_id,
                request_id=request_id,
                subject_id=subject_id,
                sender_agency=sender_agency,
                recipient_agency=recipient_agency,
                sealed=sealed,
                sha256=sha256,
                size_bytes=len(sealed),
                item_count=item_count,
                status=PackageStatus.DELIVERED,
                sent_at=sent_at,
            )
            .on_conflict_do_nothing(index_elements=["package_id"])
        )
        async with self._engine.begin() as conn:
            await conn.execute(stmt)
        found = await self.get(package_id)
        assert found is not None
        return found

    async def get(self, package_id: UUID) -> StoredPackage | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(sa.select(packages).where(packages.c.package_id == package_id))
            ).one_or_none()
        return None if row is None else _package(row)

    async def list_for(
        self, *, recipient_agency: str | None = None, sender_agency: str | None = None
    ) -> list[StoredPackage]:
        """Packages whose sending the decision's workflow has recorded (``package.sent`` in
        the log), newest first; summaries only (``sealed`` is None: listing never reads
        the sealed bytes, so an inbox costs the same however much the hub has sent)."""
        recorded = sa.exists().where(
            _events.c.correlation_id == packages.c.request_id,
            _events.c.event_type == "package.sent",
            _events.c.data["package_id"].astext == sa.cast(packages.c.package_id, sa.Text),
        )
        summary = [c for c in packages.c if c.name != "sealed"]
        query = sa.select(*summary).where(recorded).order_by(packages.c.sent_at.desc())
        if recipient_agency is not None:
            query = query.where(packages.c.recipient_agency == recipient_agency)
        if sender_agency is not None:
            query = query.where(packages.c.sender_agency == sender_agency)
        async with self._engine.connect() as conn:
            return [_package(row) for row in await conn.execute(query)]

    async def list_for_request(self, request_id: UUID) -> list[StoredPackage]:
        query = (
            sa.select(packages)
            .where(packages.c.request_id == request_id)
            .order_by(packages.c.sent_at)
        )
        async with self._engine.connect() as conn:
            return [_package(row) for row in await conn.execute(query)]

    async def mark_opened(self, package_id: UUID, user_id: str, at: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.update(packages)
                .where(packages.c.package_id == package_id)
                .where(packages.c.status == PackageStatus.DELIVERED)
                .values(status=PackageStatus.OPENED, opened_at=at, opened_by=user_id)
            )

    async def mark_acknowledged(self, package_id: UUID, at: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.update(packages)
                .where(packages.c.package_id == package_id)
                .where(packages.c.status.in_([PackageStatus.DELIVERED, PackageStatus.OPENED]))
                .values(status=PackageStatus.ACKNOWLEDGED, acknowledged_at=at)
            )

    async def revoke(self, package_id: UUID, at: datetime) -> bool:
        """Recall a package not yet opened: its sealed bytes are deleted. Idempotent."""
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    sa.select(packages.c.status)
                    .where(packages.c.package_id == package_id)
                    .with_for_update()
                )
            ).one_or_none()
            if row is None:
                return False
            if row.status == PackageStatus.REVOKED:
                return True
            if row.status != PackageStatus.DELIVERED:
                return False
            await conn.execute(
                sa.update(packages)
                .where(packages.c.package_id == package_id)
                .values(status=PackageStatus.REVOKED, revoked_at=at, sealed=None)
            )
            return True

    async def purge_subject(self, subject_id: UUID, at: datetime) -> int:
        """Delete the sealed bytes of every package about a subject (retention disposal)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sa.update(packages)
                .where(packages.c.subject_id == subject_id)
                .where(packages.c.sealed.is_not(None))
                .values(sealed=None, purged_at=at)
            )
            return int(result.rowcount)


def _package(row: sa.Row[tuple[object, ...]]) -> StoredPackage:
    m = row._mapping
    return StoredPackage(
        package_id=m["package_id"],
        request_id=m["request_id"],
        subject_id=m["subject_id"],
        sender_agency=m["sender_agency"],
        recipient_agency=m["recipient_agency"],
        sealed=m.get("sealed"),
        sha256=m["sha256"],
        size_bytes=m["size_bytes"],
        item_count=m["item_count"],
        status=m["status"],
        sent_at=m["sent_at"],
        opened_at=m["opened_at"],
        acknowledged_at=m["acknowledged_at"],
        revoked_at=m["revoked_at"],
    )


@dataclass(frozen=True)
class Notification:
    notification_id: UUID
    request_id: UUID
    agency: str | None
    audience_roles: list[str]
    kind: str
    due_at: datetime | None
    created_at: datetime


class Outbox:
    """Notifications for people: escalations, decisions, packages to open."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def put(self, note: Notification) -> bool:
        """Add a notification; a retry with the same id adds nothing. True if new."""
        stmt = (
            insert(notifications)
            .values(
                notification_id=note.notification_id,
                request_id=note.request_id,
                agency=note.agency,
                audience_roles=note.audience_roles,
                kind=note.kind,
                due_at=note.due_at,
                created_at=note.created_at,
            )
            .on_conflict_do_nothing(index_elements=["notification_id"])
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def for_request(self, request_id: UUID) -> list[Notification]:
        query = (
            sa.select(notifications)
            .where(notifications.c.request_id == request_id)
            .order_by(notifications.c.created_at)
        )
        async with self._engine.connect() as conn:
            return [Notification(**row._mapping) for row in await conn.execute(query)]
