"""Retention reviews for compliance officers: the one application layer the CLI and API share.

The open reviews are read from the event store (the record of truth: a review is
open from its ``RetentionReviewOpened`` until a retain or dispose decision).
Decisions go to the review's workflow as updates; a retain reason is sealed
under the subject's key here, at the edge, so Temporal carries only ciphertext.
The update id is derived from the review and the decision, so a double
submission runs once. Refusals come back as the domain's own errors; a review
id nobody opened is a :class:`ReviewNotFoundError`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from temporalio.client import Client, WorkflowHandle

from app.history import TimelineEntry, request_history
from app.refusals import refusals
from domain import errors
from domain.commands import DisposeRecord, RetainRecord
from domain.inputs import control_character_problem
from domain.models import Actor
from domain.policy import DEFAULT_POLICY, HubPolicy
from domain.retention import ReviewStatus
from domain.vocabulary import DisposalReason, RecordType
from infra.crypto import Keyring
from infra.eventstore import EventStore
from infra.readmodels import followers
from workflows.retention import (
    RetentionReviewTaskWorkflow,
    RetentionReviewWorkflow,
    RetentionRunInput,
    RetentionRunResult,
    ReviewResult,
    ReviewView,
    review_workflow_id,
)

R = TypeVar("R")


MAX_REASON = 10_000
"""The longest retain reason accepted (the web form's limit too)."""


class ReviewNotFoundError(LookupError):
    def __init__(self) -> None:
        super().__init__("no retention review has this id")


class RetentionReview(BaseModel):
    """One review as the log records it: ids, a record type, dates and who decided."""

    model_config = ConfigDict(frozen=True)

    review_id: UUID
    request_id: UUID
    subject_id: UUID
    record_type: RecordType
    due_on: date
    opened_at: datetime
    decision_due_at: datetime
    escalated_at: datetime | None
    """When the undecided review was escalated to the compliance officers, if it was."""
    overdue: bool
    """Escalated, or past its decision's due time when read (escalation may lag)."""
    workflow_id: str
    status: ReviewStatus = ReviewStatus.OPEN
    decided_by: str | None = None
    decided_at: datetime | None = None
    next_review_on: date | None = None


class RetentionService:
    def __init__(
        self,
        client: Client | None,
        store: EventStore,
        keyring: Keyring,
        task_queue: str,
        policy: HubPolicy = DEFAULT_POLICY,
    ) -> None:
        self._client = client
        """None for a service that only reads the queue (no Temporal needed)."""
        self.store = store
        self.keyring = keyring
        self.task_queue = task_queue
        self.policy = policy

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("this retention service reads the queue only: give it a client")
        return self._client

    # -- running the reviews -------------------------------------------------------------

    async def run_now(
        self, today: date | None = None, *, workflow_id: str | None = None
    ) -> RetentionRunResult:
        """Run one review pass now (as the schedule would) and wait for what it opened."""
        handle = await self.client.start_workflow(
            RetentionReviewWorkflow.run,
            RetentionRunInput(policy=self.policy, today=today),
            id=workflow_id or f"retention-run-{uuid.uuid4()}",
            task_queue=self.task_queue,
        )
        return await handle.result()

    async def reviews(
        self, now: datetime | None = None, *, only_open: bool = False
    ) -> list[RetentionReview]:
        """Every review (or every open one), oldest due first, from the ``rm_reviews``
        read model once it has caught up with the log."""
        return await self._query("WHERE v.status = 'open'" if only_open else "", {}, now)

    async def open_reviews(self, now: datetime | None = None) -> list[RetentionReview]:
        """Every review not yet decided: the compliance officers' queue."""
        return await self.reviews(now, only_open=True)

    async def find(self, review_id: UUID) -> RetentionReview:
        """One review, open or decided."""
        found = await self._query("WHERE v.review_id = :review_id", {"review_id": review_id})
        if not found:
            raise ReviewNotFoundError()
        return found[0]

    async def _query(
        self, where: str, params: dict[str, object], now: datetime | None = None
    ) -> list[RetentionReview]:
        # Both read models first: rm_reviews for the reviews, rm_requests for each one's
        # subject (a request's opening always precedes its reviews in the log).
        for follower in followers(self.store):
            await follower.catch_up()
        now = now or datetime.now(UTC)
        # ``where`` is one of this class's fixed clauses, never input.
        sql = (
            "SELECT v.*, r.subject_id FROM rm_reviews v JOIN rm_requests r USING (request_id) "  # noqa: S608
            f"{where} ORDER BY v.due_on, v.opened_at, v.review_id"
        )
        async with self.store.engine.connect() as conn:
            rows = (await conn.execute(text(sql), params)).mappings().all()
        window = self.policy.retention.review_within
        return [_review(row, window, now) for row in rows]

    async def review(self, review_id: UUID) -> RetentionReview:
        """One review still waiting for its decision."""
        found = await self.find(review_id)
        if found.status is not ReviewStatus.OPEN:
            raise errors.InvalidState(f"this review is closed: the record was {found.status}")
        return found

    async def trail(self, review: RetentionReview) -> list[TimelineEntry]:
        """The record's decision trail: every event of its request, personal data withheld."""
        history = await request_history(self.store, self.keyring, review.request_id, reveal=False)
        return history.events

    async def view(self, review_id: UUID) -> ReviewView:
        return await self._handle(await self.review(review_id)).query(
            RetentionReviewTaskWorkflow.current
        )

    # -- the decisions -----------------------------------------------------------------------

    async def retain(
        self, actor: Actor, review_id: UUID, reason_text: str, next_review_on: date
    ) -> ReviewView:
        text = reason_text.strip()
        if not text:
            raise errors.ValidationFailed("reason", "give the reason the record is kept")
        if len(text) > MAX_REASON:
            raise errors.ValidationFailed("reason", f"must be at most {MAX_REASON} characters")
        problem = control_character_problem(text)
        if problem is not None:
            raise errors.ValidationFailed("reason", problem)
        review = await self.review(review_id)
        reason = await self.keyring.seal(review.subject_id, text)
        command = RetainRecord(reason=reason, next_review_on=next_review_on)
        return await refusals(
            self._handle(review).execute_update(
                RetentionReviewTaskWorkflow.retain,
                args=[actor, command],
                id=f"{review_id}:retain",
            ),
            "this review is no longer open",
        )

    async def dispose(self, actor: Actor, review_id: UUID, reason: DisposalReason) -> ReviewView:
        review = await self.review(review_id)
        return await refusals(
            self._handle(review).execute_update(
                RetentionReviewTaskWorkflow.dispose,
                args=[actor, DisposeRecord(reason=reason)],
                id=f"{review_id}:dispose",
            ),
            "this review is no longer open",
        )

    async def result(self, review_id: UUID, workflow_id: str) -> ReviewResult:
        """The finished review (for tests and operators that hold its workflow id)."""
        handle = self.client.get_workflow_handle_for(RetentionReviewTaskWorkflow.run, workflow_id)
        result = await handle.result()
        if result.review_id != review_id:
            raise errors.InvalidState("that workflow holds a different review")
        return result

    def _handle(
        self, review: RetentionReview
    ) -> WorkflowHandle[RetentionReviewTaskWorkflow, ReviewResult]:
        return self.client.get_workflow_handle_for(
            RetentionReviewTaskWorkflow.run, review.workflow_id
        )


def _review(row: RowMapping, window: timedelta, now: datetime) -> RetentionReview:
    """One ``rm_reviews`` row (with its request's subject) as the queue shows it."""
    record_type = RecordType(row["record_type"])
    status = ReviewStatus(row["status"])
    decision_due_at = row["opened_at"] + window
    escalated_at = row["escalated_at"]
    open_now = status is ReviewStatus.OPEN
    return RetentionReview(
        review_id=row["review_id"],
        request_id=row["request_id"],
        subject_id=row["subject_id"],
        record_type=record_type,
        due_on=row["due_on"],
        opened_at=row["opened_at"],
        decision_due_at=decision_due_at,
        escalated_at=escalated_at,
        overdue=open_now and (escalated_at is not None or now >= decision_due_at),
        workflow_id=review_workflow_id(row["request_id"], record_type, row["due_on"]),
        status=status,
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        next_review_on=row["next_review_on"],
    )
