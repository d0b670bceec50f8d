"""The web edge over real HTTP: body size, metrics labels and access, production headers,
and the keys production refuses."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.app import create_app
from infra.settings import ConfigurationError, Environment, Settings, load_settings
from tests.api.support import patient, serving
from tests.conftest import TEST_KEK


@contextlib.asynccontextmanager
async def app_with(
    settings: Settings, engine: AsyncEngine, temporal: Client, **overrides: object
) -> AsyncIterator[httpx.AsyncClient]:
    own = patient(settings).with_overrides(**overrides)
    async with (
        serving(create_app(own, engine=engine, temporal=temporal)) as url,
        httpx.AsyncClient(base_url=url, timeout=20) as client,
    ):
        yield client


async def test_an_oversized_body_is_refused_with_413_before_it_is_read(
    settings: Settings, engine: AsyncEngine, temporal: Client
) -> None:
    async with app_with(settings, engine, temporal, max_request_body_bytes=64 * 1024) as client:
        declared = await client.post(
            "/signin",
            content=b"token=" + b"x" * (2 * 1024 * 1024),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert declared.status_code == 413
        assert declared.headers["content-type"].startswith("application/problem+json")
        assert "over 65536 bytes" in declared.json()["detail"]

        # No Content-Length: a chunked body, refused once it passes the limit. Written on a
        # socket of its own, whole, before the answer is read.
        host, port = str(client.base_url.host), int(client.base_url.port or 80)
        reader, writer = await asyncio.open_connection(host, port)
        chunk = b"y" * 1024
        body = b"".join(b"400\r\n" + chunk + b"\r\n" for _ in range(66)) + b"0\r\n\r\n"
        writer.write(
            b"POST /api/requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + body
        )
        await writer.drain()
        status = await reader.readline()
        writer.close()
        assert status.split()[1] == b"413", status
        small = await client.post("/signin", data={"token": "x"})
        assert small.status_code != 413


async def test_made_up_methods_share_one_metrics_label(
    settings: Settings, engine: AsyncEngine, temporal: Client
) -> None:
    async with app_with(settings, engine, temporal) as client:
        for n in range(5):
            await client.request(f"FOO{n}", "/healthz")
        text = (await client.get("/metrics")).text
    assert 'method="OTHER"' in text
    assert "FOO" not in text


async def test_metrics_can_require_a_token(
    settings: Settings, engine: AsyncEngine, temporal: Client
) -> None:
    secret = "metrics-" + "k3y" * 8
    async with app_with(settings, engine, temporal, metrics_token=SecretStr(secret)) as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await client.get("/metrics", headers={"authorization": f"Bearer {secret}"})
        assert right.status_code == 200 and "mashflow_http_requests" in right.text


async def test_production_serves_no_docs_and_sends_hsts(
    settings: Settings, engine: AsyncEngine, temporal: Client
) -> None:
    async with app_with(settings, engine, temporal) as client:
        dev = await client.get("/healthz")
        assert "strict-transport-security" not in dev.headers
        assert (await client.get("/docs")).status_code == 200
    production = {
        "environment": Environment.PRODUCTION,
        "temporal_address": "127.0.0.1:7233",
        "kek": SecretStr("7nC9XgKc1Jb0y3tQx8uVfLr2Wd6sHe4aZq5mPoNiYkE="),
        # The shared test database may hold agencies' keys wrapped under the tests' KEK
        # (whichever tests ran before): a production start then needs it as the previous.
        "kek_previous": settings.kek,
    }
    async with app_with(settings, engine, temporal, **production) as client:
        live = await client.get("/healthz")
        assert live.headers["strict-transport-security"].startswith("max-age=")
        assert (await client.get("/docs")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 404


def production(**values: object) -> Settings:
    return load_settings(
        environment="production",
        database_url="postgresql://app@db/mashflow",
        temporal_address="temporal:7233",
        **values,
    )


@pytest.mark.parametrize(
    ("kek", "reason"),
    [
        (TEST_KEK, "published key"),
        ("AAECAwABAgMAAQIDAAECAwABAgMAAQIDAAECAwABAgM=", "too little entropy"),  # 0123 repeated
        ("AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8=", "too little entropy"),  # 16 repeated
    ],
)
def test_production_refuses_a_known_or_weak_kek(kek: str, reason: str) -> None:
    with pytest.raises(ConfigurationError, match=reason):
        production(kek=kek)
