"""Pages on a 375 px wide phone screen, in headless Chromium on the real stack: the
requests list, a request's page, its history, the dashboard and the notifications fit
the screen (a wide table scrolls inside its own region, never the page). Screenshots
of the new pages go to ``docs/screenshots/`` for the guides."""

from __future__ import annotations

from playwright.async_api import Browser, Page, async_playwright

from tests.api.stack import Stack
from tests.api.test_requests_flow import decide_to_share, open_request
from tests.browser.test_browser import ARGS, chromium, shot

NARROW = {"width": 375, "height": 812}


CSP_REFUSALS: list[str] = []
"""What the browser refused under the pages' Content-Security-Policy (kept empty: the pages
load no inline script or style, and GOV.UK Frontend starts from a static module)."""


async def signed_in(browser: Browser, stack: Stack, who: str, viewport: dict[str, int]) -> Page:
    page = await browser.new_page(viewport=viewport)  # type: ignore[arg-type]
    page.on(
        "console",
        lambda m: CSP_REFUSALS.append(m.text) if "Content Security Policy" in m.text else None,
    )
    await page.goto(f"{stack.url}/signin")
    await page.get_by_label("Access token").fill(stack.people[who].token)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{stack.url}/")
    return page


async def overflow(page: Page) -> int:
    """How far the page is wider than the screen, in CSS pixels (0: it fits)."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    return max(0, int(width) - NARROW["width"])


async def test_pages_fit_a_375_px_screen(stack: Stack) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        decided = await open_request(http, stack, rating="amber")
        await decide_to_share(http, stack, decided)  # a figure for the dashboard
        rid = await open_request(http, stack, rating="red")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium(), args=ARGS)
        try:
            coordinator = await signed_in(browser, stack, "coordinator", NARROW)
            for path in ("/requests", f"/requests/{rid}", "/dashboard", "/notifications"):
                await coordinator.goto(f"{stack.url}{path}")
                assert await overflow(coordinator) == 0, path
            await coordinator.goto(f"{stack.url}/requests")
            await shot(coordinator, "10-requests-narrow")
            compliance = await signed_in(browser, stack, "compliance", NARROW)
            await compliance.goto(f"{stack.url}/requests/{rid}/history")
            assert await overflow(compliance) == 0, "history"

            wide = await signed_in(browser, stack, "coordinator", {"width": 1366, "height": 900})
            for _ in range(100):  # until the read model has the decision
                await wide.goto(f"{stack.url}/dashboard")
                if await wide.locator("svg.chart").count():
                    break
                await wide.wait_for_timeout(100)
            await shot(wide, "09-dashboard")
            await wide.goto(f"{stack.url}/notifications")
            await shot(wide, "11-notifications")
            started = await wide.evaluate("document.body.classList.contains('js-enabled')")
            assert started, "GOV.UK Frontend's module did not run"
            assert CSP_REFUSALS == [], CSP_REFUSALS
        finally:
            await browser.close()
