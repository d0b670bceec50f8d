"""The activities' names, inputs and results: all that workflows may know of them.

One input model and one result model per activity, so fields can be added
without breaking running workflows. No infrastructure is imported here, so
workflow code can use these models inside the sandbox.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.events import Event, EventMetadata, registry
from domain.events.values import InformationItem
from domain.policy import RetentionPolicy
from domain.vocabulary import RecordType

APPEND_EVENTS = "append_events"
SEND_PACKAGE = "send_package"
REVOKE_PACKAGE = "revoke_package"
NOTIFY = "notify"
ERASE_SUBJECT = "erase_subject"
FIND_DUE_RECORDS = "find_due_records"
FORGET_READ_MODELS = "forget_read_models"
PURGE_PACKAGES = "purge_packages"
CONFIRM_DISPOSAL_DUE = "confirm_disposal_due"
TAKE_CHECKPOINT = "take_checkpoint"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EventEnvelope(_Model):
    """An event on the wire between a workflow and the append activity.

    The type name and JSON data travel instead of the Python class, so an
    activity worker of another version still decodes what it is given.
    """

    event_id: UUID
    event_type: str
    schema_version: int
    data: dict[str, Any]
    metadata: EventMetadata

    @classmethod
    def wrap(cls, event_id: UUID, event: Event, metadata: EventMetadata) -> EventEnvelope:
        return cls(
            event_id=event_id,
            event_type=event.event_type,
            schema_version=event.schema_version,
            data=event.model_dump(mode="json"),
            metadata=metadata,
        )

    def unwrap(self) -> Event:
        return registry.decode(self.event_type, self.schema_version, self.data)


class AppendInput(_Model):
    stream_id: str
    expected_version: int
    events: list[EventEnvelope]


class AppendResult(_Model):
    version: int
    """The stream's version after the append."""
    positions: list[int]


class SendPackageInput(_Model):
    package_id: UUID
    request_id: UUID
    subject_id: UUID
    sender_agency: str
    recipient_agency: str
    items: list[InformationItem]


class SendPackageResult(_Model):
    sha256: str
    size_bytes: int


class RevokePackageInput(_Model):
    package_id: UUID


class RevokePackageResult(_Model):
    revoked: bool
    """False when the package had already been opened (it can no longer be recalled)."""


class NotifyInput(_Model):
    """A message for people, put in the outbox the web pages and API show."""

    notification_id: UUID
    request_id: UUID
    agency: str | None
    audience_roles: list[str]
    kind: str
    """A stable code such as ``deadline_missed`` or ``decision_recorded``; never free text."""
    due_at: datetime | None = None
    created_at: datetime


class NotifyResult(_Model):
    created: bool


class EraseSubjectInput(_Model):
    subject_id: UUID
    request_id: UUID


class EraseSubjectResult(_Model):
    erased: bool


class FindDueRecordsInput(_Model):
    today: date
    policy: RetentionPolicy
    limit: int = 500
    """At most this many reviews are opened per run; the next run picks up the rest."""


class DueReview(_Model):
    """A record due for review, as a workflow may know it: ids, a type and a date.

    The retention anchor is left out on purpose: it may be derived from the
    subject's date of birth, and Temporal never holds personal data.
    """

    request_id: UUID
    subject_id: UUID
    record_type: RecordType
    due_on: date


class ConfirmDisposalDueInput(_Model):
    due: DueReview
    review_id: UUID
    policy: RetentionPolicy


class ConfirmDisposalDueResult(_Model):
    due: bool


class FindDueRecordsResult(_Model):
    due: list[DueReview]
    requests_scanned: int


class ForgetReadModelsInput(_Model):
    request_id: UUID


class ForgetReadModelsResult(_Model):
    forgotten: bool


class PurgePackagesInput(_Model):
    subject_id: UUID


class PurgePackagesResult(_Model):
    purged: int


class TakeCheckpointInput(_Model):
    """Nothing to say yet: a checkpoint covers every stream head that moved since the last."""


class TakeCheckpointResult(_Model):
    """Positions and a digest only: a checkpoint holds hashes, never event data."""

    taken: bool
    """False when another process checkpointed at the same moment: its checkpoint stands."""
    position: int | None = None
    horizon: int | None = None
    digest: str | None = None
    heads_changed: int = 0
