"""A coordinator and a worker in headless Chromium, on the real stack.

The coordinator opens a request and re-rates it on its page (first without a
rationale, which is refused in place); the worker walks the decision; the
coordinator sees the outcome.

Debian's ``chromium`` driven by Playwright's Python API (never ``playwright
install``). Without Chromium the test fails and says how to install it.
Screenshots go to ``docs/screenshots/`` for the README (the assessment's pages are
taken by test_journeys.py, which walks them with axe).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from domain.decision import TaskKind
from tests.api.stack import Stack

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def chromium() -> str:
    found = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    if found is None:
        pytest.fail(
            "Chromium is missing: install Debian's package with "
            "`apt-get update && apt-get install -y chromium` (.ci/run does this in CI)",
            pytrace=False,
        )
    return found


async def sign_in(browser: Browser, stack: Stack, who: str) -> Page:
    page = await browser.new_page(viewport={"width": 1366, "height": 900})
    await page.goto(f"{stack.url}/signin")
    await page.get_by_label("Access token").fill(stack.people[who].token)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{stack.url}/")
    return page


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


PURPOSE = (
    ("purpose_clear", "true"),
    ("identifiable", "true"),
    ("confidential", "true"),
    ("special_category", "false"),
    ("adult_at_risk", "false"),
    ("criminal_offence_data", "false"),
    ("compelled_kind", "none"),
)


async def assess_purpose(
    page: Page, each: Callable[[Page], Awaitable[None]] | None = None, shots: bool = False
) -> None:
    """From the assess-purpose task page: Start, one question a page, check, record.
    ``each`` runs on every page of the way (axe, say); with ``shots`` the first question
    and the check are kept as screenshots for the guide."""
    await page.get_by_role("button", name="Start the assessment").click()
    for n, (name, value) in enumerate(PURPOSE):
        await page.locator(f'input[name="{name}"][value="{value}"]').check()
        if each is not None:
            await each(page)
        if n == 0 and shots:
            await shot(page, "04-assess-purpose")
        await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("Notes on your assessment (optional)").wait_for()
    if each is not None:
        await each(page)
    await page.get_by_role("button", name="Continue").click()  # notes: optional
    await page.get_by_role("heading", name="Check your answers").wait_for()
    if each is not None:
        await each(page)
    if shots:
        await shot(page, "04a-assess-purpose-check")
    await page.get_by_role("button", name="Record the assessment").click()
    await page.get_by_text("Purpose assessed").wait_for()  # the confirmation panel


async def test_coordinator_opens_worker_decides_coordinator_sees_outcome(stack: Stack) -> None:
    executable = chromium()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=ARGS, headless=True)
        try:
            page = await sign_in(browser, stack, "coordinator")
            await page.goto(f"{stack.url}/requests/new")
            await page.get_by_label("Full name").fill("Ada Example")
            await page.get_by_label("The person is").select_option("child")
            await page.get_by_label("Requesting agency").select_option(stack.requester)
            await page.locator(f'input[name="holding_agencies"][value="{stack.holder}"]').check()
            await page.get_by_label("Purpose", exact=True).select_option("safeguarding_welfare")
            await page.get_by_label("Why is the information needed?").fill("Strategy discussion")
            await page.get_by_label("What information is sought?").fill("Police contact")
            await page.locator('input[name="rating"][value="amber"]').check()
            await shot(page, "01-new-request")
            await page.get_by_role("button", name="Open the request").click()
            await page.wait_for_url(f"{stack.url}/requests/*")
            rid = page.url.rsplit("/", 1)[1]
            rerate = page.get_by_role("button", name="Change the rating")
            for _ in range(100):  # the page shows the request once the read model has it
                if await rerate.count():
                    break
                await asyncio.sleep(0.2)
                await page.reload()
            await shot(page, "02-request-opened")
            await rerate.click()  # no rationale yet: refused, with the message at the field
            await page.get_by_text("Error:").first.wait_for()
            assert (
                await page.get_by_label("Why the rating changes").get_attribute("aria-invalid")
                == "true"
            )
            rationale = page.get_by_label("Why the rating changes")
            await rationale.focus()  # focus is visible: a solid 3px outline, not colour alone
            outline = await rationale.evaluate(
                "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth] }"
            )
            assert outline == ["solid", "3px"], outline
            await page.locator('input[name="rating"][value="green"]').check()
            await page.get_by_label("Why the rating changes").fill(
                "School confirms the child is safe at home this week"
            )
            await page.get_by_role("button", name="Change the rating").click()
            await page.get_by_text("The rating has been changed").wait_for()
            await shot(page, "02b-rating-changed")
            await page.close()

            task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
            page = await sign_in(browser, stack, "worker")
            await page.goto(f"{stack.url}/tasks")
            await shot(page, "03-worker-inbox")
            await page.goto(f"{stack.url}/tasks/{task}")
            await assess_purpose(page)
            await shot(page, "04b-step-confirmed")
            await page.get_by_role("button", name="Continue").click()
            # Consent, one question a page: seeking it, then the answer.
            await page.get_by_role("button", name="Seek consent", exact=True).click()
            await page.get_by_label("How are you seeking consent?").fill("By phone")
            await page.get_by_role("button", name="Continue").click()
            await page.get_by_role("button", name="Record that consent is being sought").click()
            await page.get_by_text("Consent is being sought").wait_for()
            await page.get_by_role("button", name="Continue").click()
            await page.get_by_role("button", name="Record the answer").click()
            await page.locator('input[name="outcome"][value="given"]').check()
            await shot(page, "04c-consent-outcome")
            await page.get_by_role("button", name="Continue").click()
            await page.locator('input[name="given_by"][value="the_person"]').check()
            await page.get_by_role("button", name="Continue").click()
            await page.locator('input[name="capacity_considered"][value="true"]').check()
            await page.get_by_role("button", name="Continue").click()
            await page.get_by_label("What does the consent cover?").fill("The incident log")
            await page.get_by_role("button", name="Continue").click()
            await page.get_by_role("button", name="Continue").click()  # notes: optional
            await page.get_by_role("heading", name="Check your answers").wait_for()
            await shot(page, "04d-consent-check-answers")
            await page.get_by_role("button", name="Record consent").click()
            await page.get_by_text("Consent recorded").wait_for()
            await page.get_by_role("button", name="Continue").click()
            await page.get_by_role("link", name="5 and 6. Lawful basis").click()
            await page.get_by_text("Bases that apply on these facts").wait_for()
            await shot(page, "05-decision-lawful-basis")
            await page.locator('input[name="art6"][value="public_task"]').check()
            await page.locator("#legal_power").fill("Children Act 2004 s.11")
            await page.get_by_role("button", name="Record the lawful basis").click()
            await page.get_by_role("button", name="Continue").click()
            await page.get_by_role("link", name="8. What to share").click()
            await page.get_by_label("Description").first.fill("Incident attended at the home")
            await page.get_by_label("Content").first.fill("The child was present, unharmed.")
            await page.get_by_label("Source").first.fill("Incident log")
            await page.locator('input[name="item-0-kind"][value="fact"]').check()
            await page.locator('input[name="item-0-dated-day"]').fill("2")
            await page.locator('input[name="item-0-dated-month"]').fill("1")
            await page.locator('input[name="item-0-dated-year"]').fill("2026")
            await page.get_by_role("button", name="Select these items").click()
            await page.get_by_role("button", name="Continue").click()
            await shot(page, "05b-decision-task-list")
            await page.get_by_role("link", name="9 and 10. The decision").click()
            await page.locator('input[name="outcome"][value="share"]').check()
            await shot(page, "06-decision")
            await page.get_by_role("button", name="Continue").click()
            await page.get_by_label("What are the reasons for your decision?").fill(
                "Bears directly on the child's safety"
            )
            await page.get_by_role("button", name="Continue").click()
            await page.get_by_label("Why is sharing necessary and proportionate?").fill(
                "Only the incident itself"
            )
            await page.get_by_role("button", name="Continue").click()
            await page.locator('input[name="inform_will_inform"][value="true"]').check()
            await page.get_by_role("button", name="Continue").click()
            await page.get_by_role("button", name="Continue").click()  # position: optional
            await page.get_by_role("heading", name="Check your answers").wait_for()
            await shot(page, "06b-decision-check-answers")
            await page.get_by_role("button", name="Record the decision").click()
            await page.get_by_text("Decision recorded").wait_for()
            await shot(page, "06c-decision-recorded")
            problems = page.locator(".govuk-error-summary")
            assert not await problems.count(), await problems.inner_text()
            await page.close()

            page = await sign_in(browser, stack, "coordinator")
            for _ in range(100):
                await page.goto(f"{stack.url}/requests/{rid}")
                if await page.locator("td.outcome", has_text="share").count():
                    break
                await asyncio.sleep(0.2)
            await shot(page, "07-coordinator-sees-outcome")
            assert await page.locator("td.outcome").first.inner_text() == "share"
            await page.goto(f"{stack.url}/requests")
            await shot(page, "08-request-list")
        finally:
            await browser.close()
