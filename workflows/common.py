"""What both workflows share: appending to a stream, and translating domain refusals.

Workflow code only: deterministic, no I/O but activities, ids from
``workflow.uuid4()``, time from ``workflow.now()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.models import (
        APPEND_EVENTS,
        NOTIFY,
        AppendInput,
        AppendResult,
        EventEnvelope,
        NotifyInput,
        NotifyResult,
    )
    from domain.errors import DomainError, InconsistentDecision, ValidationFailed
    from domain.events import Event, EventMetadata
    from domain.models import Actor

T = TypeVar("T")

SignalSignature = dict[str, Any] | None
"""A signal's last parameter: the hub's signature of it. The worker's guard
(``infra.guard``) checks and removes it before the handler runs, so a handler
always sees None; it is declared so the signature's payload decodes."""

# Failures that retrying cannot mend: a bug in the workflow's bookkeeping, not the weather.
PERMANENT_STORE_ERRORS = ["ConcurrencyError", "EventIdConflict", "UnknownEventType"]

STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=PERMANENT_STORE_ERRORS,
)
STEP_TIMEOUT = timedelta(seconds=30)

LOCAL_WRITES = "local-activities-for-store-writes"
"""Patch: appending events and putting a notification in the outbox ran as local
activities (one marker in the history instead of three events each). Superseded by
``QUEUED_WRITES``; runs recorded with it replay as they ran."""

QUEUED_WRITES = "store-writes-through-the-task-queue"
"""Patch: store writes are ordinary activities again. A local activity's arguments are
not in the history: when a worker dies after the write but before its workflow task
completes, the task runs again at a later ``workflow.now()``, and the same event id
arrives with other content (times), which the store rightly refuses. An ordinary
activity's arguments are recorded when it is scheduled, so a retry sends the same
bytes and the store's idempotent append answers with the first positions."""


async def store_write(activity: str, arg: object, result_type: type[T]) -> T:
    """Run a short, idempotent store write as an activity whose arguments the history
    keeps (``QUEUED_WRITES``); runs recorded under ``LOCAL_WRITES`` alone replay their
    local activities."""
    result: T
    if not workflow.patched(QUEUED_WRITES) and workflow.patched(LOCAL_WRITES):
        result = await workflow.execute_local_activity(
            activity,
            arg,
            result_type=result_type,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
    else:
        result = await workflow.execute_activity(
            activity,
            arg,
            result_type=result_type,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
    return result


def request_stream(request_id: UUID) -> str:
    return f"request:{request_id}"


def agency_stream(request_id: UUID, agency: str) -> str:
    return f"request:{request_id}:agency:{agency}"


def request_workflow_id(request_id: UUID) -> str:
    """Random ids only: workflow ids are stored in clear by Temporal."""
    return f"request-{request_id}"


def agency_workflow_id(request_id: UUID, agency: str) -> str:
    return f"request-{request_id}-agency-{agency}"


def application_error(exc: DomainError) -> ApplicationError:
    """A domain refusal as the caller sees it: its class name as the type, nothing personal."""
    details: list[object] = []
    if isinstance(exc, ValidationFailed):
        details = [exc.field]
    elif isinstance(exc, InconsistentDecision):  # each problem's own code, for the caller
        details = [[p.code, p.message] for p in exc.problems]
    return ApplicationError(exc.message, *details, type=type(exc).__name__, non_retryable=True)


def decided(fn: Callable[[], T]) -> T:
    """Run a pure domain decision; a refusal becomes an ``ApplicationError``."""
    try:
        return fn()
    except DomainError as exc:
        raise application_error(exc) from None


class StreamWriter:
    """Appends one step's events to one stream in one activity call, idempotently.

    Event ids come from ``workflow.uuid4()``, so a retried activity, or a
    replayed workflow, appends nothing twice; the expected version is tracked
    here because this workflow is the stream's only writer.
    """

    def __init__(self, stream_id: str, correlation_id: UUID, version: int = 0) -> None:
        self.stream_id = stream_id
        self.correlation_id = correlation_id
        self.version = version
        self.position: int | None = None
        """The log position of the last event appended here (None before the first)."""

    async def append(
        self, events: Sequence[Event], actor: Actor | None, causation_id: UUID | None = None
    ) -> AppendResult | None:
        if not events:
            return None
        metadata = EventMetadata(
            actor_id=actor.user_id if actor else "system",
            actor_role=str(actor.role) if actor else "system",
            actor_agency=actor.agency if actor else None,
            workflow_id=workflow.info().workflow_id,
            causation_id=causation_id,
            correlation_id=self.correlation_id,
        )
        envelopes = [EventEnvelope.wrap(workflow.uuid4(), e, metadata) for e in events]
        return await self.append_envelopes(envelopes)

    async def append_envelopes(self, envelopes: Sequence[EventEnvelope]) -> AppendResult:
        result = await store_write(
            APPEND_EVENTS,
            AppendInput(
                stream_id=self.stream_id, expected_version=self.version, events=list(envelopes)
            ),
            AppendResult,
        )
        self.version = result.version
        if result.positions:
            self.position = result.positions[-1]
        return result


async def notify(
    request_id: UUID, agency: str | None, roles: Sequence[str], kind: str, **extra: object
) -> None:
    """Put a notification in the outbox (idempotent by an id made here)."""
    await store_write(
        NOTIFY,
        NotifyInput(
            notification_id=workflow.uuid4(),
            request_id=request_id,
            agency=agency,
            audience_roles=list(roles),
            kind=kind,
            created_at=workflow.now(),
            **extra,
        ),
        NotifyResult,
    )
