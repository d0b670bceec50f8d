"""The values the event store takes and gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from domain.events import Event, EventMetadata

ANY_VERSION = -1
"""Pass as ``expected_version`` to append whatever the stream's version is."""

NEW_STREAM = 0
"""``expected_version`` for a stream that must not exist yet."""

MAX_BATCH = 65535
"""Events per append: positions reserve 16 bits for the place within a transaction."""

SYSTEM_PREFIX = "$"
"""Streams only the store writes (``$checkpoints``)."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append. The id comes from the caller (``workflow.uuid4()``) for idempotency."""

    event_id: UUID
    event: Event
    metadata: EventMetadata = field(default_factory=EventMetadata)


@dataclass(frozen=True, slots=True)
class AppendedBatch:
    stream_id: str
    positions: tuple[int, ...]
    versions: tuple[int, ...]
    deduplicated: bool
    """True when the whole batch was already stored (a retry): nothing new was written."""

    @property
    def version(self) -> int:
        """The stream's version after this batch: pass it as the next expected version."""
        return self.versions[-1]


class FindingKind(StrEnum):
    CHANGED = "changed"
    REMOVED = "removed"
    INSERTED = "inserted"
    REORDERED = "reordered"
    STREAM_MISSING = "stream_missing"
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    stream_id: str
    version: int | None
    detail: str

    def __str__(self) -> str:
        where = self.stream_id if self.version is None else f"{self.stream_id}@{self.version}"
        return f"{self.kind}: {where}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A digest over every stream head below ``horizon``, itself stored as an event."""

    position: int
    version: int
    horizon: int
    digest: str
    heads_changed: int


@dataclass(frozen=True, slots=True)
class VerifyReport:
    findings: tuple[Finding, ...]
    events_checked: int
    checkpoints_checked: int
    checkpoint_digest: str | None
    """The latest checkpoint's digest: keep it outside the database, pass it to a later verify."""
    anchored_checked: int = 0
    """Anchored checkpoints compared with the log's (0: the store has no anchor)."""

    @property
    def ok(self) -> bool:
        return not self.findings
