"""Hub policy: deadlines by urgency, escalation, the working calendar, retention.

Everything a hub would set is a field with a default, never a constant in a
rule. The defaults follow common protocols: a decision within 4 hours for red,
24 for amber and 72 for green, with amber and green counted in working hours
only (the clock stops out of hours) and red around the clock. A hub that
means "the next working day" for amber sets amber to 8 hours.
"""

from __future__ import annotations

import calendar as _cal
from datetime import date, datetime, timedelta
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.calendar import WorkingCalendar, as_utc
from domain.errors import ValidationFailed
from domain.vocabulary import (
    DeadlineKind,
    EscalationLevel,
    Rating,
    RecordType,
    RetentionAnchor,
    Role,
)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RatingWindows(Frozen):
    """One duration per rating; never longer for a more urgent rating."""

    red: timedelta
    amber: timedelta
    green: timedelta

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


class RetentionPeriod(Frozen):
    years: Annotated[int, Field(ge=0, le=200)] = 0
    months: Annotated[int, Field(ge=0, le=11)] = 0

    def after(self, day: date) -> date:
        return add_months(day, self.years * 12 + self.months)


class RetentionRule(Frozen):
    record_type: RecordType
    period: RetentionPeriod
    anchor: RetentionAnchor
    review_every: RetentionPeriod | None = None
    """Long-kept records are reviewed at this interval before the period ends."""

    @field_validator("review_every")
    @classmethod
    def _interval_not_zero(cls, value: RetentionPeriod | None) -> RetentionPeriod | None:
        if value is not None and value == RetentionPeriod():
            raise ValueError("a review interval must be longer than zero")
        return value


class RetentionPolicy(Frozen):
    review_within: timedelta = timedelta(days=28)
    """A review's decision is due this long after it opens; past it, compliance escalates."""
    rules: list[RetentionRule] = [
        RetentionRule(
            record_type=RecordType.SHARED_DECISION,
            period=RetentionPeriod(years=35),
            anchor=RetentionAnchor.CASE_CLOSED,
            review_every=RetentionPeriod(years=5),
        ),
        RetentionRule(
            record_type=RecordType.NOT_SHARED_DECISION,
            period=RetentionPeriod(years=6),
            anchor=RetentionAnchor.SUBJECT_18TH_BIRTHDAY,
        ),
        RetentionRule(
            record_type=RecordType.WITHDRAWN_REQUEST,
            period=RetentionPeriod(years=2),
            anchor=RetentionAnchor.CASE_CLOSED,
        ),
        RetentionRule(
            record_type=RecordType.PACKAGE,
            period=RetentionPeriod(years=1),
            anchor=RetentionAnchor.DECISION_DATE,
        ),
    ]

    @field_validator("rules")
    @classmethod
    def _one_rule_per_type(cls, value: list[RetentionRule]) -> list[RetentionRule]:
        types = [r.record_type for r in value]
        if sorted(types) != sorted(set(RecordType)) or len(types) != len(set(types)):
            raise ValueError("give exactly one retention rule for each record type")
        return value

    def rule_for(self, record_type: RecordType) -> RetentionRule:
        return next(r for r in self.rules if r.record_type is record_type)


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
    historical_after: timedelta = timedelta(days=365)
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


# --- retention ---------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """Calendar months later; the 29th of February (or a 31st) falls back to the month's end."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, _cal.monthrange(year, month)[1]))


def retention_anchor_date(
    anchor: RetentionAnchor,
    *,
    case_closed_on: date | None = None,
    subject_born_on: date | None = None,
    decided_on: date | None = None,
) -> date:
    """The date a retention period runs from. The birth date is used, never stored."""
    if anchor is RetentionAnchor.CASE_CLOSED:
        value, field = case_closed_on, "case_closed_on"
    elif anchor is RetentionAnchor.DECISION_DATE:
        value, field = decided_on, "decided_on"
    else:
        field = "subject_born_on"
        value = add_months(subject_born_on, 18 * 12) if subject_born_on else None
    if value is None:
        raise ValidationFailed(field, f"needed to compute retention anchored on {anchor}")
    return value


def retention_due(rule: RetentionRule, anchor_date: date) -> date:
    """The day the retention period ends and the record must be reviewed for disposal."""
    return rule.period.after(anchor_date)


def next_review_on(rule: RetentionRule, anchor_date: date, after: date) -> date:
    """The first scheduled review strictly after ``after``.

    Reviews fall at each interval counted from the anchor, and finally on the
    day the period ends. Once that day has passed the review is overdue, and
    the due date itself is returned.
    """
    due = retention_due(rule, anchor_date)
    if rule.review_every is None or after >= due:
        return due
    step = rule.review_every.years * 12 + rule.review_every.months
    k = 1
    while (review := add_months(anchor_date, k * step)) <= after:
        k += 1
    return min(review, due)
