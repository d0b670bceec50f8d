"""Hub policy: deadlines by urgency, escalation, the working calendar, retention.

Everything a hub would set is a field with a default, never a constant in a
rule; a hub sets them in its policy file (``infra.policy_file`` reads it into
these models). The defaults follow common protocols: a decision within 4 hours
for red, 24 for amber and 72 for green. Amber and green count working hours
only, so "24 working hours" is about three working days and "72" about nine:
the agencies that hold the information (schools, GP practices, the voluntary
sector) are not staffed out of hours, and a deadline that ran through a
weekend would record misses nobody could have avoided. Red, an immediate risk
of significant harm, runs around the clock. A hub that means "the next working
day" for amber sets amber to 8 hours.
"""

from __future__ import annotations

import calendar as _cal
import hashlib
import json
from datetime import date, datetime, timedelta
from typing import Annotated, NamedTuple, Self

from pydantic import Field, field_validator, model_validator

from domain.calendar import BankHolidayRegion, Duration, WorkingCalendar, as_utc
from domain.frozen import Frozen
from domain.retention_rules import (
    DEFAULT_RETENTION_RULES as DEFAULT_RETENTION_RULES,
)
from domain.retention_rules import RetentionPeriod as RetentionPeriod
from domain.retention_rules import RetentionPolicy as RetentionPolicy
from domain.retention_rules import RetentionRule as RetentionRule
from domain.retention_rules import add_months as add_months
from domain.retention_rules import next_review_on as next_review_on
from domain.retention_rules import retention_anchor_date as retention_anchor_date
from domain.retention_rules import retention_due as retention_due
from domain.vocabulary import (
    DeadlineKind,
    EscalationLevel,
    Rating,
    Role,
)


class RatingWindows(Frozen):
    """One duration per rating; never longer for a more urgent rating."""

    red: Duration
    amber: Duration
    green: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.red <= timedelta(0):
            raise ValueError("windows must be positive")
        if not self.red <= self.amber <= self.green:
            raise ValueError(
                "a more urgent rating may not have a longer window (red <= amber <= green)"
            )
        return self

    def for_rating(self, rating: Rating) -> timedelta:
        return {Rating.RED: self.red, Rating.AMBER: self.amber, Rating.GREEN: self.green}[rating]


def _hours(red: float, amber: float, green: float) -> RatingWindows:
    return RatingWindows(
        red=timedelta(hours=red), amber=timedelta(hours=amber), green=timedelta(hours=green)
    )


class EscalationPoint(Frozen):
    """At this fraction of the time allowed, tell these roles (of the agency, and the hub)."""

    at_fraction: Annotated[float, Field(gt=0, le=1)]
    level: EscalationLevel
    notify: list[Role]


class HubPolicy(Frozen):
    decision: RatingWindows = _hours(4, 24, 72)
    consent: RatingWindows = _hours(1, 8, 24)
    advice: RatingWindows = _hours(1, 4, 8)
    acknowledgement: RatingWindows = _hours(1, 8, 24)
    working_hours_ratings: list[Rating] = [Rating.AMBER, Rating.GREEN]
    """Ratings whose clock stops out of hours; red runs around the clock by default."""
    calendar: WorkingCalendar = WorkingCalendar()
    escalation: list[EscalationPoint] = [
        EscalationPoint(at_fraction=0.75, level=EscalationLevel.WARNING, notify=[Role.ADVISOR]),
        EscalationPoint(
            at_fraction=1.0, level=EscalationLevel.BREACH, notify=[Role.ADVISOR, Role.COORDINATOR]
        ),
    ]
    historical_after: Duration = timedelta(days=365)
    """Items dated before this long ago must be flagged historical when shared."""
    retention: RetentionPolicy = RetentionPolicy()

    @field_validator("working_hours_ratings")
    @classmethod
    def _less_urgent_never_faster(cls, value: list[Rating]) -> list[Rating]:
        # If a rating's clock stops out of hours, so must every less urgent rating's:
        # otherwise a green deadline could fall before an amber one.
        for rating in value:
            if any(r.urgency > rating.urgency and r not in value for r in Rating):
                raise ValueError(
                    f"{rating} counts working hours only, so every less urgent rating must too"
                )
        return sorted(set(value), key=lambda r: r.urgency)

    def windows(self, kind: DeadlineKind) -> RatingWindows:
        return {
            DeadlineKind.DECISION: self.decision,
            DeadlineKind.CONSENT: self.consent,
            DeadlineKind.ADVICE: self.advice,
            DeadlineKind.ACKNOWLEDGEMENT: self.acknowledgement,
        }[kind]

    def counts_working_hours(self, rating: Rating) -> bool:
        return rating in self.working_hours_ratings

    def digest(self) -> str:
        """SHA-256 of the policy's canonical JSON: two policies with one digest set the same
        deadlines, calendar and retention."""
        canonical = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
        ).encode()
        return hashlib.sha256(canonical).hexdigest()

    def describe(self, kind: DeadlineKind, rating: Rating) -> str:
        """The window in words for the screen, saying which clock it runs on:
        "24 working hours (about three working days)", "4 hours, around the clock"."""
        window = self.windows(kind).for_rating(rating)
        if not self.counts_working_hours(rating):
            return f"{_span_text(window)}, around the clock"
        cal = self.calendar
        day = datetime.combine(date.min, cal.day_ends) - datetime.combine(date.min, cal.day_starts)
        days = round(window / day)
        text = _span_text(window, "working ")
        return f"{text} (about {_count(days)} working day{'s' * (days != 1)})" if days else text

    def working_hours_text(self) -> str:
        """The working calendar in words: "09:00 to 17:00, Monday to Friday, Europe/London
        time, not counting bank holidays (england_and_wales)"."""
        cal = self.calendar
        names = [_cal.day_name[d] for d in cal.working_days]
        contiguous = cal.working_days == list(range(cal.working_days[0], cal.working_days[-1] + 1))
        days = f"{names[0]} to {names[-1]}" if contiguous and len(names) > 2 else ", ".join(names)
        region = str(cal.bank_holiday_region).replace("_", " ")
        holidays = (
            "closure days the hub lists"
            if cal.bank_holiday_region is BankHolidayRegion.NONE
            else f"bank holidays in {region.title().replace(' And ', ' and ')}"
        )
        return (
            f"{cal.day_starts:%H:%M} to {cal.day_ends:%H:%M}, {days}, {cal.timezone} time, "
            f"not counting {holidays}"
        )


class DeadlineWords(NamedTuple):
    """A policy's decision deadlines in words, for the screens."""

    by_rating: dict[str, str]
    working_hours: str


def deadline_words(policy: HubPolicy) -> DeadlineWords:
    return DeadlineWords(
        by_rating={str(r): policy.describe(DeadlineKind.DECISION, r) for r in Rating},
        working_hours=policy.working_hours_text(),
    )


_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _count(n: int) -> str:
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def _span_text(window: timedelta, kind: str = "") -> str:
    hours = window / timedelta(hours=1)
    if hours >= 1 and hours == int(hours):
        return f"{int(hours)} {kind}hour{'s' * (hours != 1)}"
    minutes = round(window / timedelta(minutes=1))
    return f"{minutes} {kind}minute{'s' * (minutes != 1)}"


DEFAULT_POLICY = HubPolicy()


# --- deadlines ---------------------------------------------------------------


def clock_add(start: datetime, duration: timedelta, rating: Rating, policy: HubPolicy) -> datetime:
    """Add time on the rating's clock: working hours only, or around the clock."""
    if policy.counts_working_hours(rating):
        return policy.calendar.add(start, duration)
    return as_utc(start) + duration


def clock_between(start: datetime, end: datetime, rating: Rating, policy: HubPolicy) -> timedelta:
    if policy.counts_working_hours(rating):
        return policy.calendar.working_time_between(start, end)
    return max(as_utc(end) - as_utc(start), timedelta(0))


def deadline(
    opened_at: datetime,
    rating: Rating,
    policy: HubPolicy = DEFAULT_POLICY,
    kind: DeadlineKind = DeadlineKind.DECISION,
) -> datetime:
    """When a step opened at ``opened_at`` is due, on the rating's clock (UTC)."""
    return clock_add(opened_at, policy.windows(kind).for_rating(rating), rating, policy)


def rerated_deadline(
    opened_at: datetime,
    current_due_at: datetime,
    previous: Rating,
    rating: Rating,
    rerated_at: datetime,
    policy: HubPolicy = DEFAULT_POLICY,
) -> datetime:
    """The decision deadline after a re-rating.

    More urgent: the new, shorter window runs from the re-rating, because the
    agencies learn of the urgency only then; but it never lengthens the
    deadline already running. Less urgent (or the same): the new window runs
    from the opening, because the subject has been waiting since then and the
    work already done counts; it never shortens the running deadline.
    """
    if rating.urgency < previous.urgency:
        return min(as_utc(current_due_at), deadline(rerated_at, rating, policy))
    return max(as_utc(current_due_at), deadline(opened_at, rating, policy))


def escalation_schedule(
    start: datetime, due_at: datetime, rating: Rating, policy: HubPolicy = DEFAULT_POLICY
) -> list[tuple[EscalationPoint, datetime]]:
    """When each escalation point falls between ``start`` and ``due_at``, on the rating's clock."""
    allowed = clock_between(start, due_at, rating, policy)
    points = sorted(policy.escalation, key=lambda p: p.at_fraction)
    schedule = []
    for point in points:
        at = (
            due_at
            if point.at_fraction >= 1
            else clock_add(start, allowed * point.at_fraction, rating, policy)
        )
        schedule.append((point, min(as_utc(at), as_utc(due_at))))
    return schedule
