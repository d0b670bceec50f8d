"""The I/O steps of retention reviews: finding due records, and tidying up after disposal.

Thin and idempotent like :mod:`activities.activities`: which records are due is
decided by the pure ``domain.retention.records_due``; these methods only read
the store (and open a birth date when a rule counts from the 18th birthday),
or clear what a disposal leaves behind outside the event store.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from activities.models import (
    CONFIRM_DISPOSAL_DUE,
    FIND_DUE_RECORDS,
    FORGET_READ_MODELS,
    PURGE_PACKAGES,
    ConfirmDisposalDueInput,
    ConfirmDisposalDueResult,
    DueReview,
    FindDueRecordsInput,
    FindDueRecordsResult,
    ForgetReadModelsInput,
    ForgetReadModelsResult,
    PurgePackagesInput,
    PurgePackagesResult,
)
from domain.disposal import disposal_due
from domain.events import (
    DecisionRecorded,
    Erased,
    Event,
    PackageSent,
    RecordDisposed,
    RecordRetained,
    RequestClosed,
    RequestOpened,
    RequestWithdrawn,
    RetentionReviewOpened,
    SubjectErased,
)
from domain.policy import RetentionPolicy
from domain.retention import records_due
from domain.vocabulary import RetentionAnchor
from infra.crypto import Keyring, KeySession
from infra.eventstore import EventStore
from infra.packages import PackageRepository
from infra.readmodels import forget_request

log = structlog.get_logger(__name__)

_RETENTION_FACTS = (
    RequestOpened,
    RequestWithdrawn,
    RequestClosed,
    DecisionRecorded,
    PackageSent,
    RetentionReviewOpened,
    RecordRetained,
    RecordDisposed,
    SubjectErased,
)
"""The only events ``records_due`` looks at: the rest of the log is not kept in memory."""


class RetentionActivities:
    def __init__(
        self,
        store: EventStore,
        keyring: Keyring,
        engine: AsyncEngine,
        packages: PackageRepository,
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.engine = engine
        self.packages = packages

    @activity.defn(name=FIND_DUE_RECORDS)
    async def find_due_records(self, input: FindDueRecordsInput) -> FindDueRecordsResult:
        """Every record whose review date is ``today`` or earlier, oldest request first.

        Walks the log once, keeping only the few event types retention reads.
        """
        by_request: dict[UUID, list[Event]] = defaultdict(list)
        async for batch in self.store.read_all_batches():
            for recorded in batch:
                if isinstance(recorded.event, _RETENTION_FACTS):
                    by_request[recorded.event.request_id].append(recorded.event)
        session = self.keyring.session()
        due: list[DueReview] = []
        for events in by_request.values():
            born_on = await _born_on(session, events, input.policy)
            for record in records_due(events, input.today, input.policy, subject_born_on=born_on):
                due.append(
                    DueReview(
                        request_id=record.request_id,
                        subject_id=record.subject_id,
                        record_type=record.record_type,
                        due_on=record.review_on,
                    )
                )
                if len(due) >= input.limit:
                    break
            if len(due) >= input.limit:
                break
        log.info("retention_due_found", due=len(due), requests=len(by_request))
        return FindDueRecordsResult(due=due, requests_scanned=len(by_request))

    @activity.defn(name=FORGET_READ_MODELS)
    async def forget_read_models(self, input: ForgetReadModelsInput) -> ForgetReadModelsResult:
        """After disposal: drop the read models' stored states (ciphertext) of the request."""
        async with self.engine.begin() as conn:
            await forget_request(conn, input.request_id)
        log.info("read_models_forgotten", request_id=str(input.request_id))
        return ForgetReadModelsResult(forgotten=True)

    @activity.defn(name=PURGE_PACKAGES)
    async def purge_packages(self, input: PurgePackagesInput) -> PurgePackagesResult:
        """Disposal of a package record alone: delete the sealed bytes, keep the subject's key."""
        purged = await self.packages.purge_subject(input.subject_id, datetime.now(UTC))
        return PurgePackagesResult(purged=purged)

    @activity.defn(name=CONFIRM_DISPOSAL_DUE)
    async def confirm_disposal_due(
        self, input: ConfirmDisposalDueInput
    ) -> ConfirmDisposalDueResult:
        """Whether the log still makes the reviewed record due (``disposal_due``)."""
        due = input.due
        events: list[Event] = [
            r.event
            for r in await self.store.read_correlation(due.request_id)
            if isinstance(r.event, _RETENTION_FACTS)
        ]
        born_on = await _born_on(self.keyring.session(), events, input.policy)
        confirmed = disposal_due(
            events,
            input.review_id,
            due.record_type,
            due.due_on,
            input.policy,
            subject_born_on=born_on,
        )
        log.info("retention_disposal_checked", request_id=str(due.request_id), due=confirmed)
        return ConfirmDisposalDueResult(due=confirmed)

    def all(self) -> list[Any]:
        return [
            self.find_due_records,
            self.forget_read_models,
            self.purge_packages,
            self.confirm_disposal_due,
        ]


async def _born_on(
    session: KeySession, events: list[Event], policy: RetentionPolicy
) -> date | None:
    """The subject's date of birth, opened only when a rule counts from the 18th birthday
    and the request is closed (only closed requests make records). Used, never kept."""
    if not any(r.anchor is RetentionAnchor.SUBJECT_18TH_BIRTHDAY for r in policy.rules):
        return None
    if not any(isinstance(e, RequestClosed) for e in events):
        return None
    opened = next((e for e in events if isinstance(e, RequestOpened)), None)
    if opened is None:
        return None
    details = await session.open(opened.subject_details)
    if isinstance(details, Erased) or not isinstance(details, dict):
        return None
    value = details.get("date_of_birth")
    return date.fromisoformat(value) if isinstance(value, str) else None
