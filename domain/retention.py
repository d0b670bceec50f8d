"""Retention reviews: which records are due, and the retain / dispose decisions.

Pure: state, commands, ``now`` and the hub's policy in; events out. The
record type follows from how the request ended (shared, not shared,
withdrawn; a delivered package is a record of its own), and its retention
period runs from the anchor its rule names. A long-kept record is reviewed
at its rule's interval before the period ends; a review either retains the
record (with a reason and the next review date) or disposes of it, which
destroys the subject's key: the decision trail stays, the personal data goes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from domain.commands import DisposeRecord, RetainRecord
from domain.errors import InvalidState, ValidationFailed
from domain.events.base import Event
from domain.events.catalogue import (
    DecisionRecorded,
    PackageSent,
    RecordDisposed,
    RecordRetained,
    RequestClosed,
    RequestOpened,
    RequestWithdrawn,
    RetentionReviewOpened,
    RetentionReviewOverdue,
    SubjectErased,
)
from domain.events.values import UserId, UtcDateTime
from domain.frozen import Frozen
from domain.models import Actor
from domain.permissions import Action, require
from domain.policy import (
    RetentionPolicy,
    RetentionRule,
    add_months,
    next_review_on,
    retention_anchor_date,
    retention_due,
)
from domain.vocabulary import Outcome, RecordType, RetentionAnchor, Role


class ReviewStatus(StrEnum):
    OPEN = "open"
    RETAINED = "retained"
    DISPOSED = "disposed"


class ReviewState(Frozen):
    """One retention review of one record of one request."""

    request_id: UUID
    subject_id: UUID
    review_id: UUID
    record_type: RecordType
    due_on: date
    opened_at: UtcDateTime
    status: ReviewStatus = ReviewStatus.OPEN
    next_review_on: date | None = None
    decided_by: UserId | None = None
    decided_at: UtcDateTime | None = None


def start_review(opened: RetentionReviewOpened, subject_id: UUID) -> ReviewState:
    return ReviewState(
        request_id=opened.request_id,
        subject_id=subject_id,
        review_id=opened.review_id,
        record_type=opened.record_type,
        due_on=opened.due_on,
        opened_at=opened.opened_at,
    )


def evolve_review(state: ReviewState, event: Event) -> ReviewState:
    """Apply one event; events of other reviews leave the state as it is."""
    match event:
        case RecordRetained() if event.review_id == state.review_id:
            return state.model_copy(
                update={
                    "status": ReviewStatus.RETAINED,
                    "next_review_on": event.next_review_on,
                    "decided_by": event.reviewed_by,
                    "decided_at": event.reviewed_at,
                }
            )
        case RecordDisposed() if event.review_id == state.review_id:
            return state.model_copy(
                update={
                    "status": ReviewStatus.DISPOSED,
                    "decided_by": event.disposed_by,
                    "decided_at": event.disposed_at,
                }
            )
    return state


# --- which records are due ------------------------------------------------------------


class DueRecord(Frozen):
    """A record whose review date has come."""

    request_id: UUID
    subject_id: UUID
    record_type: RecordType
    anchor: RetentionAnchor
    anchor_date: date
    anchor_estimated: bool
    """The anchor needed the subject's date of birth, which was not given: the case's
    closing date stood in, so the record comes up for review early, never late."""
    retention_ends_on: date
    review_on: date


class _Facts(Frozen):
    request_id: UUID
    subject_id: UUID
    closed_on: date | None = None
    decided_on: date | None = None
    withdrawn: bool = False
    allegation: bool = False
    shared: bool = False
    decided: bool = False
    package_sent_on: date | None = None
    erased: bool = False
    open_reviews: frozenset[RecordType] = frozenset()
    retained_until: dict[RecordType, date] = {}
    disposed: frozenset[RecordType] = frozenset()


def _facts(events: Iterable[Event]) -> _Facts | None:
    opened: RequestOpened | None = None
    values: dict[str, object] = {}
    open_reviews: dict[UUID, RecordType] = {}
    retained: dict[RecordType, date] = {}
    disposed: set[RecordType] = set()
    for e in events:
        match e:
            case RequestOpened():
                opened = e
            case RequestWithdrawn():
                values["withdrawn"] = True
            case RequestClosed():
                values["closed_on"] = e.closed_at.date()
                values["withdrawn"] = values.get("withdrawn", False) or e.withdrawn
            case DecisionRecorded():
                values["decided"] = True
                values["decided_on"] = e.record.decided_at.date()
                values["shared"] = values.get("shared", False) or e.outcome is Outcome.SHARE
            case PackageSent():
                values["package_sent_on"] = e.sent_at.date()
            case RetentionReviewOpened():
                open_reviews[e.review_id] = e.record_type
            case RecordRetained():
                open_reviews.pop(e.review_id, None)
                retained[e.record_type] = e.next_review_on
            case RecordDisposed():
                open_reviews.pop(e.review_id, None)
                disposed.add(e.record_type)
            case SubjectErased():
                values["erased"] = True
    if opened is None:
        return None
    return _Facts(
        request_id=opened.request_id,
        allegation=opened.allegation_against_staff,
        subject_id=opened.subject_id,
        open_reviews=frozenset(open_reviews.values()),
        retained_until=retained,
        disposed=frozenset(disposed),
        **values,
    )


def record_types(events: Iterable[Event]) -> list[RecordType]:
    """The records a request's events make: its decision record (by how it ended, or, for
    a request about an allegation against someone who works with children, an allegation
    record whatever was decided) and any package delivered. None until the request closes
    (its "case closed")."""
    facts = _facts(events)
    return [] if facts is None else _types(facts)


def _types(f: _Facts) -> list[RecordType]:
    if f.closed_on is None:
        return []
    if f.allegation:
        found = [RecordType.ALLEGATION_AGAINST_STAFF]
    elif f.withdrawn and not f.decided:
        found = [RecordType.WITHDRAWN_REQUEST]
    elif f.shared:
        found = [RecordType.SHARED_DECISION]
    elif f.decided:
        found = [RecordType.NOT_SHARED_DECISION]
    else:
        found = [RecordType.WITHDRAWN_REQUEST]
    if f.package_sent_on is not None:
        found.append(RecordType.PACKAGE)
    return found


def records_due(
    events: Iterable[Event],
    today: date,
    policy: RetentionPolicy,
    *,
    subject_born_on: date | None = None,
) -> list[DueRecord]:
    """The records of one request whose review date is ``today`` or earlier.

    Left out: records of a request not yet closed, records with a review
    already open, records disposed of, and everything once the subject is
    erased. A retained record comes up again on its chosen next review date.
    ``subject_born_on`` is opened from the sealed subject details by the
    caller when a rule counts from the 18th birthday; it is used, not kept.
    """
    f = _facts(events)
    if f is None or f.erased:
        return []
    due: list[DueRecord] = []
    for record_type in _types(f):
        if record_type in f.open_reviews or record_type in f.disposed:
            continue
        rule = policy.rule_for(record_type)
        anchor_date, estimated = _anchor(rule, f, record_type, subject_born_on)
        ends_on = retention_due(rule, anchor_date)
        review_on = f.retained_until.get(record_type) or next_review_on(
            rule, anchor_date, anchor_date
        )
        if review_on <= today:
            due.append(
                DueRecord(
                    request_id=f.request_id,
                    subject_id=f.subject_id,
                    record_type=record_type,
                    anchor=rule.anchor,
                    anchor_date=anchor_date,
                    anchor_estimated=estimated,
                    retention_ends_on=ends_on,
                    review_on=review_on,
                )
            )
    return due


def _anchor(
    rule: RetentionRule, f: _Facts, record_type: RecordType, born_on: date | None
) -> tuple[date, bool]:
    decided_on = f.package_sent_on if record_type is RecordType.PACKAGE else f.decided_on
    if rule.anchor is RetentionAnchor.SUBJECT_18TH_BIRTHDAY and born_on is None:
        assert f.closed_on is not None  # only closed requests make records
        return f.closed_on, True
    anchor = retention_anchor_date(
        rule.anchor,
        case_closed_on=f.closed_on,
        subject_born_on=born_on,
        decided_on=decided_on or f.closed_on,
    )
    return anchor, False


# --- the review's decisions ---------------------------------------------------------------


def decide_open_review(
    due: DueRecord, review_id: UUID, now: datetime, existing: Iterable[ReviewState] = ()
) -> list[Event]:
    """Open a review of a due record, unless one of that record is already open."""
    for review in existing:
        same = (review.request_id, review.record_type) == (due.request_id, due.record_type)
        if same and review.status is ReviewStatus.OPEN:
            raise InvalidState(f"a review of this {due.record_type} record is already open")
    return [
        RetentionReviewOpened(
            request_id=due.request_id,
            review_id=review_id,
            record_type=due.record_type,
            due_on=due.review_on,
            opened_at=now,
        )
    ]


def _reviewer(state: ReviewState, actor: Actor, doing: str) -> None:
    require(actor, Action.REVIEW_RETENTION, doing=doing)
    if state.status is not ReviewStatus.OPEN:
        raise InvalidState(f"this review is closed: the record was {state.status}")


def latest_next_review(rule: RetentionRule, today: date) -> date:
    """The furthest next review a retain decision may set: one review interval ahead, or,
    for a rule without reviews, one whole retention period ahead."""
    step = rule.review_every or rule.period
    months = step.years * 12 + step.months
    return add_months(today, max(months, 1))


def decide_retain(
    state: ReviewState,
    command: RetainRecord,
    actor: Actor,
    now: datetime,
    policy: RetentionPolicy,
) -> list[Event]:
    """Keep the record, with a reason, until a next review that is in the future and no
    further away than the rule's review interval (a record kept on is looked at again)."""
    _reviewer(state, actor, "retain a record")
    if command.reason.subject_id != state.subject_id:
        raise ValidationFailed("reason", "sealed for a different subject than this record's")
    today = now.date()
    if command.next_review_on <= today:
        raise ValidationFailed("next_review_on", "must be a date after today")
    latest = latest_next_review(policy.rule_for(state.record_type), today)
    if command.next_review_on > latest:
        raise ValidationFailed(
            "next_review_on",
            f"must be no later than {latest.isoformat()}: the {state.record_type} "
            "policy's review interval",
        )
    return [
        RecordRetained(
            request_id=state.request_id,
            review_id=state.review_id,
            record_type=state.record_type,
            reason=command.reason,
            next_review_on=command.next_review_on,
            reviewed_by=actor.user_id,
            reviewed_at=now,
        )
    ]


def decide_dispose(
    state: ReviewState, command: DisposeRecord, actor: Actor, now: datetime
) -> list[Event]:
    """Dispose: record the decision, then destroy the subject's key (the caller erases it in
    the keyring when it appends these). Who decided, when and why stays readable.

    A delivered package is sealed for the recipient agency, not under the subject's key,
    and its decision record may be kept far longer: disposing of the package alone deletes
    the package, so it erases nothing of the subject.
    """
    _reviewer(state, actor, "dispose of a record")
    disposed = RecordDisposed(
        request_id=state.request_id,
        review_id=state.review_id,
        record_type=state.record_type,
        reason=command.reason,
        disposed_by=actor.user_id,
        disposed_at=now,
    )
    if state.record_type is RecordType.PACKAGE:
        return [disposed]
    return [
        disposed,
        SubjectErased(
            request_id=state.request_id,
            subject_id=state.subject_id,
            reason=command.reason,
            erased_by=actor.user_id,
            erased_at=now,
        ),
    ]


def review_due_at(state: ReviewState, policy: RetentionPolicy) -> datetime:
    """When a review's decision is due: ``review_within`` after it opened."""
    return state.opened_at + policy.review_within


def review_overdue(state: ReviewState, now: datetime, policy: RetentionPolicy) -> list[Event]:
    """The review's due time has passed with no decision: escalate (the review stays open)."""
    if state.status is not ReviewStatus.OPEN or now < review_due_at(state, policy):
        return []
    return [
        RetentionReviewOverdue(
            request_id=state.request_id,
            review_id=state.review_id,
            record_type=state.record_type,
            due_at=review_due_at(state, policy),
            notify=[Role.COMPLIANCE_OFFICER],
            escalated_at=now,
        )
    ]
