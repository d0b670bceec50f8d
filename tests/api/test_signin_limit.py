"""Failed sign-ins are limited per address and per credential: after N failures within the
window, further failures answer 429 with Retry-After, on the web form and the bearer API
alike; a valid token is never refused for them; X-Forwarded-For is believed only from the
trusted proxies; nothing of the tokens is logged."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs
from temporalio.client import Client

from api.app import create_app
from domain.vocabulary import Role
from infra.auth import FailedSignIns, TooManyFailures
from infra.settings import Settings
from tests.api.conftest import Registered, serving
from tests.api.test_pages import csrf_of

WRONG = [f"mf_{i:016x}_" + "Q" * 43 for i in range(6)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_refuses_a_client_after_its_limit_within_the_window() -> None:
    clock = Clock()
    limiter = FailedSignIns(3, 60, clock=clock)
    for _ in range(3):
        limiter.check("10.0.0.1")
        limiter.failed("10.0.0.1")
        clock.now += 10
    with pytest.raises(TooManyFailures) as refused:
        limiter.check("10.0.0.1")
    assert refused.value.retry_after_s == 30  # the first failure leaves the window then
    limiter.check("10.0.0.2")  # another client is not affected


def test_the_window_slides() -> None:
    clock = Clock()
    limiter = FailedSignIns(2, 60, clock=clock)
    limiter.failed("c")
    clock.now += 50
    limiter.failed("c")
    with pytest.raises(TooManyFailures):
        limiter.check("c")
    clock.now += 10.5  # the first failure is now older than the window
    limiter.check("c")
    limiter.failed("c")
    with pytest.raises(TooManyFailures) as refused:
        limiter.check("c")
    assert refused.value.retry_after_s == 50


def test_forgets_the_longest_idle_clients_beyond_its_bound() -> None:
    clock = Clock()
    limiter = FailedSignIns(1, 60, max_clients=2, clock=clock)
    for client in ("a", "b", "c"):
        limiter.failed(client)
    limiter.check("a")  # forgotten
    for client in ("b", "c"):
        with pytest.raises(TooManyFailures):
            limiter.check(client)


@contextlib.asynccontextmanager
async def limited_app(
    settings: Settings,
    engine: AsyncEngine,
    temporal: Client,
    *,
    limit: int = 3,
    window_s: int = 60,
    trusted_proxies: tuple[str, ...] = (),
) -> AsyncIterator[httpx.AsyncClient]:
    strict = settings.with_overrides(
        signin_failure_limit=limit,
        signin_failure_window_s=window_s,
        trusted_proxies=trusted_proxies,
    )
    async with (
        serving(create_app(strict, engine=engine, temporal=temporal)) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_api_answers_429_with_retry_after_and_logs_no_token(
    settings: Settings, engine: AsyncEngine, temporal: Client, hub: Registered
) -> None:
    valid = hub.people[Role.COORDINATOR].token
    async with limited_app(settings, engine, temporal) as client:
        with capture_logs() as logs:
            for token in WRONG[:3]:
                assert (await client.get("/api/me", headers=bearer(token))).status_code == 401
            refused = await client.get("/api/me", headers=bearer(WRONG[3]))
            right_but_late = await client.get("/api/me", headers=bearer(valid))
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["status"] == 429 and "too many failed sign-ins" in problem["detail"]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert right_but_late.status_code == 200  # a valid token: never refused for them
        assert (await client.get("/api/me")).status_code == 401  # no token: not a guess
        assert [e["event"] for e in logs].count("sign_in_rate_limited") == 1
        assert [e["event"] for e in logs].count("sign_in_failed") == 3
        logged = repr(logs)
        for token in [*WRONG[:4], valid]:
            assert token not in logged and token[:20] not in logged


async def test_the_sign_in_form_answers_429_and_counts_with_the_api(
    settings: Settings, engine: AsyncEngine, temporal: Client, hub: Registered
) -> None:
    valid = hub.people[Role.ADVISOR].token
    async with limited_app(settings, engine, temporal) as client:
        form = await client.get("/signin", headers={"accept": "text/html"})
        for token in WRONG[:3]:
            page = await client.post("/signin", data={"token": token, "csrf_token": csrf_of(form)})
            assert page.status_code == 401
        refused = await client.post(
            "/signin", data={"token": WRONG[3], "csrf_token": csrf_of(form)}
        )
        assert refused.status_code == 429
        assert "too many failed sign-ins" in refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "mashflow_session" not in refused.headers.get("set-cookie", "")
        api = await client.get("/api/me", headers=bearer(WRONG[4]))
        assert api.status_code == 429  # the same address, whichever door it knocks on
        signed_in = await client.post("/signin", data={"token": valid, "csrf_token": csrf_of(form)})
        assert signed_in.status_code in {200, 303}
        assert "mashflow_session" in signed_in.headers.get("set-cookie", "")


async def test_failures_answer_401_again_once_the_window_has_passed(
    settings: Settings, engine: AsyncEngine, temporal: Client
) -> None:
    async with limited_app(settings, engine, temporal, limit=2, window_s=1) as client:
        for token in WRONG[:2]:
            assert (await client.get("/api/me", headers=bearer(token))).status_code == 401
        assert (await client.get("/api/me", headers=bearer(WRONG[2]))).status_code == 429
        await asyncio.sleep(1.1)
        assert (await client.get("/api/me", headers=bearer(WRONG[3]))).status_code == 401


async def test_a_forged_forwarded_for_does_not_reset_the_count(
    settings: Settings, engine: AsyncEngine, temporal: Client
) -> None:
    async with limited_app(settings, engine, temporal) as client:
        for n, token in enumerate(WRONG[:3]):
            spoofed = bearer(token) | {"x-forwarded-for": f"203.0.113.{n}"}
            assert (await client.get("/api/me", headers=spoofed)).status_code == 401
        fresh = bearer(WRONG[3]) | {"x-forwarded-for": "198.51.100.7"}
        assert (await client.get("/api/me", headers=fresh)).status_code == 429


async def test_a_trusted_proxys_forwarded_for_counts_per_client_and_per_credential(
    settings: Settings, engine: AsyncEngine, temporal: Client, hub: Registered
) -> None:
    valid = hub.people[Role.RECIPIENT].token
    token_id = valid.split("_")[1]
    async with limited_app(settings, engine, temporal, trusted_proxies=("127.0.0.1",)) as client:
        # Through the proxy, each client is counted on its own address.
        for n, token in enumerate(WRONG[:3]):
            one = bearer(token) | {"x-forwarded-for": "203.0.113.1"}
            assert (await client.get("/api/me", headers=one)).status_code == 401, n
        other = bearer(WRONG[3]) | {"x-forwarded-for": "203.0.113.2"}
        assert (await client.get("/api/me", headers=other)).status_code == 401
        # Guesses at one person's secret add up whatever address they come from...
        for n in range(3):
            guess = f"mf_{token_id}_" + "G" * 43
            forwarded = bearer(guess) | {"x-forwarded-for": f"198.51.100.{n}"}
            assert (await client.get("/api/me", headers=forwarded)).status_code == 401
        late = bearer(f"mf_{token_id}_" + "H" * 43) | {"x-forwarded-for": "198.51.100.9"}
        assert (await client.get("/api/me", headers=late)).status_code == 429
        # ...and still never lock that person out.
        own = bearer(valid) | {"x-forwarded-for": "203.0.113.1"}
        assert (await client.get("/api/me", headers=own)).status_code == 200
