"""The hub dashboard: each agency's answers and response times, as JSON and as a page.

``GET /api/dashboard?start=&end=`` (ISO 8601 instants; default the last 30 days) and
the page ``/dashboard?days=7|30|90|365``: coordinators, advisors (agency managers)
and compliance officers. The page names each agency as the register does; the JSON and
the metrics keep the codes, for other tools. The same figures are Prometheus gauges (``/metrics``,
refreshed from :mod:`api.dashboard_metrics` at each scrape).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from api.charts import answers_chart, times_chart
from api.deps import (
    CsrfToken,
    DashboardViewer,
    PagePrincipal,
    ServicesDep,
    csrf_protect,
    require_page,
)
from api.problems import problem_responses
from api.rendering import render
from app.dashboard import DEFAULT_PERIOD, MAX_PERIOD, Dashboard, HubDashboard
from app.timetext import span
from domain.errors import ValidationFailed
from domain.permissions import Action
from domain.vocabulary import Rating

router = APIRouter(prefix="/api", tags=["dashboard"])
pages = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Viewer = DashboardViewer
PERIODS = (7, 30, 90, 365)
"""The page's choice of period, in days up to now."""

_AUTH = problem_responses(401, 403, 422)


@router.get("/dashboard", response_model=HubDashboard, responses=_AUTH)
async def dashboard(
    _: Viewer,
    services: ServicesDep,
    start: Annotated[
        datetime | None, Query(description="From (inclusive); ISO 8601 with a zone, from 1900.")
    ] = None,
    end: Annotated[
        datetime | None, Query(description="To (exclusive); ISO 8601 with a zone; default now.")
    ] = None,
) -> HubDashboard:
    """Per agency: decisions answered in the period on time and late, overdue now, and
    the median and 90th percentile response time (opening to decision) by rating."""
    now = datetime.now(UTC)
    end = now if end is None else _aware(end, "end")
    start = end - DEFAULT_PERIOD if start is None else _aware(start, "start")
    if start >= end:
        raise ValidationFailed("start", "must be before end")
    if end - start > MAX_PERIOD:
        raise ValidationFailed("start", "the period can be at most five years")
    return await Dashboard(services.engine).figures(start, end, now)


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
"""The earliest instant asked about: the default period is counted back from ``end``, and
an instant near year 1 (or 9999) in another zone is not a day in UTC at all."""
OUT_OF_RANGE = "must fall between the years 1900 and 9999 (UTC)"


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise ValidationFailed(field, "needs a time zone, for example 2026-12-01T00:00:00Z")
    try:
        instant = value.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed(field, OUT_OF_RANGE) from None
    if instant < EARLIEST:
        raise ValidationFailed(field, OUT_OF_RANGE)
    return instant


@pages.get("/dashboard")
async def dashboard_page(
    services: ServicesDep,
    request: Request,
    principal: PagePrincipal,
    csrf: CsrfToken,
    days: int = 30,
) -> Response:
    require_page(principal, Action.SEE_DASHBOARD)
    if days not in PERIODS:
        days = 30
    now = datetime.now(UTC)
    found = await Dashboard(services.engine).figures(now - DEFAULT_PERIOD * days / 30, now, now)
    ratings = sorted(Rating, key=lambda r: r.urgency)
    names = {a.code: a.name for a in await services.agencies.list()}
    return render(
        services,
        request,
        "dashboard.html",
        principal=principal,
        csrf=csrf,
        dashboard=found,
        days=days,
        periods=PERIODS,
        ratings=ratings,
        names=names,
        answers_chart=answers_chart(found.agencies, names),
        times_charts=[(r, times_chart(found.agencies, r, names)) for r in ratings],
        duration=duration,
    )


def duration(seconds: float | None) -> str:
    """A response time in words ("2 h 30 min"), or "none answered"."""
    return "none answered" if seconds is None else span(timedelta(seconds=seconds))
