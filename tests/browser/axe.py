"""Accessibility checks in the browser: axe-core (vendored under tests/browser/vendor/,
MPL-2.0) run on a page against the WCAG 2.0, 2.1 and 2.2 A and AA rules, and the page
kept as a screenshot for the guides.

The pages' Content-Security-Policy allows no script but the site's own, so the pages are
opened in a context that bypasses it (``bypass_csp=True``) for axe to be injected; the
policy itself is checked where the pages are opened without that (tests/browser/test_narrow.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page

from tests.api.stack import Stack

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


async def signed_in(
    browser: Browser, url: str, token: str, *, width: int = 1366, height: int = 900
) -> Page:
    """A page signed in with ``token``, in a context where axe can be injected."""
    context = await browser.new_context(
        viewport={"width": width, "height": height}, bypass_csp=True
    )
    page = await context.new_page()
    await page.goto(f"{url}/signin")
    await page.get_by_label("Access token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{url}/")
    return page


async def person(browser: Browser, stack: Stack, who: str, **size: int) -> Page:
    return await signed_in(browser, stack.url, stack.people[who].token, **size)


async def violations(page: Page) -> list[dict[str, Any]]:
    """axe's WCAG 2.2 AA violations on the page as it is now."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5),
            }));
        }""",
        WCAG_AA,
    )
    return found


async def accessible(page: Page, visited: list[str]) -> None:
    """Fail, naming each rule and element, unless axe finds nothing on the page."""
    found = await violations(page)
    path = page.url.split("/", 3)[-1]
    visited.append("/" + path)
    assert found == [], f"/{path}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in found
    )
