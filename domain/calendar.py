"""Working-hours arithmetic: when a clock that only runs in office hours reaches a duration.

The clock stops outside working hours, at weekends and on bank holidays; it is
measured on the hub's local wall clock (Europe/London by default), so a
working day is 09:00 to 17:00 local time on both sides of a clock change.
All instants in and out are timezone-aware; results are in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator, model_validator

_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m)")
_UNIT = {"d": "days", "h": "hours", "m": "minutes"}


def _span(value: Any) -> Any:
    """Durations as a person writes them in a policy file: "4h", "28d", "1h30m".

    Anything else (a timedelta, ISO 8601 "PT4H" as recorded) goes on to pydantic."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower().replace(" ", "")
    if text and _SPAN.sub("", text) == "":
        spans = (timedelta(**{_UNIT[unit]: float(n)}) for n, unit in _SPAN.findall(text))
        return sum(spans, timedelta(0))
    return value


Duration = Annotated[timedelta, BeforeValidator(_span)]
"""A span of time: "4h", "28d", "1h30m" in a policy file; ISO 8601 when recorded."""


class BankHolidayRegion(StrEnum):
    """Whose bank holidays stop the clock. The dates come from a maintained source (the
    infrastructure's policy loader fills them in), never from a list in this code."""

    ENGLAND_AND_WALES = "england_and_wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern_ireland"
    NONE = "none"


_SEARCH_LIMIT_DAYS = 366 * 20


class WorkingCalendar(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = "Europe/London"
    working_days: list[int] = [0, 1, 2, 3, 4]
    """ISO weekdays counted from Monday = 0."""
    day_starts: time = time(9, 0)
    day_ends: time = time(17, 0)
    bank_holiday_region: BankHolidayRegion = BankHolidayRegion.ENGLAND_AND_WALES
    bank_holidays: list[date] = []
    """Every day the clock stops besides the weekly days off: the region's bank holidays,
    as the policy loader filled them in for the years around now, and any closure days the
    hub adds in its policy file. A policy recorded with a request keeps the full list."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("working_days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(d not in range(7) for d in value) or len(set(value)) != len(value):
            raise ValueError("list at least one weekday, each once, Monday = 0 to Sunday = 6")
        return sorted(value)

    @model_validator(mode="after")
    def _day_has_hours(self) -> Self:
        if self.day_starts >= self.day_ends:
            raise ValueError("the working day must start before it ends")
        if self.day_starts.tzinfo is not None or self.day_ends.tzinfo is not None:
            raise ValueError("working hours are local wall-clock times, without a zone")
        return self

    @field_validator("bank_holidays")
    @classmethod
    def _sorted_days(cls, value: list[date]) -> list[date]:
        return sorted(set(value))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self._closed

    @cached_property
    def _closed(self) -> frozenset[date]:
        return frozenset(self.bank_holidays)

    def _windows_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows (UTC start, UTC end) from the one containing ``start`` onwards."""
        zone = ZoneInfo(self.timezone)
        day = start.astimezone(zone).date()
        for _ in range(_SEARCH_LIMIT_DAYS):
            if self.is_working_day(day):
                opens = datetime.combine(day, self.day_starts, tzinfo=zone).astimezone(UTC)
                closes = datetime.combine(day, self.day_ends, tzinfo=zone).astimezone(UTC)
                yield opens, closes
            day += timedelta(days=1)
        raise ValueError("the calendar has no working time in twenty years")

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of working time has elapsed since ``start``.

        A duration that runs out exactly at the end of a working day lands on
        that closing time, not on the next morning. A zero duration gives the
        first working instant at or after ``start``.
        """
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        start = as_utc(start)
        remaining = duration
        for opens, closes in self._windows_from(start):
            begin = max(start, opens)
            if begin >= closes:
                continue
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover - _windows_from raises first

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time elapsed from ``start`` to ``end`` (zero when ``end`` is not later)."""
        start, end = as_utc(start), as_utc(end)
        total = timedelta(0)
        if end <= start:
            return total
        for opens, closes in self._windows_from(start):
            if opens >= end:
                break
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta(0):
                total += overlap
        return total

    def is_working_instant(self, instant: datetime) -> bool:
        """Within a working window, both ends included."""
        local = as_utc(instant).astimezone(ZoneInfo(self.timezone))
        return self.is_working_day(local.date()) and (
            self.day_starts <= local.time().replace(tzinfo=None) <= self.day_ends
        )


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")
    return value.astimezone(UTC)
