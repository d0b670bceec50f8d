"""The session timeout warning in headless Chromium, with an 8-second idle timeout: the
dialog opens before the end, "Stay signed in" closes it and extends the session, and when
time runs out the form being typed in is kept: the page goes to sign in, and after
signing in again the form is back with what was typed. No script or style is refused by
the Content-Security-Policy on the way."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import ConsoleMessage, Page, async_playwright
from temporalio.client import Client

from api.app import create_app
from domain.vocabulary import Role
from infra.db import create_engine
from infra.settings import Settings
from tests.api.support import patient, serving
from tests.browser.test_browser import ARGS, SHOTS, chromium
from tests.cli.people import person
from tests.conftest import TestDatabase

IDLE_S = 8  # the warning opens 4 s before the end (half the idle timeout)
TYPED = "Robin Timeoutcase"


@pytest.fixture(scope="module")
async def site(settings: Settings, database: TestDatabase, temporal: Client) -> AsyncIterator[str]:
    engine = create_engine(database.admin_url, pool_size=3)
    own = patient(settings).with_overrides(session_idle_timeout_s=IDLE_S)
    try:
        async with serving(create_app(own, engine=engine, temporal=temporal)) as url:
            yield url
    finally:
        await engine.dispose()


async def sign_in(page: Page, token: str) -> None:
    await page.get_by_label("Access token").fill(token)
    await page.get_by_role("button", name="Sign in", exact=True).click()


async def test_the_warning_extends_the_session_and_keeps_what_was_typed(
    site: str, database: TestDatabase
) -> None:
    engine = create_engine(database.admin_url, pool_size=1)
    try:
        token = (await person(engine, Role.COORDINATOR)).token
    finally:
        await engine.dispose()
    refused: list[str] = []

    def note(message: ConsoleMessage) -> None:
        where = str(message.location.get("url", ""))
        if message.type == "error" and not where.endswith("/favicon.ico"):  # none is served
            refused.append(f"{message.text} {where}")

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium(), args=ARGS)
        try:
            page = await browser.new_page()
            page.on("console", note)
            await page.goto(f"{site}/signin")
            await sign_in(page, token)
            await page.wait_for_url(f"{site}/")
            await page.goto(f"{site}/requests/new")
            await page.get_by_label("Full name").fill(TYPED)

            dialog = page.locator("#timeout-warning")
            await dialog.wait_for(state="visible", timeout=(IDLE_S + 2) * 1000)
            assert "You will be signed out soon" in await dialog.inner_text()
            assert (
                "seconds" in await dialog.locator(".timeout-warning-countdown").first.inner_text()
            )
            await dialog.get_by_role("button", name="Stay signed in").click()
            await dialog.wait_for(state="hidden", timeout=3000)
            assert page.url == f"{site}/requests/new"  # still here, still signed in

            # Now nobody answers: the form is kept and the page goes to sign in.
            await dialog.wait_for(state="visible", timeout=(IDLE_S + 2) * 1000)
            # The screen as the person sees it (the dialog over the page), not the whole page.
            await page.screenshot(path=str(SHOTS / "12-session-timeout-warning.png"))
            await page.wait_for_url(f"{site}/signin?**", timeout=(IDLE_S + 8) * 1000)
            assert "kept=1" in page.url and "next=%2Frequests%2Fnew" in page.url
            assert TYPED not in page.url
            body = await page.locator("main").inner_text()
            assert "your answers were not sent" in body

            await sign_in(page, token)
            await page.wait_for_url(f"{site}/requests/new")
            assert await page.get_by_label("Full name").input_value() == TYPED
            assert "has been restored" in await page.locator("main").inner_text()
        finally:
            await browser.close()
    assert refused == [], refused  # no CSP refusal, no script error
