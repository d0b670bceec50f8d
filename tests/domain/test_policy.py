"""Deadlines, the working calendar, re-rating and retention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.calendar import WorkingCalendar
from domain.errors import ValidationFailed
from domain.models import Rating, RecordType, RetentionAnchor
from domain.policy import (
    DEFAULT_POLICY,
    HubPolicy,
    RatingWindows,
    add_months,
    deadline,
    escalation_schedule,
    next_review_on,
    rerated_deadline,
    retention_anchor_date,
    retention_due,
)

MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
FRIDAY_16 = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)


def test_red_runs_around_the_clock() -> None:
    assert deadline(FRIDAY_16, Rating.RED) == FRIDAY_16 + timedelta(hours=4)


def test_amber_counts_working_hours_only_across_the_weekend() -> None:
    # Friday 16:00-17:00 is one hour; Monday 09:00 plus 23 hours is Wednesday 16:00.
    assert deadline(FRIDAY_16, Rating.AMBER) == datetime(2026, 3, 11, 16, 0, tzinfo=UTC)


def test_working_hours_are_local_time_in_british_summer_time() -> None:
    # 2026-06-01 is a Monday; 09:00 BST is 08:00 UTC.
    opened = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    policy = HubPolicy(
        decision=RatingWindows(
            red=timedelta(hours=1), amber=timedelta(hours=1), green=timedelta(hours=1)
        )
    )
    assert deadline(opened, Rating.AMBER, policy) == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def test_bank_holidays_stop_the_clock() -> None:
    thursday_before_easter = datetime(2026, 4, 2, 16, 0, tzinfo=UTC)  # BST: 17:00 local
    eight_hours = HubPolicy(
        decision=RatingWindows(
            red=timedelta(hours=1), amber=timedelta(hours=8), green=timedelta(hours=8)
        ),
        calendar=WorkingCalendar(bank_holidays=[date(2026, 4, 3), date(2026, 4, 6)]),
    )
    # Good Friday and Easter Monday are holidays: the clock restarts on Tuesday at 09:00 BST.
    assert deadline(thursday_before_easter, Rating.AMBER, eight_hours) == datetime(
        2026, 4, 7, 16, 0, tzinfo=UTC
    )


def test_a_duration_ending_at_closing_time_lands_on_closing_time() -> None:
    cal = WorkingCalendar()
    assert cal.add(MONDAY_10, timedelta(hours=7)) == datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def test_working_time_between_is_the_inverse_of_add() -> None:
    cal = WorkingCalendar()
    end = cal.add(FRIDAY_16, timedelta(hours=30))
    assert cal.working_time_between(FRIDAY_16, end) == timedelta(hours=30)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        WorkingCalendar().add(datetime(2026, 3, 2, 10, 0), timedelta(hours=1))


def test_policy_refuses_a_more_urgent_rating_with_a_longer_window() -> None:
    with pytest.raises(ValidationError):
        RatingWindows(red=timedelta(hours=8), amber=timedelta(hours=4), green=timedelta(hours=72))


def test_policy_refuses_working_hours_for_red_but_not_for_green() -> None:
    with pytest.raises(ValidationError):
        HubPolicy(working_hours_ratings=[Rating.RED, Rating.AMBER])


def test_escalation_warns_at_three_quarters_and_breaches_at_the_deadline() -> None:
    due = deadline(MONDAY_10, Rating.RED)
    (warn, warn_at), (breach, breach_at) = escalation_schedule(MONDAY_10, due, Rating.RED)
    assert warn_at == MONDAY_10 + timedelta(hours=3)
    assert breach_at == due
    assert warn.level == "warning" and breach.level == "breach"


def test_rerating_to_red_restarts_the_clock_but_never_lengthens_it() -> None:
    due = deadline(MONDAY_10, Rating.AMBER)
    later = MONDAY_10 + timedelta(hours=2)
    assert rerated_deadline(MONDAY_10, due, Rating.AMBER, Rating.RED, later) == later + timedelta(
        hours=4
    )
    almost_due = due - timedelta(minutes=30)
    assert rerated_deadline(MONDAY_10, due, Rating.AMBER, Rating.RED, almost_due) == due


def test_rerating_down_counts_from_the_opening_and_never_shortens() -> None:
    due = deadline(MONDAY_10, Rating.RED)
    assert rerated_deadline(
        MONDAY_10, due, Rating.RED, Rating.GREEN, MONDAY_10 + timedelta(hours=1)
    ) == deadline(MONDAY_10, Rating.GREEN)


def test_leap_day_retention_falls_back_to_the_end_of_february() -> None:
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_retention_is_configured_per_record_type() -> None:
    rule = DEFAULT_POLICY.retention.rule_for(RecordType.SHARED_DECISION)
    assert retention_due(rule, date(2026, 1, 10)) == date(2061, 1, 10)


def test_retention_from_the_18th_birthday_needs_the_birth_date() -> None:
    with pytest.raises(ValidationFailed) as refused:
        retention_anchor_date(RetentionAnchor.SUBJECT_18TH_BIRTHDAY)
    assert refused.value.field == "subject_born_on"
    anchor = retention_anchor_date(
        RetentionAnchor.SUBJECT_18TH_BIRTHDAY, subject_born_on=date(2012, 5, 1)
    )
    assert anchor == date(2030, 5, 1)


def test_long_kept_records_are_reviewed_at_intervals_then_at_the_due_date() -> None:
    rule = DEFAULT_POLICY.retention.rule_for(RecordType.SHARED_DECISION)
    closed = date(2026, 1, 10)
    assert next_review_on(rule, closed, closed) == date(2031, 1, 10)
    assert next_review_on(rule, closed, date(2031, 1, 10)) == date(2036, 1, 10)
    assert next_review_on(rule, closed, date(2060, 6, 1)) == date(2061, 1, 10)
