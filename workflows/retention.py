"""Retention reviews as durable workflows.

``RetentionReviewWorkflow`` is what the Temporal Schedule
``mashflow-retention-review`` starts at each interval: it asks an activity for
the records now due (the pure ``records_due`` decides) and opens one
``RetentionReviewTaskWorkflow`` per due record, as an abandoned child so the run
ends while the reviews wait for people. A child's id is made from the request
id, the record type and the due date: two runs never open the same review
twice, and the id holds no personal data.

``RetentionReviewTaskWorkflow`` is one review of one record:

Updates (compliance officer only; each validator runs the same pure
``domain.retention`` function as the handler, so a wrong role or a closed
review is refused before anything is written):

    retain(actor, RetainRecord)    the record is kept until ``next_review_on``;
                                   a later schedule run opens the next review
                                   when that day comes (nothing sleeps for years)
    dispose(actor, DisposeRecord)  the decision and the erasure are appended, then
                                   the subject is crypto-shredded, delivered
                                   packages purged and the read models' states
                                   dropped (a package record alone: its packages only)

Queries: ``current`` (the review's state and when its decision is due).

Timers: the decision is due ``policy.retention.review_within`` after the review
opens; when that passes undecided, ``RetentionReviewOverdue`` is appended,
compliance officers are notified, and the review keeps waiting (once escalated,
with no further timer: the overdue review stays on the officers' queue).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.models import (
        CONFIRM_DISPOSAL_DUE,
        ERASE_SUBJECT,
        FIND_DUE_RECORDS,
        FORGET_READ_MODELS,
        PURGE_PACKAGES,
        AppendResult,
        ConfirmDisposalDueInput,
        ConfirmDisposalDueResult,
        DueReview,
        EraseSubjectInput,
        EraseSubjectResult,
        EventEnvelope,
        FindDueRecordsInput,
        FindDueRecordsResult,
        ForgetReadModelsInput,
        ForgetReadModelsResult,
        PurgePackagesInput,
        PurgePackagesResult,
    )
    from domain.commands import DisposeRecord, RetainRecord
    from domain.errors import InvalidState
    from domain.events import Event, RetentionReviewOpened, SubjectErased
    from domain.models import Actor
    from domain.policy import HubPolicy
    from domain.retention import (
        DueRecord,
        ReviewState,
        ReviewStatus,
        decide_dispose,
        decide_open_review,
        decide_retain,
        evolve_review,
        review_due_at,
        review_overdue,
        start_review,
    )
    from domain.vocabulary import RecordType, RetentionAnchor, Role
    from workflows.common import (
        STEP_TIMEOUT,
        STORE_RETRY,
        StreamWriter,
        application_error,
        decided,
        notify,
    )

ANY_VERSION = -1
"""The store's "append wherever the stream is" (``infra.eventstore.ANY_VERSION``): several
reviews of one request (its decision record and its package) share one stream."""

SCHEDULE_ID = "mashflow-retention-review"

DISPOSAL_CONFIRMS_DUE = "disposal-confirms-record-due"
"""Patch: before disposing, the log is asked whether the record is really due."""


def retention_stream(request_id: UUID) -> str:
    return f"retention:{request_id}"


def review_workflow_id(request_id: UUID, record_type: RecordType, due_on: date) -> str:
    """Random ids, an enum and a date only: workflow ids are stored in clear."""
    return f"retention-{request_id}-{record_type}-{due_on.isoformat()}"


class ReviewStreamWriter(StreamWriter):
    """A ``StreamWriter`` that appends at any version: idempotent still, by event id."""

    async def append_envelopes(self, envelopes: Sequence[EventEnvelope]) -> AppendResult:
        self.version = ANY_VERSION
        return await super().append_envelopes(envelopes)


# --- one schedule run ---------------------------------------------------------------------


class RetentionRunInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    policy: HubPolicy = HubPolicy()
    today: date | None = None
    """For operators and tests: review as of this day. Unset: the workflow's own clock."""


class RetentionRunResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    opened: list[str]
    """Workflow ids of the reviews this run opened."""
    already_open: int
    requests_scanned: int


@workflow.defn
class RetentionReviewWorkflow:
    """One run of the retention schedule: open a review per due record. No updates."""

    @workflow.run
    async def run(self, input: RetentionRunInput) -> RetentionRunResult:
        today = input.today or workflow.now().date()
        found: FindDueRecordsResult = await workflow.execute_activity(
            FIND_DUE_RECORDS,
            FindDueRecordsInput(today=today, policy=input.policy.retention),
            result_type=FindDueRecordsResult,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=STORE_RETRY,
        )
        opened: list[str] = []
        already = 0
        for due in found.due:
            workflow_id = review_workflow_id(due.request_id, due.record_type, due.due_on)
            try:
                await workflow.start_child_workflow(
                    RetentionReviewTaskWorkflow.run,
                    ReviewTaskInput(due=due, review_id=workflow.uuid4(), policy=input.policy),
                    id=workflow_id,
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                )
            except WorkflowAlreadyStartedError:
                already += 1  # still open from an earlier run: one review per record
                continue
            opened.append(workflow_id)
        return RetentionRunResult(
            opened=opened, already_open=already, requests_scanned=found.requests_scanned
        )


# --- one review ---------------------------------------------------------------------------


class ReviewTaskInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    due: DueReview
    review_id: UUID
    policy: HubPolicy


class ReviewView(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: ReviewState | None
    """None for the moment between start and the review's opening being recorded."""
    decision_due_at: datetime | None
    escalations: int


class ReviewResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    review_id: UUID
    status: ReviewStatus
    next_review_on: date | None
    escalations: int


def _opening(due: DueReview, review_id: UUID, now: datetime) -> list[Event]:
    """``decide_open_review`` reads the request, the record type and the review date only;
    the anchor (perhaps derived from a date of birth) never enters Temporal, so the review
    date stands in for the anchor fields it does not read."""
    record = DueRecord(
        request_id=due.request_id,
        subject_id=due.subject_id,
        record_type=due.record_type,
        anchor=RetentionAnchor.CASE_CLOSED,
        anchor_date=due.due_on,
        anchor_estimated=False,
        retention_ends_on=due.due_on,
        review_on=due.due_on,
    )
    return decide_open_review(record, review_id, now)


@workflow.defn
class RetentionReviewTaskWorkflow:
    @workflow.init
    def __init__(self, input: ReviewTaskInput) -> None:
        self.due = input.due
        self.policy = input.policy
        self.review_id = input.review_id
        self.writer = ReviewStreamWriter(
            retention_stream(input.due.request_id), input.due.request_id
        )
        self.lock = asyncio.Lock()
        self.state: ReviewState | None = None
        self.escalations = 0

    @workflow.run
    async def run(self, input: ReviewTaskInput) -> ReviewResult:
        async with self.lock:
            events = decided(lambda: _opening(self.due, self.review_id, workflow.now()))
            await self.writer.append(events, None)
            opened = events[0]
            assert isinstance(opened, RetentionReviewOpened)
            self.state = start_review(opened, self.due.subject_id)
        due_at = review_due_at(self.state, self.policy.retention)
        await notify(
            self.due.request_id,
            None,
            [Role.COMPLIANCE_OFFICER],
            "retention_review_opened",
            due_at=due_at,
        )
        try:
            await workflow.wait_condition(
                lambda: not self._open(), timeout=max(due_at - workflow.now(), timedelta(0))
            )
        except TimeoutError:
            await self._escalate()
        # Escalated once, the review waits for its decision with no further timer: a timer
        # repeating for as long as nobody decides would only repeat the same message.
        await workflow.wait_condition(lambda: not self._open())
        await workflow.wait_condition(workflow.all_handlers_finished)
        assert self.state is not None
        return ReviewResult(
            review_id=self.review_id,
            status=self.state.status,
            next_review_on=self.state.next_review_on,
            escalations=self.escalations,
        )

    def _open(self) -> bool:
        return self.state is not None and self.state.status is ReviewStatus.OPEN

    async def _escalate(self) -> None:
        """The decision is overdue: record it, tell the compliance officers, keep waiting."""
        async with self.lock:
            if not self._open():
                return  # decided while the timer fired
            state = self._review()
            events = review_overdue(state, workflow.now(), self.policy.retention)
            if not events:
                return
            await self._apply(events, None)
            self.escalations += 1
        await notify(
            self.due.request_id,
            None,
            [Role.COMPLIANCE_OFFICER],
            "retention_review_overdue",
            due_at=review_due_at(state, self.policy.retention),
        )

    def _review(self) -> ReviewState:
        if self.state is None:
            raise application_error(InvalidState("this review has not opened yet"))
        return self.state

    async def _apply(self, events: list[Event], actor: Actor | None) -> None:
        await self.writer.append(events, actor)
        state = self._review()
        for event in events:
            state = evolve_review(state, event)
        self.state = state

    # -- queries and the human steps ----------------------------------------------------------

    @workflow.query
    def current(self) -> ReviewView:
        return ReviewView(
            state=self.state,
            decision_due_at=(
                review_due_at(self.state, self.policy.retention) if self.state else None
            ),
            escalations=self.escalations,
        )

    @workflow.update
    async def retain(self, actor: Actor, command: RetainRecord) -> ReviewView:
        async with self.lock:
            events = decided(
                lambda: decide_retain(
                    self._review(), command, actor, workflow.now(), self.policy.retention
                )
            )
            await self._apply(events, actor)
        return self.current()

    @retain.validator
    def _retain(self, actor: Actor, command: RetainRecord) -> None:
        decided(
            lambda: decide_retain(
                self._review(), command, actor, workflow.now(), self.policy.retention
            )
        )

    @workflow.update
    async def dispose(self, actor: Actor, command: DisposeRecord) -> ReviewView:
        async with self.lock:
            state = self._review()
            events = decided(lambda: decide_dispose(state, command, actor, workflow.now()))
            if workflow.patched(DISPOSAL_CONFIRMS_DUE):
                await self._confirm_due()
            # The decision is on the record before anything is destroyed; every step after
            # it is idempotent and retried until done.
            await self.writer.append(events, actor)
            if any(isinstance(e, SubjectErased) for e in events):
                await workflow.execute_activity(
                    ERASE_SUBJECT,
                    EraseSubjectInput(subject_id=state.subject_id, request_id=state.request_id),
                    result_type=EraseSubjectResult,
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=STORE_RETRY,
                )
                await workflow.execute_activity(
                    FORGET_READ_MODELS,
                    ForgetReadModelsInput(request_id=state.request_id),
                    result_type=ForgetReadModelsResult,
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=STORE_RETRY,
                )
            else:
                await workflow.execute_activity(
                    PURGE_PACKAGES,
                    PurgePackagesInput(subject_id=state.subject_id),
                    result_type=PurgePackagesResult,
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=STORE_RETRY,
                )
            for event in events:
                state = evolve_review(state, event)
            self.state = state
        return self.current()

    async def _confirm_due(self) -> None:
        """Keys are destroyed only for a record the log makes due (``disposal_due``): a
        review opened by mistake, or for a request reopened since, refuses, writing nothing."""
        confirmed: ConfirmDisposalDueResult = await workflow.execute_activity(
            CONFIRM_DISPOSAL_DUE,
            ConfirmDisposalDueInput(
                due=self.due, review_id=self.review_id, policy=self.policy.retention
            ),
            result_type=ConfirmDisposalDueResult,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        if not confirmed.due:
            raise application_error(
                InvalidState(
                    "this record is not due for disposal: the log does not make it due on "
                    f"{self.due.due_on.isoformat()}"
                )
            )

    @dispose.validator
    def _dispose(self, actor: Actor, command: DisposeRecord) -> None:
        decided(lambda: decide_dispose(self._review(), command, actor, workflow.now()))
