"""The dashboard's figures as Prometheus gauges, refreshed at each scrape of ``/metrics``.

Labels are agency codes (the register's), ratings and fixed words: a bounded set,
never an id. The figures cover decisions made in the last 30 days, as the dashboard
page shows by default; response times are in seconds, as Prometheus expects.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from prometheus_client import CollectorRegistry, Gauge

from app.dashboard import DEFAULT_PERIOD, Dashboard

log = structlog.get_logger(__name__)


class DashboardGauges:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.answered = Gauge(
            "mashflow_agency_decisions_answered",
            "Decisions an agency made in the last 30 days, on time or late.",
            ["agency", "timeliness"],
            registry=registry,
        )
        self.overdue = Gauge(
            "mashflow_agency_decisions_overdue",
            "Decisions an agency has not made and whose deadline has passed.",
            ["agency"],
            registry=registry,
        )
        self.response = Gauge(
            "mashflow_agency_response_seconds",
            "Time from a request's opening to an agency's decision, last 30 days: "
            "median (quantile 0.5) and 90th percentile (0.9), by rating.",
            ["agency", "rating", "quantile"],
            registry=registry,
        )

    async def refresh(self, dashboard: Dashboard) -> None:
        """Set every gauge from the read models now (agencies gone from the figures are
        dropped). A failure is logged and leaves the last values: metrics still serve."""
        now = datetime.now(UTC)
        try:
            found = await dashboard.figures(now - DEFAULT_PERIOD, now, now)
        except Exception:
            log.exception("dashboard_metrics_refresh_failed")
            return
        for gauge in (self.answered, self.overdue, self.response):
            gauge.clear()
        for a in found.agencies:
            self.answered.labels(a.agency, "on_time").set(a.answered_on_time)
            self.answered.labels(a.agency, "late").set(a.answered_late)
            self.overdue.labels(a.agency).set(a.overdue_now)
            for t in a.by_rating:
                for quantile, seconds in (("0.5", t.median_seconds), ("0.9", t.p90_seconds)):
                    if seconds is not None:
                        self.response.labels(a.agency, t.rating.value, quantile).set(seconds)
