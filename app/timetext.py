"""Deadlines as people read them: time left ("3 h 10 min left", "overdue by 2 h") and
due times on the hub's local clock ("Sat 5 Dec 2026, 14:05 GMT"), and the times of the
audit exports on it ("25 Oct 2026, 01:30:00 BST").

The one place the pages, the inboxes and the notifications format a deadline. Pure:
the caller passes ``now`` and the hub's time zone (its working calendar's).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def span(delta: timedelta) -> str:
    """A non-negative duration in whole minutes, largest units first.

    ``timedelta(hours=3, minutes=10)`` -> "3 h 10 min"; two hours -> "2 h";
    under a minute -> "less than a minute"; from two days on, days and hours.
    """
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes == 0:
        return "less than a minute"
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        days, hours = divmod(hours, 24)
        return f"{days} days {hours} h" if hours else f"{days} days"
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def time_left(due: datetime, now: datetime) -> str:
    """ "3 h 10 min left" before ``due``; "overdue by 2 h" at or after it."""
    if due <= now:
        return f"overdue by {span(now - due)}"
    return f"{span(due - now)} left"


def local_time(instant: datetime, zone: str) -> str:
    """An aware instant on the hub's wall clock, with the zone's abbreviation.

    ``2026-07-01 13:05 UTC`` in Europe/London -> "Wed 1 Jul 2026, 14:05 BST".
    """
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def record_time(instant: datetime, zone: str, *, seconds: bool = True) -> str:
    """An aware instant on the hub's wall clock as the audit exports print it, with the
    zone's abbreviation (which tells apart the hour a clock change repeats).

    ``2026-10-25 00:30 UTC`` in Europe/London -> "25 Oct 2026, 01:30:00 BST";
    ``2026-10-25 01:30 UTC`` -> "25 Oct 2026, 01:30:00 GMT".
    """
    local = instant.astimezone(ZoneInfo(zone))
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    return f"{local.day} {local:%b %Y}, {clock} {local.tzname()}"


def sortable_time(instant: datetime, zone: str) -> str:
    """The same for a spreadsheet column: "2026-10-25 01:30:00 BST"."""
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"
