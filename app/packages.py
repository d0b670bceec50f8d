"""The recipient's side of secure transfer: open a delivered package, acknowledge it.

Opening is recorded in the request's history before anything is decrypted
(viewing personal data is itself a step of the record); the digest the
recipient acknowledges is computed from the bytes actually received, so a
copy altered in between is refused by the workflow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from app.requests import RequestService
from domain.commands import AcknowledgeReceipt, OpenPackage, RevokePackage
from domain.errors import InvalidState, NotPermitted
from domain.models import Actor
from domain.vocabulary import Role
from infra import transfer
from infra.directory import AgencyDirectory
from infra.packages import PackageRepository, StoredPackage
from infra.settings import Settings


class PackageNotFoundError(LookupError):
    def __init__(self, package_id: UUID) -> None:
        super().__init__(f"no package {package_id}")


@dataclass(frozen=True)
class OpenedPackage:
    package: StoredPackage
    sha256: str
    """Digest of the sealed bytes as received: what the acknowledgement quotes."""
    items: list[dict[str, Any]]


class PackageService:
    def __init__(
        self,
        requests: RequestService,
        packages: PackageRepository,
        agencies: AgencyDirectory,
        settings: Settings,
    ) -> None:
        self.requests = requests
        self.packages = packages
        self.agencies = agencies
        self._kek = settings.key_encryption_key()

    async def get(self, actor: Actor, package_id: UUID) -> StoredPackage:
        package = await self.packages.get(package_id)
        if package is None:
            raise PackageNotFoundError(package_id)
        if actor.agency not in (package.recipient_agency, package.sender_agency):
            raise PackageNotFoundError(package_id)  # not theirs: do not even confirm it exists
        return package

    async def inbox(self, actor: Actor) -> list[StoredPackage]:
        if actor.role is not Role.RECIPIENT or actor.agency is None:
            raise NotPermitted("only a recipient sees their agency's delivered packages")
        return await self.packages.list_for(recipient_agency=actor.agency)

    async def open(self, actor: Actor, package_id: UUID) -> OpenedPackage:
        package = await self.get(actor, package_id)
        # Recorded first: the workflow refuses a wrong role, agency or a revoked package.
        await self.requests.step(
            actor,
            package.request_id,
            package.sender_agency,
            "open_package",
            OpenPackage(package_id=package_id),
            task_id=f"open:{package_id}:{actor.user_id}:{datetime.now(UTC).isoformat()}",
        )
        fresh = await self.packages.get(package_id)
        if fresh is None or fresh.sealed is None:
            raise InvalidState("the package's content is no longer available")
        raw = transfer.unwrap_private_key(
            self._kek, await self.agencies.wrapped_private_key(package.recipient_agency)
        )
        body = transfer.open_sealed(
            raw,
            fresh.sealed,
            transfer.package_aad(str(package_id), package.sender_agency, package.recipient_agency),
        )
        await self.packages.mark_opened(package_id, actor.user_id, datetime.now(UTC))
        content = json.loads(body)
        return OpenedPackage(
            package=fresh, sha256=transfer.digest(fresh.sealed), items=content["items"]
        )

    async def acknowledge(self, actor: Actor, package_id: UUID, sha256: str) -> None:
        package = await self.get(actor, package_id)
        await self.requests.step(
            actor,
            package.request_id,
            package.sender_agency,
            "acknowledge_receipt",
            AcknowledgeReceipt(package_id=package_id, sha256=sha256),
            task_id=f"acknowledge:{package_id}",
        )
        await self.packages.mark_acknowledged(package_id, datetime.now(UTC))

    async def revoke(self, actor: Actor, package_id: UUID, reason: str) -> None:
        package = await self.get(actor, package_id)
        sealed_reason = await self.requests.seal(package.subject_id, reason)
        await self.requests.step(
            actor,
            package.request_id,
            package.sender_agency,
            "revoke_package",
            RevokePackage(package_id=package_id, reason=sealed_reason),
            task_id=f"revoke:{package_id}",
        )
