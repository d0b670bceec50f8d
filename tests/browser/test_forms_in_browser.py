"""A refused form in Chromium, as a person meets it: the error summary comes first and takes
the focus, each of its links moves the focus to its field, and everything typed is still
there. Debian's ``chromium`` driven by Playwright (see test_browser.py)."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.async_api import async_playwright

from tests.api.stack import Stack
from tests.browser.test_browser import ARGS, chromium, sign_in


async def test_a_refused_new_request_focuses_the_summary_and_keeps_what_was_typed(
    stack: Stack,
) -> None:
    executable = chromium()
    future = date.today() + timedelta(days=10)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=ARGS, headless=True)
        try:
            page = await sign_in(browser, stack, "coordinator")
            await page.goto(f"{stack.url}/requests/new")
            await page.get_by_label("Full name").fill("Ada Example")
            await page.locator("#subject_dob").fill(str(future.day))
            await page.locator('input[name="subject_dob-month"]').fill(str(future.month))
            await page.locator('input[name="subject_dob-year"]').fill(str(future.year))
            await page.get_by_label("Address (if known)").fill("1 Mill Lane")
            await page.get_by_label("Why is the information needed?").fill("Strategy discussion")
            await page.locator(f'input[name="holding_agencies"][value="{stack.holder}"]').check()
            await page.get_by_role("button", name="Open the request").click()
            summary = page.locator(".govuk-error-summary")
            await summary.wait_for()
            focused = await page.evaluate(
                "() => !!document.activeElement.closest('.govuk-error-summary')"
            )
            assert focused, "the error summary does not have the focus"
            assert await page.title() == "Error: New request · mashflow"
            await summary.get_by_role("link", name="Date of birth must be in the past").click()
            assert await page.evaluate("() => document.activeElement.id") == "subject_dob"
            await summary.get_by_role("link", name="Enter what information is sought").click()
            assert await page.evaluate("() => document.activeElement.id") == "information_sought"
            assert await page.get_by_label("Full name").input_value() == "Ada Example"
            assert await page.get_by_label("Address (if known)").input_value() == "1 Mill Lane"
            assert await page.locator("#subject_dob").input_value() == str(future.day)
            assert await page.get_by_label("Why is the information needed?").input_value() == (
                "Strategy discussion"
            )
            holder = page.locator(f'input[name="holding_agencies"][value="{stack.holder}"]')
            assert await holder.is_checked()
        finally:
            await browser.close()
