"""Retention policy: how long each record type is kept, counted from what, reviewed when.

Part of the hub policy (``domain.policy.HubPolicy.retention``), set in the hub's
policy file. Pure date arithmetic: the anchors and periods, never a constant
in a rule.
"""

from __future__ import annotations

import calendar as _cal
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import Field, field_validator

from domain.calendar import Duration
from domain.errors import ValidationFailed
from domain.frozen import Frozen
from domain.vocabulary import RecordType, RetentionAnchor


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


DEFAULT_RETENTION_RULES = (
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
    # Allegations against people who work with children: statutory guidance keeps these
    # until the person reaches normal pension age or for ten years, whichever is longer,
    # and inquiries have asked that nothing bearing on child abuse be destroyed early. The
    # hub rarely knows the person's age, so the default covers someone accused at 18
    # (about 50 years to pension age) and is reviewed every ten years, when a compliance
    # officer who knows more may dispose of it sooner.
    RetentionRule(
        record_type=RecordType.ALLEGATION_AGAINST_STAFF,
        period=RetentionPeriod(years=50),
        anchor=RetentionAnchor.CASE_CLOSED,
        review_every=RetentionPeriod(years=10),
    ),
)


class RetentionPolicy(Frozen):
    review_within: Duration = timedelta(days=28)
    """A review's decision is due this long after it opens; past it, compliance escalates."""
    rules: list[RetentionRule] = list(DEFAULT_RETENTION_RULES)
    """One rule per record type. A record type the list leaves out keeps its default rule
    (so a policy written, or recorded, before a record type existed still covers it)."""

    @field_validator("rules", mode="before")
    @classmethod
    def _defaults_for_the_rest(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        given = {
            (r.record_type if isinstance(r, RetentionRule) else r.get("record_type"))
            for r in value
            if isinstance(r, RetentionRule | dict)
        }
        missing = [r for r in DEFAULT_RETENTION_RULES if str(r.record_type) not in given]
        return [*value, *missing]

    @field_validator("rules")
    @classmethod
    def _one_rule_per_type(cls, value: list[RetentionRule]) -> list[RetentionRule]:
        types = [r.record_type for r in value]
        for record_type in types:
            if types.count(record_type) > 1:
                raise ValueError(f"{record_type} has more than one retention rule; give one")
        return sorted(value, key=lambda r: list(RecordType).index(r.record_type))

    def rule_for(self, record_type: RecordType) -> RetentionRule:
        return next(r for r in self.rules if r.record_type is record_type)


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
    """The date a retention period runs from. The birth date is used, never stored.

    Counted from the 18th birthday, the period runs from the case closing instead when
    that is later: a record about someone already an adult is kept its full period after
    the case, never found due the day it closes.
    """
    if anchor is RetentionAnchor.CASE_CLOSED:
        value, field = case_closed_on, "case_closed_on"
    elif anchor is RetentionAnchor.DECISION_DATE:
        value, field = decided_on, "decided_on"
    else:
        field = "subject_born_on"
        value = add_months(subject_born_on, 18 * 12) if subject_born_on else None
        if value is not None and case_closed_on is not None:
            value = max(value, case_closed_on)
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
