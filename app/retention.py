"""Retention reviews for compliance officers: the one application layer the CLI and API share.

The open reviews are read from the event store (the record of truth: a review is
open from its ``RetentionReviewOpened`` until a retain or dispose decision).
Decisions go to the review's workflow as updates; a retain reason is sealed
under the subject's key here, at the edge, so Temporal carries only ciphertext.
The update id is derived from the review and the decision, so a double
submission runs once. Refusals come back as the domain's own errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import date, datetime
from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from app.requests import domain_error
from domain import errors
from domain.commands import DisposeRecord, RetainRecord
from domain.events import (
    RecordDisposed,
    RecordRetained,
    RequestOpened,
    RetentionReviewOpened,
    RetentionReviewOverdue,
)
from domain.models import Actor
from domain.policy import DEFAULT_POLICY, HubPolicy
from domain.vocabulary import DisposalReason, RecordType
from infra.crypto import Keyring
from infra.eventstore import EventStore
from workflows.retention import (
    SCHEDULE_ID,
    RetentionReviewTaskWorkflow,
    RetentionReviewWorkflow,
    RetentionRunInput,
    RetentionRunResult,
    ReviewResult,
    ReviewView,
    review_workflow_id,
)

R = TypeVar("R")


class OpenReview(BaseModel):
    """A review waiting for a compliance officer: ids, a record type and dates only."""

    model_config = ConfigDict(frozen=True)

    review_id: UUID
    request_id: UUID
    subject_id: UUID
    record_type: RecordType
    due_on: date
    opened_at: datetime
    decision_due_at: datetime
    overdue: bool
    workflow_id: str


class RetentionService:
    def __init__(
        self,
        client: Client,
        store: EventStore,
        keyring: Keyring,
        task_queue: str,
        policy: HubPolicy = DEFAULT_POLICY,
    ) -> None:
        self.client = client
        self.store = store
        self.keyring = keyring
        self.task_queue = task_queue
        self.policy = policy

    # -- running the reviews -------------------------------------------------------------

    async def run_now(self, today: date | None = None) -> RetentionRunResult:
        """Run one review pass now (as the schedule would) and wait for what it opened."""
        handle = await self.client.start_workflow(
            RetentionReviewWorkflow.run,
            RetentionRunInput(policy=self.policy, today=today),
            id=f"retention-run-{uuid.uuid4()}",
            task_queue=self.task_queue,
        )
        return await handle.result()

    async def trigger_schedule(self) -> None:
        """Ask the schedule itself for a run now (it starts on the worker's task queue)."""
        await self.client.get_schedule_handle(SCHEDULE_ID).trigger()

    # -- the queue -------------------------------------------------------------------------

    async def open_reviews(self) -> list[OpenReview]:
        """Every review not yet decided, oldest due first (one walk over the log)."""
        subjects: dict[UUID, UUID] = {}
        opened: dict[UUID, RetentionReviewOpened] = {}
        overdue: set[UUID] = set()
        async for batch in self.store.read_all_batches():
            for recorded in batch:
                match recorded.event:
                    case RequestOpened() as e:
                        subjects[e.request_id] = e.subject_id
                    case RetentionReviewOpened() as e:
                        opened[e.review_id] = e
                    case RetentionReviewOverdue() as e:
                        overdue.add(e.review_id)
                    case RecordRetained() | RecordDisposed() as e:
                        opened.pop(e.review_id, None)
        window = self.policy.retention.review_within
        reviews = [
            OpenReview(
                review_id=e.review_id,
                request_id=e.request_id,
                subject_id=subjects[e.request_id],
                record_type=e.record_type,
                due_on=e.due_on,
                opened_at=e.opened_at,
                decision_due_at=e.opened_at + window,
                overdue=e.review_id in overdue,
                workflow_id=review_workflow_id(e.request_id, e.record_type, e.due_on),
            )
            for e in opened.values()
            if e.request_id in subjects
        ]
        return sorted(reviews, key=lambda r: (r.due_on, r.opened_at))

    async def review(self, review_id: UUID) -> OpenReview:
        for found in await self.open_reviews():
            if found.review_id == review_id:
                return found
        raise errors.InvalidState("no open retention review has this id")

    async def view(self, review_id: UUID) -> ReviewView:
        return await self._handle(await self.review(review_id)).query(
            RetentionReviewTaskWorkflow.current
        )

    # -- the decisions -----------------------------------------------------------------------

    async def retain(
        self, actor: Actor, review_id: UUID, reason_text: str, next_review_on: date
    ) -> ReviewView:
        review = await self.review(review_id)
        reason = await self.keyring.seal(review.subject_id, reason_text)
        command = RetainRecord(reason=reason, next_review_on=next_review_on)
        return await _refusals(
            self._handle(review).execute_update(
                RetentionReviewTaskWorkflow.retain,
                args=[actor, command],
                id=f"{review_id}:retain",
            )
        )

    async def dispose(self, actor: Actor, review_id: UUID, reason: DisposalReason) -> ReviewView:
        review = await self.review(review_id)
        return await _refusals(
            self._handle(review).execute_update(
                RetentionReviewTaskWorkflow.dispose,
                args=[actor, DisposeRecord(reason=reason)],
                id=f"{review_id}:dispose",
            )
        )

    async def result(self, review_id: UUID, workflow_id: str) -> ReviewResult:
        """The finished review (for tests and operators that hold its workflow id)."""
        handle = self.client.get_workflow_handle_for(RetentionReviewTaskWorkflow.run, workflow_id)
        result = await handle.result()
        if result.review_id != review_id:
            raise errors.InvalidState("that workflow holds a different review")
        return result

    def _handle(
        self, review: OpenReview
    ) -> WorkflowHandle[RetentionReviewTaskWorkflow, ReviewResult]:
        return self.client.get_workflow_handle_for(
            RetentionReviewTaskWorkflow.run, review.workflow_id
        )


async def _refusals(call: Awaitable[R]) -> R:
    """Await a review update; a domain refusal inside comes back as the domain error."""
    try:
        return await call
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise errors.InvalidState("this review is no longer open") from None
        raise
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type is not None:
            raise domain_error(cause) from None
        raise
