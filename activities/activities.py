"""The I/O steps of a sharing request: thin, idempotent, wired in ``worker/``.

Every method is idempotent by a key the workflow chose (event ids, package
id, notification id), so Temporal may retry any of them freely. A failure
that retrying cannot mend is a non-retryable ``ApplicationError`` whose type
names it; anything else is a bug and is retried until someone fixes it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.models import (
    APPEND_EVENTS,
    ERASE_SUBJECT,
    NOTIFY,
    REVOKE_PACKAGE,
    SEND_PACKAGE,
    AppendInput,
    AppendResult,
    EraseSubjectInput,
    EraseSubjectResult,
    NotifyInput,
    NotifyResult,
    RevokePackageInput,
    RevokePackageResult,
    SendPackageInput,
    SendPackageResult,
)
from domain.events import Erased, Sealed, UnknownEventType
from infra import transfer
from infra.crypto import Keyring, KeySession
from infra.directory import AgencyDirectory
from infra.eventstore import ConcurrencyError, EventIdConflict, EventStore, NewEvent
from infra.packages import Notification, Outbox, PackageRepository

log = structlog.get_logger(__name__)


def _permanent(exc: Exception) -> ApplicationError:
    return ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True)


class MashflowActivities:
    def __init__(
        self,
        store: EventStore,
        keyring: Keyring,
        agencies: AgencyDirectory,
        packages: PackageRepository,
        outbox: Outbox,
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.agencies = agencies
        self.packages = packages
        self.outbox = outbox

    @activity.defn(name=APPEND_EVENTS)
    async def append_events(self, input: AppendInput) -> AppendResult:
        try:
            events = [
                NewEvent(event_id=e.event_id, event=e.unwrap(), metadata=e.metadata)
                for e in input.events
            ]
            result = await self.store.append(input.stream_id, input.expected_version, events)
        except (ConcurrencyError, EventIdConflict, UnknownEventType) as exc:
            raise _permanent(exc) from None
        log.info(
            "events_appended",
            stream_id=input.stream_id,
            types=[e.event_type for e in input.events],
            deduplicated=result.deduplicated,
        )
        return AppendResult(version=result.version, positions=list(result.positions))

    @activity.defn(name=SEND_PACKAGE)
    async def send_package(self, input: SendPackageInput) -> SendPackageResult:
        """Open the chosen items under the subject's key, seal them for the recipient, deliver."""
        existing = await self.packages.get(input.package_id)
        if existing is None:
            recipient = await self.agencies.get(input.recipient_agency)
            session = self.keyring.session()
            items = [await _item(session, item.model_dump()) for item in input.items]
            body = json.dumps({"request_id": str(input.request_id), "items": items}).encode()
            sealed = transfer.seal(
                recipient.public_key,
                body,
                transfer.package_aad(
                    str(input.package_id), input.sender_agency, input.recipient_agency
                ),
            )
            existing = await self.packages.deliver(
                package_id=input.package_id,
                request_id=input.request_id,
                subject_id=input.subject_id,
                sender_agency=input.sender_agency,
                recipient_agency=input.recipient_agency,
                sealed=sealed,
                sha256=transfer.digest(sealed),
                item_count=len(items),
                sent_at=datetime.now(UTC),
            )
        log.info(
            "package_delivered",
            package_id=str(input.package_id),
            recipient_agency=input.recipient_agency,
        )
        return SendPackageResult(sha256=existing.sha256, size_bytes=existing.size_bytes)

    @activity.defn(name=REVOKE_PACKAGE)
    async def revoke_package(self, input: RevokePackageInput) -> RevokePackageResult:
        revoked = await self.packages.revoke(input.package_id, datetime.now(UTC))
        return RevokePackageResult(revoked=revoked)

    @activity.defn(name=NOTIFY)
    async def notify(self, input: NotifyInput) -> NotifyResult:
        created = await self.outbox.put(
            Notification(
                notification_id=input.notification_id,
                request_id=input.request_id,
                agency=input.agency,
                audience_roles=input.audience_roles,
                kind=input.kind,
                due_at=input.due_at,
                created_at=input.created_at,
            )
        )
        if created:
            log.info("notification_created", kind=input.kind, request_id=str(input.request_id))
        return NotifyResult(created=created)

    @activity.defn(name=ERASE_SUBJECT)
    async def erase_subject(self, input: EraseSubjectInput) -> EraseSubjectResult:
        """Crypto-shred the subject and delete every delivered package's sealed bytes."""
        await self.store.erase_subject(input.subject_id)
        await self.packages.purge_subject(input.subject_id, datetime.now(UTC))
        return EraseSubjectResult(erased=True)

    def all(self) -> list[Any]:
        return [
            self.append_events,
            self.send_package,
            self.revoke_package,
            self.notify,
            self.erase_subject,
        ]


async def _item(session: KeySession, item: dict[str, Any]) -> dict[str, Any]:
    """One information item with its sealed fields opened, for sealing to the recipient."""
    opened: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, dict) and value.get("sealed") in (1, 2):
            plain = await session.open(Sealed.model_validate(value))
            if isinstance(plain, Erased):
                raise ApplicationError(
                    "the subject's record has been disposed of; nothing can be sent",
                    type="SubjectErased",
                    non_retryable=True,
                )
            opened[key] = plain
        else:
            opened[key] = str(value) if not isinstance(value, bool | int | str) else value
    return opened
