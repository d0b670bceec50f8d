"""The whole request: opening, re-rating, withdrawal, progress and closing."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest
from pydantic import ValidationError

from domain.commands import ChangeRating, OpenRequest, WithdrawRequest
from domain.errors import InvalidState, NotPermitted, ValidationFailed
from domain.events import RequestOpened
from domain.models import Isp, IspRegister, Rating
from domain.policy import deadline
from domain.request import (
    decide_change_rating,
    decide_close,
    decide_open,
    decide_withdraw,
    fold_request,
    start_request,
)
from tests.domain.make import NOW, coordinator, opened, register, request, sealed, worker


def test_opening_records_the_deadline_and_any_isp_without_requiring_one() -> None:
    isps = IspRegister(
        isps=[
            Isp(
                isp_id=uuid4(),
                agencies=["police", "health"],
                title="Health and police ISP",
                signed_on=date(2024, 1, 1),
            )
        ]
    )
    command = OpenRequest(request=request(holding_agencies=["health", "school"]))
    event = decide_open(command, coordinator(), NOW, register(), isps)[0]
    assert isinstance(event, RequestOpened)
    assert [(h.agency, h.isp_with_requester) for h in event.holders] == [
        ("health", True),
        ("school", False),
    ]
    assert event.decision_due_at == deadline(NOW, Rating.AMBER)


def test_only_a_coordinator_opens_a_request() -> None:
    with pytest.raises(NotPermitted):
        decide_open(OpenRequest(request=request()), worker(), NOW, register(), IspRegister())


def test_a_requester_without_a_public_key_cannot_receive_anything() -> None:
    command = OpenRequest(request=request(requesting_agency="school", holding_agencies=["health"]))
    with pytest.raises(ValidationFailed) as refused:
        decide_open(command, coordinator(), NOW, register(), IspRegister())
    assert refused.value.field == "requesting_agency"


@pytest.mark.parametrize(
    "holders",
    [[], ["health", "health"], ["police"]],
    ids=["none", "twice", "the requester itself"],
)
def test_holding_agencies_are_non_empty_unique_and_not_the_requester(holders: list[str]) -> None:
    with pytest.raises(ValidationError):
        request(holding_agencies=holders)


def test_rerating_needs_a_coordinator_and_moves_the_deadline() -> None:
    s = start_request(opened())
    later = NOW + timedelta(hours=1)
    command = ChangeRating(rating=Rating.RED, rationale=sealed())
    with pytest.raises(NotPermitted):
        decide_change_rating(s, command, worker(), later)
    s = fold_request(s, decide_change_rating(s, command, coordinator(), later))
    assert s.rating is Rating.RED and s.decision_due_at == later + timedelta(hours=4)
    with pytest.raises(ValidationFailed):
        decide_change_rating(s, command, coordinator(), later)


def test_withdrawing_closes_the_request() -> None:
    s = start_request(opened())
    events = decide_withdraw(s, WithdrawRequest(reason=sealed()), coordinator(), NOW)
    assert [e.event_type for e in events] == ["request.withdrawn", "request.closed"]
    s = fold_request(s, events)
    with pytest.raises(InvalidState):
        decide_withdraw(s, WithdrawRequest(reason=sealed()), coordinator(), NOW)


def test_a_request_stays_open_while_an_agency_has_not_finished() -> None:
    assert decide_close(start_request(opened()), NOW) == []


def test_a_completion_alone_tells_the_request_the_outcome() -> None:
    from datetime import timedelta

    from domain.events.catalogue import AgencyDecisionCompleted
    from domain.request import decide_close, fold_request, start_request
    from domain.vocabulary import Outcome
    from tests.domain.make import NOW, opened

    event = opened()
    state = start_request(event)
    completions = [
        AgencyDecisionCompleted(
            request_id=event.request_id,
            agency=holder.agency,
            outcome=Outcome.SHARE,
            decided_at=NOW,
            decision_due_at=NOW + timedelta(hours=4),
            on_time=True,
            completed_at=NOW,
        )
        for holder in event.holders
    ]
    closed = decide_close(fold_request(state, completions), NOW)
    assert closed[0].shared_by == [h.agency for h in event.holders]  # type: ignore[attr-defined]
