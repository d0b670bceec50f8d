"""The event catalogue. Importing this package registers every event type."""

from domain.events.base import (
    ERASED,
    Erased,
    Event,
    EventMetadata,
    EventRegistry,
    RecordedEvent,
    Sealed,
    UnknownEventType,
    event,
    registry,
)

__all__ = [
    "ERASED",
    "Erased",
    "Event",
    "EventMetadata",
    "EventRegistry",
    "RecordedEvent",
    "Sealed",
    "UnknownEventType",
    "event",
    "registry",
]
