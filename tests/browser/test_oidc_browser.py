"""Signing in through the identity provider in headless Chromium: the sign-in page offers
the provider, one click goes there and back signed in, a person the hub does not admit
gets a page that says so, a session that ends with its ID token warns that it cannot
be extended, and signing out goes through the provider's sign-out and back to "You have
signed out". axe (WCAG 2.2 AA) finds nothing on each page, the open warning included.
The provider is the real one of tests/oidc_provider.py, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from playwright.async_api import async_playwright
from pydantic import SecretStr
from temporalio.client import Client as TemporalClient

from api.app import create_app
from infra.db import create_engine
from infra.settings import Settings
from infra.stack import free_port
from tests.api.support import patient, serving
from tests.browser.axe import accessible
from tests.browser.test_browser import ARGS, SHOTS, chromium
from tests.conftest import TestDatabase
from tests.oidc_provider import Client, Provider, User, running

CLIENT_ID = "mashflow-pages"


@dataclass(frozen=True)
class Site:
    url: str
    idp: Provider


@pytest.fixture(scope="module")
async def site(
    settings: Settings, database: TestDatabase, temporal: TemporalClient
) -> AsyncIterator[Site]:
    engine = create_engine(database.admin_url, pool_size=3)
    try:
        async with running(Provider()) as idp:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            idp.clients[CLIENT_ID] = Client(
                CLIENT_ID,
                f"{url}/signin/oidc/callback",
                "s3cret-b",
                post_logout_redirect_uris=(f"{url}/signed-out",),
            )
            sso = patient(settings).with_overrides(
                public_url=url,
                oidc_issuer=idp.issuer,
                oidc_audience="mashflow-api",
                oidc_jwks_url=f"{idp.issuer}/jwks",
                oidc_role_claim="groups",
                oidc_group_roles={"hub-coordinators": "coordinator"},
                oidc_hub_subjects={"coordinator": ("coord-browser",)},
                oidc_client_id=CLIENT_ID,
                oidc_client_secret=SecretStr("s3cret-b"),
                oidc_provider_name="Hub Account",
            )
            async with serving(create_app(sso, engine=engine, temporal=temporal), port):
                yield Site(url, idp)
    finally:
        await engine.dispose()


async def test_a_person_signs_in_through_the_provider_in_the_browser(site: Site) -> None:
    coordinator = User(
        "coord-browser", {"name": "Casey Coordinator", "groups": ["hub-coordinators"]}
    )
    visited: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium(), args=ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": 1280, "height": 720}, bypass_csp=True
            )
            page = await context.new_page()

            site.idp.user = User("stranger", {"name": "Sam", "groups": ["canteen"]})
            await page.goto(f"{site.url}/signin")
            await page.get_by_role("button", name="Sign in with Hub Account").click()
            await page.wait_for_url(f"{site.url}/signin/oidc/callback?**")
            heading = page.get_by_role("heading", level=1)
            assert await heading.inner_text() == "You cannot use mashflow with this account"
            await accessible(page, visited)

            site.idp.user = coordinator
            site.idp.id_token_lifetime_s = 12  # the session ends with it
            await page.goto(f"{site.url}/signin")
            await accessible(page, visited)
            await page.screenshot(path=str(SHOTS / "00-sign-in.png"))
            await page.get_by_role("button", name="Sign in with Hub Account").click()
            await page.wait_for_url(f"{site.url}/")
            assert "Hello, Casey Coordinator" in await heading.inner_text()

            # The token ends in 12 s, sooner than the warning's two minutes: it says so
            # at once, and offers no "Stay signed in", which could not help.
            dialog = page.locator("#timeout-warning")
            await dialog.wait_for(state="visible", timeout=5000)
            assert "cannot be extended" in await dialog.inner_text()
            assert not await dialog.get_by_role("button", name="Stay signed in").is_visible()
            await accessible(page, visited)
            await page.wait_for_url(f"{site.url}/signin**", timeout=20_000)
        finally:
            site.idp.id_token_lifetime_s = 300
            await browser.close()
    assert len(visited) == 3


async def test_signing_out_in_the_browser_signs_out_at_the_provider_too(site: Site) -> None:
    site.idp.user = User(
        "coord-browser", {"name": "Casey Coordinator", "groups": ["hub-coordinators"]}
    )
    visited: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium(), args=ARGS)
        try:
            context = await browser.new_context(bypass_csp=True)
            page = await context.new_page()
            await page.goto(f"{site.url}/signin")
            await page.get_by_role("button", name="Sign in with Hub Account").click()
            await page.wait_for_url(f"{site.url}/")
            async with page.expect_request(f"{site.idp.issuer}/logout?**") as at_provider:
                await page.get_by_role("button", name="Sign out").click()
            assert "id_token_hint=" in (await at_provider.value).url
            await page.wait_for_url(f"{site.url}/signed-out?state=**")
            heading = page.get_by_role("heading", level=1)
            assert await heading.inner_text() == "You have signed out"
            body = await page.locator("main").inner_text()
            assert "You have signed out of mashflow and of Hub Account." in body
            assert site.idp.signed_out == ["coord-browser"] and site.idp.user is None
            await accessible(page, visited)
            await page.get_by_role("link", name="Sign in again").click()
            await page.wait_for_url(f"{site.url}/signin")
        finally:
            await browser.close()
