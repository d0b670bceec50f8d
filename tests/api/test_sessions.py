"""Web sessions live on the server: sign-out, idle timeout, a sign-on token's expiry and
revocation each end a session at once, for every copy of its cookie."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.app import create_app
from api.sessions import SESSION_COOKIE
from domain.vocabulary import Role
from infra.settings import Settings
from infra.users import UserDirectory
from tests.api.conftest import Registered
from tests.api.support import patient, serving
from tests.api.test_pages import sign_in
from tests.cli.people import person


@contextlib.asynccontextmanager
async def pages(
    settings: Settings, engine: AsyncEngine, temporal: Client, **overrides: object
) -> AsyncIterator[str]:
    own = patient(settings).with_overrides(**overrides)
    async with serving(create_app(own, engine=engine, temporal=temporal)) as url:
        yield url


def browser(url: str, cookie: str | None = None) -> httpx.AsyncClient:
    cookies = {SESSION_COOKIE: cookie} if cookie else None
    return httpx.AsyncClient(
        base_url=url, headers={"accept": "text/html"}, cookies=cookies, timeout=10
    )


async def signed_in_cookie(url: str, token: str) -> str:
    async with browser(url) as client:
        response = await sign_in(client, token)
        assert response.status_code == 303, response.text
        cookie = client.cookies.get(SESSION_COOKIE)
        assert cookie
        return cookie


async def home_status(url: str, cookie: str) -> int:
    async with browser(url, cookie) as client:
        return (await client.get("/")).status_code


async def test_sign_out_ends_the_session_for_every_copy_of_its_cookie(
    settings: Settings, engine: AsyncEngine, temporal: Client, hub: Registered
) -> None:
    async with pages(settings, engine, temporal) as url:
        cookie = await signed_in_cookie(url, hub.people[Role.COORDINATOR].token)
        assert await home_status(url, cookie) == 200
        async with browser(url, cookie) as client:
            page = await client.get("/")
            csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            out = await client.post("/signout", data={"csrf_token": csrf})
            assert out.status_code == 303
        assert await home_status(url, cookie) == 303  # the copy kept elsewhere: gone too


async def test_an_idle_session_ends(
    settings: Settings, engine: AsyncEngine, temporal: Client, hub: Registered
) -> None:
    async with pages(settings, engine, temporal, session_idle_timeout_s=2) as url:
        cookie = await signed_in_cookie(url, hub.people[Role.ADVISOR].token)
        for _ in range(3):  # in use: it stays open past the timeout
            await asyncio.sleep(0.8)
            assert await home_status(url, cookie) == 200
        await asyncio.sleep(2.2)
        assert await home_status(url, cookie) == 303


async def test_a_revoked_users_sessions_end_at_once(
    settings: Settings, engine: AsyncEngine, temporal: Client
) -> None:
    leaver = await person(engine, Role.COORDINATOR)
    async with pages(settings, engine, temporal) as url:
        cookies = [await signed_in_cookie(url, leaver.token) for _ in range(2)]
        assert [await home_status(url, c) for c in cookies] == [200, 200]
        await UserDirectory(engine).revoke(leaver.user.id)
        assert [await home_status(url, c) for c in cookies] == [303, 303]


async def test_a_cookie_made_up_or_copied_from_the_table_opens_nothing(
    settings: Settings, engine: AsyncEngine, temporal: Client, hub: Registered
) -> None:
    async with pages(settings, engine, temporal) as url:
        await signed_in_cookie(url, hub.people[Role.RECIPIENT].token)
        async with engine.connect() as conn:
            from sqlalchemy import text

            stored = (
                await conn.execute(text("SELECT encode(id_hash, 'hex') FROM web_sessions LIMIT 1"))
            ).scalar_one()
        assert await home_status(url, stored) == 303
        assert await home_status(url, "x" * 43) == 303
