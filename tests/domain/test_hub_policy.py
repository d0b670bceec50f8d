"""The hub policy as a hub sets it: durations in words, the policy recorded with each
request, the deadlines described on screen, and retention that is fair to adults."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from domain.calendar import WorkingCalendar
from domain.events import RequestOpened, registry
from domain.policy import DEFAULT_POLICY, HubPolicy, RatingWindows, RetentionPolicy, deadline
from domain.retention import record_types, records_due
from domain.vocabulary import DeadlineKind, Outcome, Rating, RecordType, RetentionAnchor
from tests.domain.make import NOW, opened
from tests.domain.test_retention import closed, decided

D = (NOW + timedelta(days=2)).date()


def test_durations_read_as_a_person_writes_them() -> None:
    policy = HubPolicy.model_validate({"decision": {"red": "90m", "amber": "1h30m", "green": "3d"}})
    assert policy.decision == RatingWindows(
        red=timedelta(minutes=90), amber=timedelta(minutes=90), green=timedelta(days=3)
    )


def test_the_screen_says_which_clock_each_rating_runs_on() -> None:
    assert DEFAULT_POLICY.describe(DeadlineKind.DECISION, Rating.RED) == (
        "4 hours, around the clock"
    )
    assert DEFAULT_POLICY.describe(DeadlineKind.DECISION, Rating.AMBER) == (
        "24 working hours (about three working days)"
    )
    assert DEFAULT_POLICY.describe(DeadlineKind.DECISION, Rating.GREEN) == (
        "72 working hours (about nine working days)"
    )
    assert DEFAULT_POLICY.working_hours_text() == (
        "09:00 to 17:00, Monday to Friday, Europe/London time, "
        "not counting bank holidays in England and Wales"
    )


def test_the_policy_in_force_is_recorded_with_the_request_and_its_digest() -> None:
    event = opened()
    assert event.policy == DEFAULT_POLICY
    assert event.policy_digest == DEFAULT_POLICY.digest()
    assert event.decision_due_at == deadline(NOW, Rating.AMBER, event.policy)


def test_a_digest_changes_with_any_field_and_not_with_the_order_of_closure_days() -> None:
    closed_day = HubPolicy(calendar=WorkingCalendar(bank_holidays=[date(2027, 12, 24)]))
    assert closed_day.digest() != DEFAULT_POLICY.digest()
    two = [date(2027, 12, 24), date(2027, 12, 31)]
    assert (
        HubPolicy(calendar=WorkingCalendar(bank_holidays=two)).digest()
        == HubPolicy(calendar=WorkingCalendar(bank_holidays=two[::-1])).digest()
    )


def test_a_version_1_opening_reads_with_no_policy_recorded() -> None:
    data = opened().model_dump(mode="json")
    for field in ("policy", "policy_digest", "allegation_against_staff"):
        del data[field]
    old = registry.decode("request.opened", 1, data)
    assert isinstance(old, RequestOpened)
    assert (old.policy, old.policy_digest, old.allegation_against_staff) == (None, None, False)
    assert old.decision_due_at == opened().decision_due_at


def test_a_policy_that_leaves_a_record_type_out_keeps_its_default_rule() -> None:
    # A policy written (or recorded) before the allegation record type existed.
    older = RetentionPolicy.model_validate(
        {"rules": [r.model_dump() for r in RetentionPolicy().rules[:4]]}
    )
    assert older == RetentionPolicy()
    with pytest.raises(ValidationError, match="more than one retention rule"):
        RetentionPolicy.model_validate({"rules": [RetentionPolicy().rules[0]] * 2})


def test_an_adults_record_is_kept_its_full_period_after_the_case_closes() -> None:
    events = [opened(), decided(Outcome.NOT_SHARE), closed()]
    policy = RetentionPolicy()
    forty_year_old = date(D.year - 40, 1, 1)
    assert policy.rule_for(RecordType.NOT_SHARED_DECISION).anchor is (
        RetentionAnchor.SUBJECT_18TH_BIRTHDAY
    )
    assert records_due(events, D, policy, subject_born_on=forty_year_old) == []
    (due,) = records_due(events, date(D.year + 6, 12, 31), policy, subject_born_on=forty_year_old)
    assert (due.anchor_date, due.retention_ends_on) == (D, date(D.year + 6, D.month, D.day))


def test_a_childs_record_still_counts_from_the_18th_birthday() -> None:
    events = [opened(), decided(Outcome.NOT_SHARE), closed()]
    ten_year_old = date(D.year - 10, 3, 1)
    (due,) = records_due(
        events, date(D.year + 20, 1, 1), RetentionPolicy(), subject_born_on=ten_year_old
    )
    assert due.anchor_date == date(D.year + 8, 3, 1)


def test_an_allegation_against_staff_is_its_own_record_kept_for_fifty_years() -> None:
    events = [opened(allegation_against_staff=True), decided(Outcome.NOT_SHARE), closed()]
    assert record_types(events) == [RecordType.ALLEGATION_AGAINST_STAFF]
    rule = RetentionPolicy().rule_for(RecordType.ALLEGATION_AGAINST_STAFF)
    assert (rule.period.years, rule.anchor) == (50, RetentionAnchor.CASE_CLOSED)
    assert records_due(events, date(D.year + 9, 12, 31), RetentionPolicy()) == []
    (due,) = records_due(events, date(D.year + 10, D.month, D.day), RetentionPolicy())
    assert due.retention_ends_on == date(D.year + 50, D.month, D.day)
