"""Retention reviews: which records are due, and retain / dispose decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.commands import DisposeRecord, RetainRecord
from domain.errors import InvalidState, NotPermitted, ValidationFailed
from domain.events import (
    DecisionRecorded,
    Event,
    PackageSent,
    RecordDisposed,
    RecordRetained,
    RequestClosed,
    RequestWithdrawn,
    RetentionReviewOpened,
    SubjectErased,
)
from domain.events.values import ConsentRecord, DecisionRecord
from domain.models import (
    Actor,
    ConsentOutcome,
    DisposalReason,
    Outcome,
    PurposeCategory,
    RecordType,
    Role,
)
from domain.policy import RetentionPolicy, add_months
from domain.retention import (
    ReviewState,
    ReviewStatus,
    decide_dispose,
    decide_open_review,
    decide_retain,
    evolve_review,
    latest_next_review,
    record_types,
    records_due,
    start_review,
)
from tests.domain.make import NOW, REQUEST, SUBJECT, opened, sealed

POLICY = RetentionPolicy()
CLOSED = NOW + timedelta(days=2)
OFFICER = Actor(user_id="u-officer", role=Role.COMPLIANCE_OFFICER)


def decided(outcome: Outcome) -> DecisionRecorded:
    record = DecisionRecord(
        request_id=REQUEST,
        agency="health",
        requesting_agency="police",
        requested_by="u-requester",
        received_at=NOW,
        purpose_category=PurposeCategory.SAFEGUARDING_WELFARE,
        lawful_basis=None,
        necessity=None,
        isp_exists=False,
        consent=ConsentRecord(outcome=ConsentOutcome.NOT_REQUIRED, recorded_at=NOW),
        advice=[],
        outcome=outcome,
        reasons=sealed(),
        not_share_reasons=[],
        items=[],
        shared_with="police" if outcome is Outcome.SHARE else None,
        inform=None,
        urgent_override=None,
        decided_by="u-worker",
        decided_by_role=Role.AGENCY_WORKER,
        decided_at=NOW,
    )
    return DecisionRecorded(request_id=REQUEST, agency="health", record=record)


def closed(withdrawn: bool = False) -> RequestClosed:
    return RequestClosed(
        request_id=REQUEST, shared_by=[], not_shared_by=[], withdrawn=withdrawn, closed_at=CLOSED
    )


def withdrawn() -> RequestWithdrawn:
    return RequestWithdrawn(
        request_id=REQUEST, reason=sealed(), withdrawn_by="u-coord", withdrawn_at=NOW
    )


def package() -> PackageSent:
    return PackageSent(
        request_id=REQUEST,
        agency="health",
        package_id=uuid4(),
        recipient_agency="police",
        sha256="ab" * 32,
        item_count=1,
        sent_at=NOW,
        acknowledge_by=NOW + timedelta(hours=8),
    )


SHARED: list[Event] = [opened(), decided(Outcome.SHARE), package(), closed()]
NOT_SHARED: list[Event] = [opened(), decided(Outcome.NOT_SHARE), closed()]
WITHDRAWN: list[Event] = [opened(), withdrawn(), closed(withdrawn=True)]
D = CLOSED.date()


@pytest.mark.parametrize(
    ("events", "types"),
    [
        ([opened()], []),
        (SHARED, [RecordType.SHARED_DECISION, RecordType.PACKAGE]),
        (NOT_SHARED, [RecordType.NOT_SHARED_DECISION]),
        (WITHDRAWN, [RecordType.WITHDRAWN_REQUEST]),
    ],
    ids=["still open", "shared", "not shared", "withdrawn"],
)
def test_the_record_type_follows_how_the_request_ended(
    events: list[Event], types: list[RecordType]
) -> None:
    assert record_types(events) == types


@pytest.mark.parametrize(
    ("events", "today", "due", "born"),
    [
        (SHARED, D, [], None),
        (SHARED, add_months(NOW.date(), 12), [RecordType.PACKAGE], None),
        (SHARED, add_months(D, 60), [RecordType.SHARED_DECISION, RecordType.PACKAGE], None),
        (WITHDRAWN, add_months(D, 23), [], None),
        (WITHDRAWN, add_months(D, 24), [RecordType.WITHDRAWN_REQUEST], None),
        (NOT_SHARED, add_months(D, 72), [RecordType.NOT_SHARED_DECISION], None),
        (NOT_SHARED, add_months(D, 72), [], date(2014, 5, 17)),
        (NOT_SHARED, date(2038, 5, 17), [RecordType.NOT_SHARED_DECISION], date(2014, 5, 17)),
    ],
    ids=[
        "nothing due on closing",
        "the package after a year",
        "the shared decision at its first five-yearly review",
        "withdrawn: not before two years",
        "withdrawn: after two years",
        "not shared: birth date unknown, counted from closing",
        "not shared: before 18th birthday plus six years",
        "not shared: at 18th birthday plus six years",
    ],
)
def test_records_come_up_for_review_on_the_rule_s_date(
    events: list[Event], today: date, due: list[RecordType], born: date | None
) -> None:
    found = records_due(events, today, POLICY, subject_born_on=born)
    assert [r.record_type for r in found] == due


def review(record_type: RecordType = RecordType.SHARED_DECISION) -> ReviewState:
    opened_event = RetentionReviewOpened(
        request_id=REQUEST, review_id=uuid4(), record_type=record_type, due_on=D, opened_at=NOW
    )
    return start_review(opened_event, SUBJECT)


def test_an_open_review_a_retained_record_and_an_erasure_hold_a_record_back() -> None:
    later = add_months(D, 60)
    (due,) = [
        r for r in records_due(SHARED, later, POLICY) if r.record_type.value == "shared_decision"
    ]
    opening = decide_open_review(due, uuid4(), NOW)
    assert [r.record_type for r in records_due(SHARED + opening, later, POLICY)] == [
        RecordType.PACKAGE
    ]
    state = start_review(opening[0], SUBJECT)  # type: ignore[arg-type]
    with pytest.raises(InvalidState):
        decide_open_review(due, uuid4(), NOW, [state])
    kept_until = add_months(later, 12)
    retained = decide_retain(
        state,
        RetainRecord(reason=sealed(), next_review_on=kept_until),
        OFFICER,
        datetime.combine(later, NOW.timetz()),
        POLICY,
    )
    events = SHARED + opening + retained
    assert RecordType.SHARED_DECISION not in [
        r.record_type for r in records_due(events, later, POLICY)
    ]
    assert RecordType.SHARED_DECISION in [
        r.record_type for r in records_due(events, kept_until, POLICY)
    ]
    erased = SubjectErased(
        request_id=REQUEST,
        subject_id=SUBJECT,
        reason=DisposalReason.RETENTION_PERIOD_ENDED,
        erased_by="u-officer",
        erased_at=NOW,
    )
    assert records_due([*events, erased], date(2200, 1, 1), POLICY) == []


@pytest.mark.parametrize(
    ("next_review", "problem"),
    [
        (NOW.date(), "after today"),
        (NOW.date() - timedelta(days=1), "after today"),
        (add_months(NOW.date(), 61), "no later than"),
    ],
    ids=["today", "past", "beyond the review interval"],
)
def test_retain_needs_a_next_review_in_the_future_within_the_interval(
    next_review: date, problem: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        decide_retain(
            review(),
            RetainRecord(reason=sealed(), next_review_on=next_review),
            OFFICER,
            NOW,
            POLICY,
        )
    assert refused.value.field == "next_review_on" and problem in refused.value.message


@pytest.mark.parametrize(
    "role", [Role.COORDINATOR, Role.AGENCY_WORKER, Role.ADVISOR, Role.RECIPIENT, Role.SYSTEM]
)
def test_only_a_compliance_officer_decides_a_review(role: Role) -> None:
    actor = Actor(user_id="u-someone", role=role)
    with pytest.raises(NotPermitted):
        decide_dispose(
            review(), DisposeRecord(reason=DisposalReason.NO_LONGER_NECESSARY), actor, NOW
        )
    with pytest.raises(NotPermitted):
        decide_retain(
            review(),
            RetainRecord(reason=sealed(), next_review_on=add_months(NOW.date(), 1)),
            actor,
            NOW,
            POLICY,
        )


def test_retain_refuses_a_reason_sealed_for_someone_else() -> None:
    stranger = sealed(UUID("00000000-0000-4000-8000-000000000999"))
    with pytest.raises(ValidationFailed):
        decide_retain(
            review(),
            RetainRecord(reason=stranger, next_review_on=add_months(NOW.date(), 1)),
            OFFICER,
            NOW,
            POLICY,
        )


@pytest.mark.parametrize(
    ("record_type", "erases"),
    [
        (RecordType.SHARED_DECISION, True),
        (RecordType.WITHDRAWN_REQUEST, True),
        (RecordType.PACKAGE, False),
    ],
)
def test_dispose_records_the_decision_and_erases_the_subject(
    record_type: RecordType, erases: bool
) -> None:
    state = review(record_type)
    events = decide_dispose(
        state, DisposeRecord(reason=DisposalReason.RETENTION_PERIOD_ENDED), OFFICER, NOW
    )
    assert isinstance(events[0], RecordDisposed) and events[0].disposed_by == "u-officer"
    assert any(isinstance(e, SubjectErased) and e.subject_id == SUBJECT for e in events) == erases
    after = evolve_review(state, events[0])
    assert after.status is ReviewStatus.DISPOSED
    with pytest.raises(InvalidState):
        decide_dispose(
            after, DisposeRecord(reason=DisposalReason.RETENTION_PERIOD_ENDED), OFFICER, NOW
        )


@given(
    days=st.integers(min_value=1, max_value=3650),
    record_type=st.sampled_from(list(RecordType)),
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
)
def test_any_retain_accepted_schedules_a_future_review_within_the_interval(
    days: int, record_type: RecordType, start: date
) -> None:
    now = datetime.combine(start, NOW.timetz()).astimezone(UTC)
    state = review(record_type)
    next_review = start + timedelta(days=days)
    command = RetainRecord(reason=sealed(), next_review_on=next_review)
    latest = latest_next_review(POLICY.rule_for(record_type), start)
    if next_review > latest:
        with pytest.raises(ValidationFailed):
            decide_retain(state, command, OFFICER, now, POLICY)
        return
    (event,) = decide_retain(state, command, OFFICER, now, POLICY)
    assert isinstance(event, RecordRetained)
    assert start < event.next_review_on <= latest
    assert evolve_review(state, event).next_review_on == next_review
