"""Follow-up questions revealed the GOV.UK way, in Chromium on the real stack: on the
lawful basis and the record of informing, a follow-up is hidden until the answer that
needs it is picked, then shown (axe-core finding nothing either way: no aria-expanded on
a radio); a refused submission keeps what was typed in a follow-up, shown; and without
JavaScript every follow-up is on the page."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, Page, async_playwright

from domain.decision import TaskKind
from tests.api.stack import Stack
from tests.api.test_consent_withdrawal import consent_given
from tests.api.test_requests_flow import ITEMS, act
from tests.browser.axe import accessible, person
from tests.browser.test_browser import ARGS, chromium

POWER = "Children Act 2004 s.11"


async def test_follow_ups_show_only_with_their_answer(stack: Stack) -> None:
    visited: list[str] = []
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        rid = await consent_given(http, stack)
        task = await stack.task_id(rid, stack.holder, TaskKind.RECORD_DECISION)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium(), args=ARGS)
            try:
                worker = await person(browser, stack, "worker")
                await _basis(worker, f"{stack.url}/tasks/{task}/basis", visited)
                await _no_script(browser, stack, f"/tasks/{task}/basis")
                for body in (
                    {
                        "action": "determine_lawful_basis",
                        "art6": "public_task",
                        "legal_power": POWER,
                    },
                    {"action": "select_information", "items": ITEMS},
                    {
                        "action": "record_decision",
                        "outcome": "share",
                        "reasons": "Relevant to the strategy discussion",
                        "necessity": "Only the incident",
                        "inform": {"will_inform": True},
                    },
                ):
                    done = await act(http, stack.people["worker"], task, body)
                    assert done.status_code == 200, done.text
                inform = await stack.task_id(rid, stack.holder, TaskKind.INFORM_PERSON)
                await _informing(worker, f"{stack.url}/tasks/{inform}", visited)
            finally:
                await browser.close()


async def _basis(page: Page, url: str, visited: list[str]) -> None:
    await page.goto(url)
    power = page.get_by_label("The legal power behind the function")
    public_task = page.get_by_label("Public task", exact=True)
    other = page.locator('input[name="art6"]:not([value="public_task"])').first
    await public_task.wait_for()
    assert not await power.is_visible(), "the follow-up shows before its answer is picked"
    assert await public_task.get_attribute("aria-expanded") is None
    await accessible(page, visited)
    await public_task.check()
    assert await power.is_visible(), "picking public task does not show its follow-up"
    await accessible(page, visited)
    await power.fill(POWER)
    await other.check()
    assert not await power.is_visible(), "another answer leaves the follow-up shown"
    await public_task.check()
    # Refused (a statutory duty relied on but not named): the typed follow-up is kept, shown.
    await page.get_by_label("Statutory duty or court order relied on").select_option(
        "statutory_duty"
    )
    await page.get_by_role("button", name="Record the lawful basis").click()
    await page.locator(".govuk-error-summary").wait_for()
    assert await public_task.is_checked()
    assert await power.is_visible()
    assert await power.input_value() == POWER
    await accessible(page, visited)


async def _no_script(browser: Browser, stack: Stack, path: str) -> None:
    """Without JavaScript, every follow-up is on the page (progressive enhancement)."""
    context = await browser.new_context(java_script_enabled=False)
    try:
        page = await context.new_page()
        await page.goto(f"{stack.url}/signin")
        await page.get_by_label("Access token").fill(stack.people["worker"].token)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(f"{stack.url}/")
        await page.goto(stack.url + path)
        assert await page.get_by_label("The legal power behind the function").is_visible()
    finally:
        await context.close()


async def _informing(page: Page, url: str, visited: list[str]) -> None:
    await page.goto(url)
    why = page.get_by_label("Why have they not been told?")
    await page.get_by_role("button", name="Record").wait_for()
    assert not await why.is_visible()
    await accessible(page, visited)
    await page.get_by_label("No", exact=True).check()
    assert await why.is_visible()
    await accessible(page, visited)
    await page.get_by_label("Yes", exact=True).check()
    assert not await why.is_visible()
