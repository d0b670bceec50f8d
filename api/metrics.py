"""Prometheus metrics: request count and latency per route template (never per raw path).

Each app has its own registry, so several apps in one process (tests) never
collide, and a raw path (which could hold an id) never becomes a label.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.dashboard_metrics import DashboardGauges

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""The method label's values; any other method is counted as ``OTHER``, so a client
sending made-up methods cannot grow the label set."""


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "mashflow_http_requests",
            "HTTP requests handled, by route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "mashflow_http_request_duration_seconds",
            "Time to handle an HTTP request, by route template.",
            ["method", "route"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.dashboard = DashboardGauges(registry)
        """The hub dashboard's figures, refreshed when ``/metrics`` is scraped."""


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            # The router records the matched route in the scope; unmatched paths share a label.
            route = getattr(scope.get("route"), "path", "unmatched")
            method = str(scope.get("method", ""))
            method = method if method in METHODS else "OTHER"
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
