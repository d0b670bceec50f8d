"""What the event store raises. Messages name streams, versions and ids only, never data."""

from __future__ import annotations

from uuid import UUID

from domain.events import UnknownEventType as _DomainUnknownEventType


class EventStoreError(Exception):
    """Base of every event store error."""


class ConcurrencyError(EventStoreError):
    """The stream moved on since the caller read it: nothing was written."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, expected {expected}; nothing written"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class EventIdConflict(EventStoreError):  # noqa: N818 - the name the brief and callers use
    """An event id already stored with other content (or in another batch): never accepted."""

    def __init__(self, event_id: UUID) -> None:
        super().__init__(f"event id {event_id} is already stored with different content")
        self.event_id = event_id


class UnknownEventType(EventStoreError, _DomainUnknownEventType):  # noqa: N818 - the name the brief and callers use
    """A stored event whose type no registered model knows (also a domain UnknownEventType)."""


class TamperedEvent(EventStoreError):  # noqa: N818 - the name the brief and callers use
    """A read found an event whose bytes do not match its hash chain; run verify() for all."""

    def __init__(self, stream_id: str, version: int, reason: str) -> None:
        super().__init__(f"event {stream_id!r} version {version}: {reason}")
        self.stream_id = stream_id
        self.version = version
