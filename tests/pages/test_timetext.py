"""Deadlines as people read them: one formatting function for every page and message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.request_timeline import on_hub_clock
from app.timetext import local_time, span, time_left

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_time_left_reads_in_hours_and_minutes() -> None:
    assert time_left(NOW + timedelta(hours=3, minutes=10), NOW) == "3 h 10 min left"
    assert time_left(NOW + timedelta(minutes=45, seconds=59), NOW) == "45 min left"
    assert time_left(NOW + timedelta(hours=2), NOW) == "2 h left"


def test_a_passed_deadline_reads_as_overdue_by_how_long() -> None:
    assert time_left(NOW - timedelta(hours=2), NOW) == "overdue by 2 h"
    assert time_left(NOW - timedelta(hours=1, minutes=5), NOW) == "overdue by 1 h 5 min"
    assert time_left(NOW, NOW) == "overdue by less than a minute"


def test_long_spans_count_days_and_short_ones_say_less_than_a_minute() -> None:
    assert span(timedelta(hours=72)) == "3 days"
    assert span(timedelta(hours=50, minutes=30)) == "2 days 2 h"
    assert span(timedelta(hours=47, minutes=59)) == "47 h 59 min"
    assert span(timedelta(seconds=59)) == "less than a minute"
    assert span(timedelta(seconds=-5)) == "less than a minute"


def test_due_times_are_shown_on_the_hubs_clock_with_its_zone() -> None:
    winter = datetime(2026, 12, 5, 14, 5, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 13, 5, tzinfo=UTC)
    assert local_time(winter, "Europe/London") == "Sat 5 Dec 2026, 14:05 GMT"
    assert local_time(summer, "Europe/London") == "Wed 1 Jul 2026, 14:05 BST"
    assert local_time(summer, "Europe/Paris") == "Wed 1 Jul 2026, 15:05 CEST"


def test_a_timeline_sentence_reads_on_the_hubs_clock() -> None:
    said = on_hub_clock("consent sought, answer due 2026-07-01 13:05 UTC", "Europe/London")
    assert said == "consent sought, answer due Wed 1 Jul 2026, 14:05 BST"
    winter = on_hub_clock("missed (due 2026-12-05 14:05 UTC); due 2026-12-06 09:00 UTC", "UTC")
    assert "UTC" in winter and "Sat 5 Dec 2026, 14:05" in winter and "Sun 6 Dec" in winter
    assert on_hub_clock("no time here", "Europe/London") == "no time here"
