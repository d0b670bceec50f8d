"""Disposal asks the log whether the record is due, whatever review was put forward."""

from __future__ import annotations

from uuid import UUID, uuid4

from domain.disposal import disposal_due
from domain.events import Event, RecordDisposed, RetentionReviewOpened
from domain.models import DisposalReason
from domain.policy import add_months
from domain.vocabulary import Outcome, RecordType
from tests.domain.make import NOW, REQUEST, opened
from tests.domain.test_retention import POLICY, SHARED, D, decided

FIVE_YEARS_ON = add_months(D, 60)
"""The shared decision's first review under the default policy."""


def _with_review(events: list[Event], review_id: UUID) -> list[Event]:
    opening = RetentionReviewOpened(
        request_id=REQUEST,
        review_id=review_id,
        record_type=RecordType.SHARED_DECISION,
        due_on=FIVE_YEARS_ON,
        opened_at=NOW,
    )
    return [*events, opening]


def test_a_record_the_log_makes_due_may_be_disposed_of_under_its_open_review() -> None:
    review_id = uuid4()
    events = _with_review(SHARED, review_id)
    assert disposal_due(events, review_id, RecordType.SHARED_DECISION, FIVE_YEARS_ON, POLICY)


def test_a_record_of_a_request_still_open_is_not_due_whatever_the_review_says() -> None:
    review_id = uuid4()
    events = _with_review([opened(), decided(Outcome.SHARE)], review_id)
    assert not disposal_due(events, review_id, RecordType.SHARED_DECISION, FIVE_YEARS_ON, POLICY)


def test_a_record_before_its_review_date_or_of_another_type_is_not_due() -> None:
    review_id = uuid4()
    events = _with_review(SHARED, review_id)
    assert not disposal_due(events, review_id, RecordType.SHARED_DECISION, D, POLICY)
    assert not disposal_due(
        events, review_id, RecordType.NOT_SHARED_DECISION, FIVE_YEARS_ON, POLICY
    )


def test_a_record_already_disposed_of_is_not_due_again() -> None:
    review_id = uuid4()
    disposed = RecordDisposed(
        request_id=REQUEST,
        review_id=uuid4(),
        record_type=RecordType.SHARED_DECISION,
        reason=DisposalReason.RETENTION_PERIOD_ENDED,
        disposed_by="u-officer",
        disposed_at=NOW,
    )
    events = _with_review([*SHARED, disposed], review_id)
    assert not disposal_due(events, review_id, RecordType.SHARED_DECISION, FIVE_YEARS_ON, POLICY)
