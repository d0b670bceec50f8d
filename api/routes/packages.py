"""Secure transfer, the recipient's side: inbox, open, acknowledge; the sender may revoke.

Opening is recorded by the workflow before anything is decrypted. A role
that never acts on packages, or a package of another agency, is a 403
(package ids are random, so the refusal reveals nothing about anyone); an
unknown id is a 404.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.deps import CurrentPrincipal, Packages
from api.routes.requests_write import WRITE_RESPONSES
from api.schemas.packages import (
    AcknowledgeBody,
    OpenedPackageResponse,
    PackageDone,
    PackageItem,
    PackageSummary,
    RevokeBody,
)
from app.identity import actor_of

router = APIRouter(prefix="/api", tags=["packages"])


@router.get("/packages", response_model=list[PackageSummary], responses=WRITE_RESPONSES)
async def inbox(principal: CurrentPrincipal, packages: Packages) -> list[PackageSummary]:
    """Packages delivered to the recipient's agency, newest first."""
    return [PackageSummary.of(p) for p in await packages.inbox(actor_of(principal))]


@router.get(
    "/packages/{package_id}", response_model=OpenedPackageResponse, responses=WRITE_RESPONSES
)
async def open_package(
    package_id: UUID, principal: CurrentPrincipal, packages: Packages
) -> OpenedPackageResponse:
    """Open a delivered package (recipient); the opening is recorded first."""
    opened = await packages.open(actor_of(principal), package_id)
    return OpenedPackageResponse(
        package=PackageSummary.of(opened.package),
        sha256=opened.sha256,
        items=[PackageItem.of(i) for i in opened.items],
    )


@router.post(
    "/packages/{package_id}/acknowledge", response_model=PackageDone, responses=WRITE_RESPONSES
)
async def acknowledge(
    package_id: UUID, body: AcknowledgeBody, principal: CurrentPrincipal, packages: Packages
) -> PackageDone:
    """Acknowledge receipt (recipient), quoting the digest of what arrived."""
    await packages.acknowledge(actor_of(principal), package_id, body.sha256)
    return PackageDone(package_id=package_id, status="acknowledged")


@router.post("/packages/{package_id}/revoke", response_model=PackageDone, responses=WRITE_RESPONSES)
async def revoke(
    package_id: UUID, body: RevokeBody, principal: CurrentPrincipal, packages: Packages
) -> PackageDone:
    """Revoke a sent package (worker or advisor of the sending agency), with a reason."""
    await packages.revoke(actor_of(principal), package_id, body.reason)
    return PackageDone(package_id=package_id, status="revoked")
