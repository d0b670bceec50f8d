"""A moment typed on a page: a GOV.UK date input (day, month, year) and an optional time
(hours, minutes), read on the hub's clock and refused in words.

The boxes are named ``<name>-day``, ``<name>-month``, ``<name>-year`` and
``<time>-hour``, ``<time>-minute``; the values come back as typed, for the page to
show again beside its errors. Pure: the caller passes the hub's zone and ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from api.forms import FieldErrors, read_date

DATE_PARTS = ("day", "month", "year")
TIME_PARTS = ("hour", "minute")


@dataclass(frozen=True)
class Typed:
    """What was typed in the boxes, part -> text ("" where left empty)."""

    day: dict[str, str]
    time: dict[str, str]

    @classmethod
    def of(cls, source: Mapping[str, str], name: str, time_name: str) -> Typed:
        def get(key: str) -> str:
            value = source.get(key, "")
            return value if isinstance(value, str) else ""

        return cls(
            {p: get(f"{name}-{p}") for p in DATE_PARTS},
            {p: get(f"{time_name}-{p}") for p in TIME_PARTS},
        )

    @classmethod
    def at(cls, instant: datetime, zone: str) -> Typed:
        """The boxes filled in with ``instant`` on the hub's clock."""
        local = instant.astimezone(ZoneInfo(zone))
        return cls(
            {"day": str(local.day), "month": str(local.month), "year": str(local.year)},
            {"hour": f"{local.hour:02d}", "minute": f"{local.minute:02d}"},
        )

    def empty(self) -> bool:
        return not any(v.strip() for v in (*self.day.values(), *self.time.values()))


def read_moment(
    typed: Typed, name: str, time_name: str, zone: str, now: datetime
) -> datetime | None:
    """The instant typed (aware), or None when every box is empty. Without a time, the end
    of that day on the hub's clock. A date after today, or a time later than now, is
    refused: there is no record of the future. Errors are keyed ``name`` (the date's day
    box) and ``time_name`` (the hour box)."""
    if typed.empty():
        return None
    hour, minute = (typed.time[p].strip() for p in TIME_PARTS)
    errors: dict[str, str] = {}
    day: date | None = None
    try:
        day = read_date(name, "the date", *(typed.day[p] for p in DATE_PARTS))
    except FieldErrors as exc:
        errors.update(exc.errors)
    if day is None and name not in errors:
        errors[name] = "Enter the date as well as the time"
    at: time | None = None
    if hour or minute:
        if not hour:
            errors[time_name] = "The time must include an hour"
        elif not (hour.isdigit() and (not minute or minute.isdigit())):
            errors[time_name] = "The time must be in numbers, for example 14 and 30"
        elif int(hour) > 23 or int(minute or 0) > 59:
            errors[time_name] = "The time must be a real time, from 00:00 to 23:59"
        else:
            at = time(int(hour), int(minute or 0))
    if errors or day is None:
        raise FieldErrors(errors)
    hub = ZoneInfo(zone)
    if day > now.astimezone(hub).date():
        raise FieldErrors({name: "The date must be today or in the past"})
    if at is None:  # the whole of that day
        return datetime.combine(day + timedelta(days=1), time(), hub) - timedelta(microseconds=1)
    moment = datetime.combine(day, at, hub)
    if moment > now:
        raise FieldErrors({time_name: "The time must be now or earlier"})
    return moment
