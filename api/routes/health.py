"""Liveness, readiness and metrics, for orchestrators and Prometheus (metrics: see settings)."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import ServicesDep
from api.schemas.health import CheckResult, LiveResponse, ReadyResponse
from app.dashboard import Dashboard
from infra.auth import Unauthenticated
from infra.health import check_database

router = APIRouter(tags=["operations"])

PROBE_TIMEOUT_S = 3.0


@router.get("/healthz", response_model=LiveResponse)
async def healthz() -> LiveResponse:
    """The process is up (it does not look at its dependencies: see /readyz)."""
    return LiveResponse()


@router.get(
    "/readyz",
    response_model=ReadyResponse,
    responses={503: {"model": ReadyResponse, "description": "A dependency is unreachable."}},
)
async def readyz(services: ServicesDep) -> Response:
    """The database and Temporal answer (so commands can be served); 503 with the failing
    check otherwise."""
    checks: dict[str, CheckResult] = {
        "database": await _probe(check_database(services.engine)),
        "temporal": await _probe(services.temporal.service_client.check_health()),
    }
    ready = all(result != "failed" for result in checks.values())
    body = ReadyResponse(status="ready" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


async def _probe(check: Awaitable[object]) -> CheckResult:
    try:
        await asyncio.wait_for(check, PROBE_TIMEOUT_S)
    except Exception:
        return "failed"
    return "ok"


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(services: ServicesDep, request: Request) -> Response:
    """Prometheus exposition: request counts and latencies per route template, and the hub
    dashboard's figures per agency (``mashflow_agency_*``). With MASHFLOW_METRICS_TOKEN set,
    only for requests bearing that token."""
    expected = services.settings.metrics_token
    if expected is not None:
        given = request.headers.get("authorization", "")
        wanted = f"Bearer {expected.get_secret_value()}"
        if not hmac.compare_digest(given.encode(), wanted.encode()):
            raise Unauthenticated("/metrics needs the metrics token")
    await services.metrics.dashboard.refresh(Dashboard(services.engine))
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
