"""The immutable, tamper-evident event store on PostgreSQL.

- :class:`EventStore`: append (optimistic concurrency, idempotent by event
  id, atomic batches), read a stream, a request (correlation id) or the whole
  log (streaming, live), checkpoint, verify, erase a data subject.
- ``subscriptions.CheckpointFollower``: the exactly-once catch-up every read model
  follows the log with.

Positions, hashing and checkpoints are explained in ``store``, ``rows`` and
``integrity``; the measurements behind them in docs/performance.md.
"""

from infra.eventstore.errors import (
    ConcurrencyError,
    EventIdConflict,
    EventStoreError,
    TamperedEvent,
    UnknownEventType,
)
from infra.eventstore.integrity import CHECKPOINTS, CheckpointRecorded
from infra.eventstore.model import (
    ANY_VERSION,
    NEW_STREAM,
    AppendedBatch,
    Checkpoint,
    Finding,
    FindingKind,
    NewEvent,
    VerifyReport,
)
from infra.eventstore.store import EventStore

__all__ = [
    "ANY_VERSION",
    "CHECKPOINTS",
    "NEW_STREAM",
    "AppendedBatch",
    "Checkpoint",
    "CheckpointRecorded",
    "ConcurrencyError",
    "EventIdConflict",
    "EventStore",
    "EventStoreError",
    "Finding",
    "FindingKind",
    "NewEvent",
    "TamperedEvent",
    "UnknownEventType",
    "VerifyReport",
]
