"""Follow-up questions revealed the GOV.UK way, in Chromium on the real stack: on the
lawful basis and the record of informing, a follow-up is hidden until the answer that
needs it is picked, then shown (axe-core finding nothing either way: no aria-expanded on
a radio); so are the follow-ups of the basis's selects (the statute or order named, who
a harm ground protects); a refused submission keeps what was typed in a follow-up,
shown; and without JavaScript every follow-up is on the page."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import Browser, Page, async_playwright

from domain.decision import TaskKind
from tests.api.stack import Stack
from tests.api.test_consent_withdrawal import consent_given
from tests.api.test_requests_flow import ITEMS, act, open_request
from tests.browser.axe import accessible, person
from tests.browser.test_browser import ARGS, chromium

POWER = "Children Act 2004 s.11"
HARM_GROUNDS = ("significant_harm_to_child", "serious_harm_to_adult", "safeguarding_condition")


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
                refused = await _consent_refused(http, stack)
                await _grounds(worker, f"{stack.url}/tasks/{refused}/basis", visited)
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
    citation = page.get_by_label("Statute and section, or order and court")
    assert not await citation.is_visible(), "the statute's box shows with no duty or order"
    # Refused (a statutory duty relied on but not named): the typed follow-up is kept, shown.
    await page.get_by_label("Statutory duty or court order relied on").select_option(
        "statutory_duty"
    )
    assert await citation.is_visible()
    await page.get_by_role("button", name="Record the lawful basis").click()
    await page.locator(".govuk-error-summary").wait_for()
    assert await public_task.is_checked()
    assert await power.is_visible()
    assert await power.input_value() == POWER
    assert await citation.is_visible()  # where the refusal points
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
        assert await page.get_by_label("Statute and section, or order and court").is_visible()
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


async def _consent_refused(http: httpx.AsyncClient, stack: Stack) -> str:
    """A red request whose consent was refused and an advisor agreed to share without it:
    its record-decision task (the basis then needs a ground for sharing without consent)."""
    rid = await open_request(http, stack, rating="red")
    worker, advisor = stack.people["worker"], stack.people["advisor"]
    assess = {"purpose_clear": True, "identifiable": True, "confidential": True}
    steps: list[tuple[TaskKind, Any, list[dict[str, Any]]]] = [
        (
            TaskKind.ASSESS_PURPOSE,
            worker,
            [{"action": "assess_purpose", "special_category": False, **assess}],
        ),
        (
            TaskKind.RESOLVE_CONSENT,
            worker,
            [
                {"action": "seek_consent"},
                {"action": "record_consent", "outcome": "refused"},
                {"action": "request_advice", "question": "Share?"},
            ],
        ),
        (
            TaskKind.GIVE_ADVICE,
            advisor,
            [
                {
                    "action": "give_advice",
                    "recommendation": "share",
                    "agrees_to_share_without_consent": True,
                    "advice": "Risk of significant harm outweighs the refusal",
                    "capacity": "caldicott_guardian",
                    "position": "Named GP for safeguarding",
                }
            ],
        ),
    ]
    for kind, who, bodies in steps:
        task = await stack.task_id(rid, stack.holder, kind)  # one task takes its steps
        for body in bodies:
            done = await act(http, who, task, body)
            assert done.status_code == 200, done.text
    return await stack.task_id(rid, stack.holder, TaskKind.RECORD_DECISION)


async def _grounds(page: Page, url: str, visited: list[str]) -> None:
    """Who a harm ground protects is asked only once such a ground is chosen."""
    await page.goto(url)
    ground = page.get_by_label("Ground for sharing without consent")
    at_risk = page.get_by_label("At risk as")
    await ground.wait_for()
    assert not await at_risk.is_visible()
    await accessible(page, visited)
    await ground.select_option("significant_harm_to_child")
    assert await at_risk.is_visible()
    await accessible(page, visited)
    offered = await ground.locator("option").evaluate_all("os => os.map(o => o.value)")
    harmless = [v for v in offered if v and v not in HARM_GROUNDS]
    if harmless:
        await ground.select_option(harmless[0])
        assert not await at_risk.is_visible()
