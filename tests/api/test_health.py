"""Liveness, readiness (database and Temporal) and Prometheus metrics."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.app import create_app
from domain.vocabulary import Role
from infra.settings import Settings
from infra.stack import free_port
from tests.api.conftest import Registered, serving


async def test_healthz_answers_without_authentication(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_the_database_and_temporal_answer(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "temporal": "ok"}}


async def test_not_ready_when_temporal_does_not_answer(
    settings: Settings, engine: AsyncEngine
) -> None:
    nowhere = settings.with_overrides(temporal_address=f"127.0.0.1:{free_port()}")
    async with (
        serving(create_app(nowhere, engine=engine)) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "temporal": "failed"}


async def test_not_ready_when_the_database_is_gone(settings: Settings, temporal: Client) -> None:
    dead = settings.with_overrides(database_url="postgresql://nobody@127.0.0.1:1/none")
    async with (
        serving(create_app(dead, temporal=temporal)) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "failed", "temporal": "ok"}
    assert "nobody" not in response.text


async def test_metrics_count_requests_per_route_template(
    client: httpx.AsyncClient, hub: Registered
) -> None:
    headers = hub.people[Role.ADVISOR].headers
    await client.get("/api/me", headers=headers)
    await client.get(f"/api/agencies/{hub.police}", headers=headers)
    await client.get("/api/me")
    response = await client.get("/metrics")
    assert response.status_code == 200
    text = response.text
    assert 'mashflow_http_requests_total{method="GET",route="/api/me",status="200"}' in text
    assert 'mashflow_http_requests_total{method="GET",route="/api/me",status="401"}' in text
    assert 'route="/api/agencies/{code}"' in text
    assert hub.police not in text  # raw paths never become labels
    assert "mashflow_http_request_duration_seconds_bucket" in text
