"""The hub dashboard: how each holding agency answers, over a chosen period.

Per agency: decisions answered in the period on time and late, decisions overdue
now, and the median and 90th percentile response time (from the request's opening
to the agency's decision) for each rating. Read from the request read models
(``rm_requests``, ``rm_agency_decisions``: the projection of the event log kept by
``infra.readmodels``), so the figures are those the log gives; they hold agency
codes, ratings and instants only, no personal data.

A decision counts in the period when it was made in it (``start <= decided_at <
end``); its rating is the request's current one (a re-rating moves the deadline too).
Withdrawn agencies' decisions are left out. Overdue now: not yet decided, the
request still open, and its deadline passed by ``now``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.permissions import Action, roles_for
from domain.vocabulary import Rating

VIEWERS = roles_for(Action.SEE_DASHBOARD)
"""Who may see the dashboard (:mod:`domain.permissions`): the hub's coordinators, agency
managers (advisors) and compliance officers. Its figures are per agency and hold nothing
about anyone."""

DEFAULT_PERIOD = timedelta(days=30)
MAX_PERIOD = timedelta(days=366 * 5)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of ``values`` by linear interpolation between the
    closest ranks (as PostgreSQL's ``percentile_cont`` and Python's
    ``statistics.quantiles(method="inclusive")``); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class RatingTimes(BaseModel):
    """Response times of one agency's decisions of one rating, in the period."""

    rating: Rating
    answered: int
    median_seconds: float | None
    p90_seconds: float | None


class AgencyFigures(BaseModel):
    agency: str
    answered_on_time: int
    answered_late: int
    overdue_now: int
    by_rating: list[RatingTimes]
    """One entry per rating, red first (zero answered: no times)."""

    @property
    def answered(self) -> int:
        return self.answered_on_time + self.answered_late


class HubDashboard(BaseModel):
    start: datetime
    end: datetime
    now: datetime
    agencies: list[AgencyFigures]
    """Every agency asked for a decision that answered in the period or is overdue now,
    by agency code."""


_ANSWERED = """
    SELECT d.agency, r.rating, d.on_time,
           extract(epoch FROM d.decided_at - r.opened_at) AS seconds
    FROM rm_agency_decisions d JOIN rm_requests r USING (request_id)
    WHERE d.decided_at >= :start AND d.decided_at < :end AND d.status <> 'withdrawn'
"""
_OVERDUE = """
    SELECT d.agency, count(*) AS overdue
    FROM rm_agency_decisions d JOIN rm_requests r USING (request_id)
    WHERE d.decided_at IS NULL AND d.status <> 'withdrawn' AND r.status = 'open'
      AND d.decision_due_at < :now
    GROUP BY d.agency
"""


def figures(
    answered: Sequence[tuple[str, str, bool, float]], overdue: dict[str, int]
) -> list[AgencyFigures]:
    """Per-agency figures from decisions answered (agency, rating, on time, seconds taken)
    and counts overdue now. Pure: the test computes its expectation from the log the same
    way and checks the two agree."""
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    on_time: dict[str, int] = defaultdict(int)
    late: dict[str, int] = defaultdict(int)
    for agency, rating, in_time, seconds in answered:
        times[(agency, rating)].append(seconds)
        if in_time:
            on_time[agency] += 1
        else:
            late[agency] += 1
    codes = sorted({a for a, *_ in answered} | set(overdue))
    return [
        AgencyFigures(
            agency=code,
            answered_on_time=on_time[code],
            answered_late=late[code],
            overdue_now=overdue.get(code, 0),
            by_rating=[
                RatingTimes(
                    rating=rating,
                    answered=len(times[(code, rating.value)]),
                    median_seconds=percentile(times[(code, rating.value)], 0.5),
                    p90_seconds=percentile(times[(code, rating.value)], 0.9),
                )
                for rating in sorted(Rating, key=lambda r: r.urgency)
            ],
        )
        for code in codes
    ]


class Dashboard:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def figures(self, start: datetime, end: datetime, now: datetime) -> HubDashboard:
        """The figures for decisions made in ``[start, end)`` and overdue at ``now``."""
        async with self.engine.connect() as conn:
            answered = (await conn.execute(text(_ANSWERED), {"start": start, "end": end})).all()
            overdue = (await conn.execute(text(_OVERDUE), {"now": now})).all()
        return HubDashboard(
            start=start,
            end=end,
            now=now,
            agencies=figures(
                [(r.agency, r.rating, bool(r.on_time), float(r.seconds)) for r in answered],
                {r.agency: int(r.overdue) for r in overdue},
            ),
        )
