"""What the guidance expects besides the decision: reasons to the requester, informing later."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from domain.commands import (
    AcknowledgeReceipt,
    OpenPackage,
    RecordInforming,
    RecordPackageSent,
)
from domain.decision import AgencyDecisionState, TaskKind, open_tasks
from domain.errors import InvalidState, ValidationFailed
from domain.events import AgencyDecisionCompleted, DecisionRecorded
from domain.handlers import (
    decide_acknowledge,
    decide_inform,
    decide_open_package,
    decide_package_sent,
    decide_record_decision,
)
from domain.models import InformPlan, NotInformedReason, NotShareReason
from domain.request import fold_request, start_request
from tests.domain.make import NOW, apply, assessed, not_share, opened, recipient, share, worker
from tests.domain.test_decision_flow import ready_to_share

DIGEST = "ab" * 32
REVIEW = date(2026, 4, 1)


def test_the_reasons_for_not_sharing_reach_the_requester() -> None:
    s = assessed(purpose_clear=False)
    decision = not_share(
        not_share_reasons=[NotShareReason.NO_LEGITIMATE_PURPOSE, NotShareReason.OTHER]
    )
    events = decide_record_decision(s, decision, worker(), NOW)
    completed = events[-1]
    assert isinstance(completed, AgencyDecisionCompleted)
    assert completed.not_share_reasons == decision.not_share_reasons
    request = fold_request(start_request(opened()), events)
    assert request.progress("health").not_share_reasons == decision.not_share_reasons
    # A parent that sees only the completion knows them too.
    only_completed = fold_request(start_request(opened()), [completed])
    assert only_completed.progress("health").not_share_reasons == decision.not_share_reasons


def _shared_not_told(review_on: date | None) -> AgencyDecisionState:
    s = ready_to_share()
    plan = InformPlan(
        will_inform=False,
        reason_not=NotInformedReason.WOULD_PREJUDICE_INVESTIGATION,
        review_on=review_on,
    )
    s = apply(s, decide_record_decision(s, share(inform=plan), worker(), NOW))
    pid = uuid4()
    s = apply(s, decide_package_sent(s, RecordPackageSent(package_id=pid, sha256=DIGEST), NOW))
    s = apply(s, decide_open_package(s, OpenPackage(package_id=pid), recipient(), NOW))
    return apply(
        s,
        decide_acknowledge(s, AcknowledgeReceipt(package_id=pid, sha256=DIGEST), recipient(), NOW),
    )


def test_not_telling_the_person_for_now_keeps_a_review_task_open_until_its_date() -> None:
    s = _shared_not_told(REVIEW)
    assert s.completed_at is None
    (task,) = open_tasks(s)
    assert task.kind is TaskKind.INFORM_PERSON and task.due_at is not None
    assert task.due_at.date() == REVIEW
    # At the review: still not safe, looked at again later; then told, and complete.
    later = REVIEW + timedelta(days=30)
    again = RecordInforming(
        informed=False,
        reason_not=NotInformedReason.WOULD_PREJUDICE_INVESTIGATION,
        review_on=later,
    )
    s = apply(s, decide_inform(s, again, worker(), NOW))
    due = open_tasks(s)[0].due_at
    assert due is not None and due.date() == later
    events = decide_inform(s, RecordInforming(informed=True), worker(), NOW)
    assert isinstance(events[-1], AgencyDecisionCompleted)


def test_not_telling_the_person_for_good_completes_the_decision() -> None:
    s = _shared_not_told(None)
    assert s.completed_at is not None
    again = RecordInforming(informed=False, reason_not=NotInformedReason.CANNOT_BE_CONTACTED)
    with pytest.raises(InvalidState):
        decide_inform(s, again, worker(), NOW)


def test_a_review_date_must_be_still_to_come() -> None:
    s = ready_to_share()
    plan = InformPlan(
        will_inform=False,
        reason_not=NotInformedReason.WOULD_PREJUDICE_INVESTIGATION,
        review_on=NOW.date(),
    )
    with pytest.raises(ValidationFailed) as refused:
        decide_record_decision(s, share(inform=plan), worker(), NOW)
    assert refused.value.field == "review_on"


def test_the_decision_record_keeps_the_review_date() -> None:
    s = ready_to_share()
    plan = InformPlan(
        will_inform=False,
        reason_not=NotInformedReason.WOULD_PREJUDICE_INVESTIGATION,
        review_on=REVIEW,
    )
    event = decide_record_decision(s, share(inform=plan), worker(), NOW)[0]
    assert isinstance(event, DecisionRecorded)
    assert event.record.inform is not None and event.record.inform.review_on == REVIEW
