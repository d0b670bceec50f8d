"""The worker's metrics for Prometheus: the Temporal SDK's own and the hub's business figures.

Served at ``http://MASHFLOW_WORKER_METRICS_ADDRESS/metrics`` by the SDK's runtime
(unset: no endpoint). On the same endpoint:

- the SDK's metrics (``temporal_*``: task queue polls, workflow and activity task
  latencies, sticky cache size and evictions, ...);
- ``mashflow_escalations`` and ``mashflow_deadlines_missed``, counted by the decision
  workflows as they record them (``workflows.decision_watch``), labelled by agency
  code, deadline kind and level;
- ``mashflow_requests_open`` (by rating) and ``mashflow_decisions_late`` (decisions
  not made whose deadline has passed, by agency), read from the read models every
  ``interval_s`` by :class:`BusinessGauges`.

Labels are ratings, agency codes of the register and fixed words: never an id.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.common import MetricMeter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from domain.vocabulary import Rating

log = structlog.get_logger(__name__)

REFRESH_S = 15.0

_OPEN = "SELECT rating, count(*) FROM rm_requests WHERE status = 'open' GROUP BY rating"
_LATE = """
    SELECT d.agency, count(*)
    FROM rm_agency_decisions d JOIN rm_requests r USING (request_id)
    WHERE d.decided_at IS NULL AND d.status <> 'withdrawn' AND r.status = 'open'
      AND d.decision_due_at < now()
    GROUP BY d.agency
"""


def prometheus_runtime(address: str) -> Runtime:
    """A Temporal runtime that serves its metrics (and ours) at ``address``."""
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


class BusinessGauges:
    """Requests open by rating and decisions late by agency, from the read models."""

    def __init__(self, meter: MetricMeter, engine: AsyncEngine, interval_s: float = REFRESH_S):
        self._engine = engine
        self.interval_s = interval_s
        self._open = meter.create_gauge("mashflow_requests_open", "Requests open, by rating.")
        self._late = meter.create_gauge(
            "mashflow_decisions_late", "Decisions not made whose deadline has passed, by agency."
        )
        self._late_agencies: set[str] = set()
        self._stop = asyncio.Event()

    async def refresh(self) -> None:
        async with self._engine.connect() as conn:
            opened = {str(r): int(n) for r, n in (await conn.execute(text(_OPEN))).all()}
            late = {str(a): int(n) for a, n in (await conn.execute(text(_LATE))).all()}
        for rating in Rating:
            self._open.set(opened.get(rating.value, 0), {"rating": rating.value})
        for agency in self._late_agencies | set(late):  # an agency no longer late reads 0
            self._late.set(late.get(agency, 0), {"agency": agency})
        self._late_agencies |= set(late)

    async def run(self) -> None:
        """Refresh until :meth:`stop`; a failed refresh is logged and the last values stay."""
        while not self._stop.is_set():
            try:
                await self.refresh()
            except Exception:
                log.exception("worker_metrics_refresh_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval_s)

    def stop(self) -> None:
        self._stop.set()
