"""Bodies for the recipient's side of secure transfer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints

from domain.inputs import NO_CONTROLS
from infra.packages import StoredPackage


class PackageSummary(BaseModel):
    package_id: UUID
    request_id: UUID
    sender_agency: str
    recipient_agency: str
    sha256: str
    item_count: int
    status: str
    sent_at: datetime
    opened_at: datetime | None
    acknowledged_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, p: StoredPackage) -> PackageSummary:
        return cls(
            package_id=p.package_id,
            request_id=p.request_id,
            sender_agency=p.sender_agency,
            recipient_agency=p.recipient_agency,
            sha256=p.sha256,
            item_count=p.item_count,
            status=p.status,
            sent_at=p.sent_at,
            opened_at=p.opened_at,
            acknowledged_at=p.acknowledged_at,
            revoked_at=p.revoked_at,
        )


class PackageItem(BaseModel):
    """One item as received: fact kept apart from opinion, dated, historical flagged."""

    item_id: str
    description: str
    content: str
    kind: str
    dated: date | None
    source: str
    historical: bool
    protect_identity: bool = False
    """Names a referrer or third party who must not be identified: do not disclose them."""

    @classmethod
    def of(cls, raw: dict[str, Any]) -> PackageItem:
        dated = raw.get("dated")
        return cls(
            item_id=str(raw.get("item_id", "")),
            description=str(raw.get("description", "")),
            content=str(raw.get("content", "")),
            kind=str(raw.get("kind", "")),
            dated=date.fromisoformat(dated) if isinstance(dated, str) and dated else None,
            source=str(raw.get("source", "")),
            historical=bool(raw.get("historical", False)),
            protect_identity=bool(raw.get("protect_identity", False)),
        )


class OpenedPackageResponse(BaseModel):
    package: PackageSummary
    sha256: str
    """Digest of the sealed bytes as received: quote it to acknowledge."""
    items: list[PackageItem]


class AcknowledgeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class RevokeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), NO_CONTROLS
    ]


class PackageDone(BaseModel):
    package_id: UUID
    status: str
