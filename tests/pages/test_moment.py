"""The history page's "as of" boxes: a date and an optional time on the hub's clock,
refused in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.forms import FieldErrors
from api.moment import Typed, read_moment

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
LONDON = "Europe/London"


def typed(
    day: str = "", month: str = "", year: str = "", hour: str = "", minute: str = ""
) -> Typed:
    return Typed.of(
        {
            "as_of-day": day,
            "as_of-month": month,
            "as_of-year": year,
            "as_of_time-hour": hour,
            "as_of_time-minute": minute,
        },
        "as_of",
        "as_of_time",
    )


def read(t: Typed, now: datetime = NOW) -> datetime | None:
    return read_moment(t, "as_of", "as_of_time", LONDON, now)


def refused(t: Typed) -> dict[str, str]:
    with pytest.raises(FieldErrors) as caught:
        read(t)
    return caught.value.errors


def test_empty_boxes_mean_now() -> None:
    assert read(typed()) is None


def test_a_time_is_read_on_the_hubs_clock() -> None:
    summer = read(typed("1", "7", "2026", "14", "05"))
    assert summer == datetime(2026, 7, 1, 13, 5, tzinfo=UTC)  # 14:05 BST
    winter = read(typed("1", "12", "2026", "9", ""))  # minutes left empty: on the hour
    assert winter == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_date_without_a_time_is_the_end_of_that_day() -> None:
    end = read(typed("30", "6", "2026"))
    assert end == datetime(2026, 6, 30, 23, 0, tzinfo=UTC) - timedelta(microseconds=1)


def test_bad_input_is_refused_in_words_at_its_box() -> None:
    assert refused(typed("31", "2", "2026")) == {"as_of": "The date must be a real date"}
    assert refused(typed("1", "", "2026")) == {"as_of": "The date must include a month"}
    assert refused(typed("1", "2", "26")) == {
        "as_of": "The date must be a real date, with a four-digit year"
    }
    assert refused(typed(hour="10")) == {"as_of": "Enter the date as well as the time"}
    assert refused(typed("1", "2", "2026", "25", "00")) == {
        "as_of_time": "The time must be a real time, from 00:00 to 23:59"
    }
    assert refused(typed("1", "2", "2026", "", "30")) == {
        "as_of_time": "The time must include an hour"
    }
    assert refused(typed("x", "2", "2026", "ten")) == {
        "as_of": "The date must be a real date, with a four-digit year",
        "as_of_time": "The time must be in numbers, for example 14 and 30",
    }


def test_the_future_is_refused() -> None:
    assert refused(typed("6", "12", "2026")) == {"as_of": "The date must be today or in the past"}
    assert refused(typed("5", "12", "2026", "12", "30")) == {
        "as_of_time": "The time must be now or earlier"
    }
    assert read(typed("5", "12", "2026")) is not None  # today, to its end: the record as now
