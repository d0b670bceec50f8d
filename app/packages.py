"""Secure transfer after sending: the recipient opens and acknowledges, the sender may revoke.

Opening is recorded in the request's history before anything is decrypted
(viewing personal data is itself a step of the record); the digest the
recipient acknowledges is computed from the bytes actually received, so a
copy altered in between is refused by the workflow.

Who may touch a package is checked here first, before anything is sealed or
sent to a workflow (whose validators check it again): a role that never acts
on packages, or one of an agency that is not the package's, is refused with
:class:`~domain.errors.NotPermitted`; an unknown id is
:class:`PackageNotFoundError`. Package ids are random, so refusing one of
another agency confirms nothing about anyone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from app.access import record_refusal
from app.requests import RequestService
from domain.commands import AcknowledgeReceipt, OpenPackage, RevokePackage
from domain.errors import InvalidState, NotPermitted
from domain.events.access import ViewKind
from domain.models import Actor
from domain.permissions import Action, allows
from infra import transfer
from infra.directory import AgencyDirectory, NotFoundError
from infra.eventstore import EventStore
from infra.packages import PackageRepository, PackageStatus, StoredPackage
from infra.settings import Settings


class PackageNotFoundError(NotFoundError):
    """No such package: a 404 wherever the edges translate NotFoundError."""

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
        store: EventStore,
    ) -> None:
        self.requests = requests
        self.packages = packages
        self.agencies = agencies
        self.store = store
        self._kek = settings.key_encryption_key()
        self._previous = settings.previous_key_encryption_keys()

    async def get(self, actor: Actor, package_id: UUID) -> StoredPackage:
        """A package its recipient agency's recipients or its sender's workers and advisors
        may see (its summary: ids, agencies, digest, dates; never its content)."""
        if allows(actor, Action.RECEIVE_PACKAGE):
            return await self._of(actor, package_id, recipient=True)
        if allows(actor, Action.SEE_SENT_PACKAGES):
            return await self._of(actor, package_id, recipient=False)
        raise NotPermitted("packages are for recipients and for the sending agency's people")

    async def _of(self, actor: Actor, package_id: UUID, *, recipient: bool) -> StoredPackage:
        package = await self.packages.get(package_id)
        if package is None:
            raise PackageNotFoundError(package_id)
        agency = package.recipient_agency if recipient else package.sender_agency
        if actor.agency != agency:
            side = "delivered to" if recipient else "sent by"
            raise NotPermitted(f"this package was {side} another agency")
        return package

    async def inbox(self, actor: Actor) -> list[StoredPackage]:
        if not allows(actor, Action.RECEIVE_PACKAGE) or actor.agency is None:
            raise NotPermitted("only a recipient sees their agency's delivered packages")
        return await self.packages.list_for(recipient_agency=actor.agency)

    async def sent(self, actor: Actor) -> list[StoredPackage]:
        """Packages the actor's agency has sent, newest first (its workers and advisors)."""
        if not allows(actor, Action.SEE_SENT_PACKAGES) or actor.agency is None:
            raise NotPermitted("only a worker or advisor sees the packages their agency sent")
        return await self.packages.list_for(sender_agency=actor.agency)

    async def open(self, actor: Actor, package_id: UUID) -> OpenedPackage:
        """Open a package for its recipient agency's recipient. Anyone else is refused and
        the attempt is recorded in the request's access log (as secure-messaging products
        log every access attempt), before the refusal is raised."""
        try:
            if not allows(actor, Action.RECEIVE_PACKAGE):
                raise NotPermitted("only a recipient of the receiving agency opens a package")
            package = await self._of(actor, package_id, recipient=True)
        except NotPermitted:
            known = await self.packages.get(package_id)
            if known is not None:
                await record_refusal(
                    self.store, known.request_id, actor, ViewKind.PACKAGE, package_id=package_id
                )
            raise
        _not_revoked(package)
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
            self._kek,
            await self.agencies.wrapped_private_key(package.recipient_agency),
            package.recipient_agency,
            self._previous,
        )
        body = transfer.open_sealed(
            raw,
            fresh.sealed,
            transfer.package_aad(str(package_id), package.sender_agency, package.recipient_agency),
        )
        opened_at = datetime.now(UTC)
        await self.packages.mark_opened(package_id, actor.user_id, opened_at)
        shown = fresh  # the first opening: the answer says it is opened, and when
        if fresh.opened_at is None:
            shown = replace(fresh, status=PackageStatus.OPENED, opened_at=opened_at)
        content = json.loads(body)
        return OpenedPackage(
            package=shown, sha256=transfer.digest(fresh.sealed), items=content["items"]
        )

    async def acknowledge(self, actor: Actor, package_id: UUID, sha256: str) -> None:
        if not allows(actor, Action.RECEIVE_PACKAGE):
            raise NotPermitted("only a recipient of the receiving agency acknowledges a package")
        package = await self._of(actor, package_id, recipient=True)
        _not_revoked(package)
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
        if not allows(actor, Action.REVOKE_PACKAGE):
            raise NotPermitted("only a worker or advisor of the sending agency revokes a package")
        package = await self._of(actor, package_id, recipient=False)
        if package.opened_at is not None:
            raise InvalidState(OPENED)
        sealed_reason = await self.requests.seal(package.subject_id, reason)
        await self.requests.step(
            actor,
            package.request_id,
            package.sender_agency,
            "revoke_package",
            RevokePackage(package_id=package_id, reason=sealed_reason),
            task_id=f"revoke:{package_id}",
        )


REVOKED = "the sending agency has revoked access to this package"
OPENED = "the package has already been opened by the recipient agency and cannot be recalled"


def _not_revoked(package: StoredPackage) -> None:
    """Refused in the decision's own words (``domain.transfer_handlers``) as the package
    record shows it: a decision that has ended with the revocation has no workflow left to
    say so, and its refusal read 'this request or decision is no longer open'."""
    if package.revoked_at is not None:
        raise InvalidState(REVOKED)
