"""Every role's journey through its pages in headless Chromium, on the real stack, with
axe-core (WCAG 2.2 AA) finding nothing on any page visited; screenshots for the README
and the user guides go to docs/screenshots/ (20-... onwards; the task pages' walk in
test_browser.py takes 01-...).

The coordinator follows a red request from the list to its story; the worker and the
advisor meet their inboxes and task pages (the steps themselves go through the API, as
test_browser.py walks them on the pages); the recipient opens the package, with its
warnings, and acknowledges it; the coordinator reads the dashboard and notifications;
the compliance officer shows the personal data, reads the record in words, downloads the
export and verifies the store; a phone-width page; a worker records that consent was
withdrawn (form, check, confirmation); and the retention pages.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
from playwright.async_api import Browser, Page, async_playwright

from domain.decision import TaskKind
from domain.vocabulary import RecordType, Role
from tests.api.stack import ASSESS, Stack
from tests.api.test_consent_withdrawal import consent_given
from tests.api.test_requests_flow import ITEMS, act, open_request
from tests.browser.axe import accessible, person, signed_in
from tests.browser.test_browser import ARGS, assess_purpose, chromium, shot
from tests.retention.conftest import DevHub, closed_request, review_of
from tests.retention.test_pages import Site

NARROW = 375


async def _until(page: Page, path: str, text: str) -> None:
    """Reload ``path`` until ``text`` is on it (the read models follow the log)."""
    for _ in range(150):
        await page.goto(path)
        if await page.get_by_text(text).count():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared on {path}")


async def _steps(
    http: httpx.AsyncClient, stack: Stack, rid: str, kind: TaskKind, *bodies: Any
) -> None:
    who = stack.people["advisor" if kind is TaskKind.GIVE_ADVICE else "worker"]
    task = await stack.task_id(rid, stack.holder, kind)
    for body in bodies:
        done = await act(http, who, task, body)
        assert done.status_code == 200, done.text


async def _questions(page: Page, visited: list[str], titles: list[str]) -> None:
    """On each question page in turn (its heading one of ``titles``): axe, then Continue."""
    for title in titles:
        await page.get_by_role("heading", name=title).wait_for()
        await accessible(page, visited)
        await page.get_by_role("button", name="Continue").click()


async def _overflow(page: Page) -> int:
    return max(0, int(await page.evaluate("document.documentElement.scrollWidth")) - NARROW)


async def test_every_role_through_its_pages(stack: Stack) -> None:
    visited: list[str] = []
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        rid = await open_request(http, stack, rating="red")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium(), args=ARGS)
            try:
                await _journey(browser, http, stack, rid, visited)
            finally:
                await browser.close()
    assert len(set(visited)) >= 15, visited  # each page a role meets, axe-checked


async def _journey(
    browser: Browser, http: httpx.AsyncClient, stack: Stack, rid: str, visited: list[str]
) -> None:
    base = stack.url
    # Before signing in: the sign-in page; after, a page that does not exist.
    context = await browser.new_context(bypass_csp=True)
    visitor = await context.new_page()
    await visitor.goto(f"{base}/signin")
    await accessible(visitor, visited)
    await context.close()
    # The coordinator: home, the list (most urgent first), the register, the new request.
    coordinator = await person(browser, stack, "coordinator")
    await coordinator.goto(f"{base}/no-such-page")
    await coordinator.get_by_role("heading", name="Not found").wait_for()
    await accessible(coordinator, visited)
    await coordinator.goto(f"{base}/")
    await accessible(coordinator, visited)
    await shot(coordinator, "20-coordinator-home")
    for path, name in (("/requests", "21-requests-list"), ("/agencies", "22-agency-register")):
        await coordinator.goto(base + path)
        await accessible(coordinator, visited)
        await shot(coordinator, name)
    await coordinator.goto(f"{base}/requests/new")
    await accessible(coordinator, visited)

    # The worker: the inbox and the first task page; the assessment one question a page,
    # each page checked by axe; then the steps up to asking advice.
    worker = await person(browser, stack, "worker")
    await worker.goto(f"{base}/tasks")
    await accessible(worker, visited)
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    await worker.goto(f"{base}/tasks/{task}")
    await accessible(worker, visited)

    async def checked(page: Page) -> None:
        await accessible(page, visited)

    await assess_purpose(worker, checked, shots=True)
    await accessible(worker, visited)  # the confirmation
    assert sum(f"/tasks/{task}/purpose/" in v for v in visited) == 9, visited
    # Consent, one question a page: seeking it, then the answer (refused).
    await worker.get_by_role("button", name="Continue").click()
    await worker.get_by_role("heading", name="Will you seek consent?").wait_for()
    await accessible(worker, visited)
    await worker.get_by_role("button", name="Seek consent", exact=True).click()
    await _questions(worker, visited, ["How are you seeking consent?"])
    await worker.get_by_role("heading", name="Check your answers").wait_for()
    await accessible(worker, visited)
    await worker.get_by_role("button", name="Record that consent is being sought").click()
    await worker.get_by_text("Consent is being sought").wait_for()
    await worker.get_by_role("button", name="Continue").click()
    await worker.get_by_role("button", name="Record the answer").click()
    await worker.locator('input[name="outcome"][value="refused"]').check()
    await _questions(worker, visited, ["What was the outcome of seeking consent?"])
    await worker.get_by_label("Notes (optional)").fill("Mother refused")  # no follow-up
    await _questions(worker, visited, ["Notes (optional)"])
    await worker.get_by_role("heading", name="Check your answers").wait_for()
    await accessible(worker, visited)
    await worker.get_by_role("button", name="Record consent").click()
    await worker.get_by_text("Consent recorded").wait_for()
    await accessible(worker, visited)
    assert sum("/consent-answer/" in v or "/seek-consent/" in v for v in visited) == 5, visited
    await _steps(
        http,
        stack,
        rid,
        TaskKind.RECORD_DECISION,
        {"action": "request_advice", "question": "Is sharing without consent justified?"},
    )

    # The advisor: the inbox and the advice task, with the worker's question; the advice
    # one question a page (the agreement asked because the recommendation is to share).
    advisor = await person(browser, stack, "advisor")
    await advisor.goto(f"{base}/tasks")
    await accessible(advisor, visited)
    await shot(advisor, "23-advisor-inbox")
    advice = await stack.task_id(rid, stack.holder, TaskKind.GIVE_ADVICE)
    await advisor.goto(f"{base}/tasks/{advice}")
    await advisor.get_by_text("Is sharing without consent justified?").first.wait_for()
    await accessible(advisor, visited)
    await shot(advisor, "24-advisor-advice")
    await advisor.get_by_role("button", name="Start your advice").click()
    await advisor.locator('input[name="recommendation"][value="share"]').check()
    await shot(advisor, "24b-advisor-recommendation")
    await _questions(advisor, visited, ["What do you recommend?"])
    await advisor.locator('input[name="agrees_to_share_without_consent"][value="true"]').check()
    await _questions(advisor, visited, ["Do you agree to sharing without consent?"])
    await advisor.locator('input[name="capacity"][value="caldicott_guardian"]').check()
    await _questions(advisor, visited, ["In what capacity do you advise?"])
    await advisor.get_by_label("What is your position?").fill("Named GP for safeguarding")
    await _questions(advisor, visited, ["What is your position?"])
    await advisor.get_by_label("What is your advice, and why?").fill(
        "Risk of significant harm outweighs the refusal: share"
    )
    await _questions(advisor, visited, ["What is your advice, and why?"])
    await advisor.get_by_role("heading", name="Check your advice").wait_for()
    await accessible(advisor, visited)
    await shot(advisor, "24c-advisor-advice-check")
    await advisor.get_by_role("button", name="Give advice").click()
    await advisor.get_by_text("Advice given").wait_for()
    await accessible(advisor, visited)
    assert sum(f"/tasks/{advice}/advice/" in v for v in visited) == 6, visited
    await _steps(
        http,
        stack,
        rid,
        TaskKind.RECORD_DECISION,
        {
            "action": "determine_lawful_basis",
            "art6": "public_task",
            "legal_power": "Crime and Disorder Act 1998 s.115",
            "without_consent": "significant_harm_to_child",
        },
        {"action": "select_information", "items": ITEMS},
    )
    # The decision on its pages, axe on each: not told, so why not is asked on its own page.
    decide = await stack.task_id(rid, stack.holder, TaskKind.RECORD_DECISION)
    await worker.goto(f"{base}/tasks/{decide}/decision")
    answers = (
        ('input[name="outcome"][value="share"]', None),
        ("#reasons", "The information bears directly on the child's safety"),
        ("#necessity", "Only the two entries about the recent incident"),
        ('input[name="inform_will_inform"][value="false"]', None),
        ('input[name="inform_reason_not"][value="would_put_someone_at_risk"]', None),
        ("#position", None),  # optional
    )
    for where, typed in answers:
        field = worker.locator(where)
        if typed:
            await field.fill(typed)
        elif where.startswith("input"):
            await field.check()
        else:
            await field.wait_for()
        await accessible(worker, visited)
        await worker.get_by_role("button", name="Continue").click()
    await worker.get_by_role("heading", name="Check your answers").wait_for()
    await accessible(worker, visited)
    await worker.get_by_role("button", name="Record the decision").click()
    await worker.get_by_text("Decision recorded").wait_for()
    assert f"/tasks/{decide}/decision/not-told" in "".join(visited), visited
    await stack.task_id(rid, stack.holder, TaskKind.ACKNOWLEDGE_RECEIPT)

    # The worker's agency's sent packages, and one package's page.
    await worker.goto(f"{base}/packages")
    await accessible(worker, visited)
    await shot(worker, "36-packages-sent")
    await worker.get_by_role("link", name="Details").first.click()
    await worker.get_by_role("heading", name="Revoke the package").wait_for()
    await accessible(worker, visited)
    await shot(worker, "37-package-revoke")

    # The recipient: the packages received, one opened (whom, why, the warnings), receipt.
    recipient = await person(browser, stack, "recipient")
    await recipient.goto(f"{base}/packages")
    await accessible(recipient, visited)
    await shot(recipient, "25-recipient-packages")
    await recipient.get_by_role("button", name="Open the package from").first.click()
    await recipient.get_by_role("heading", name="Whom it is about").wait_for()
    warnings = recipient.locator(".govuk-warning-text")
    assert await warnings.count() == 2
    assert "has not been told" in await warnings.first.inner_text()
    await accessible(recipient, visited)
    await shot(recipient, "26-recipient-package")
    await recipient.get_by_role("button", name="Acknowledge receipt").click()
    await recipient.wait_for_load_state()
    await accessible(recipient, visited)

    # The coordinator: the request's story, the dashboard, the notifications.
    await _until(coordinator, f"{base}/requests/{rid}", "Police: Decision recorded")
    await accessible(coordinator, visited)
    await shot(coordinator, "27-request-timeline")
    for path, name in (("/dashboard", "28-dashboard"), ("/notifications", "29-notifications")):
        await coordinator.goto(base + path)
        await accessible(coordinator, visited)
        await shot(coordinator, name)

    # The compliance officer: the record in words, the views folded, export, verify.
    compliance = await person(browser, stack, "compliance")
    await compliance.goto(f"{base}/requests/{rid}")
    await accessible(compliance, visited)
    await compliance.get_by_role("link", name="Decision records, history").click()
    await accessible(compliance, visited)
    await shot(compliance, "38-history-withheld")
    await compliance.get_by_role("button", name="Show personal data").click()
    await compliance.get_by_text("this view has been recorded").wait_for()
    await compliance.locator("summary", has_text="view").click()  # unfold the views
    await accessible(compliance, visited)
    await shot(compliance, "30-compliance-record")
    await compliance.get_by_label("Include the personal data").check()
    async with compliance.expect_download() as download:
        await compliance.get_by_role("button", name="Download the export").click()
    assert (await download.value).suggested_filename == f"request-{rid}.html"
    await compliance.get_by_role("link", name="Verify the whole record store").click()
    await accessible(compliance, visited)
    await compliance.get_by_role("button", name="Verify every record now").click()
    await compliance.get_by_text("Every record is intact").wait_for()
    await accessible(compliance, visited)
    await shot(compliance, "31-verify")

    # A phone: the coordinator's pages at 375 px fit the screen.
    phone = await person(browser, stack, "coordinator", width=NARROW, height=812)
    for path in (f"/requests/{rid}", "/requests", "/notifications", "/agencies", "/dashboard"):
        await phone.goto(base + path)
        assert await _overflow(phone) == 0, path
        await accessible(phone, visited)
    await phone.goto(f"{base}/requests/{rid}")
    await shot(phone, "32-request-narrow")


async def test_a_worker_records_that_consent_was_withdrawn(stack: Stack) -> None:
    """From the decision's task page, where consent shows as given: the form (refused once,
    then filled), the check of the answers and the confirmation, each axe-checked."""
    visited: list[str] = []
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        rid = await consent_given(http, stack)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium(), args=ARGS)
            try:
                await _withdrawal(browser, stack, rid, visited)
            finally:
                await browser.close()
    assert len(set(visited)) == 4, visited


async def _withdrawal(browser: Browser, stack: Stack, rid: str, visited: list[str]) -> None:
    worker = await person(browser, stack, "worker")
    task = await stack.task_id(rid, stack.holder, TaskKind.RECORD_DECISION)
    await worker.goto(f"{stack.url}/tasks/{task}")
    await accessible(worker, visited)
    await worker.get_by_role("link", name="Record that consent was withdrawn").click()
    await worker.get_by_role("heading", name="Record that consent was withdrawn").wait_for()
    scope = worker.get_by_label("What the withdrawal covers")
    assert not await scope.is_visible()  # only under "Only part of it"
    await worker.get_by_label("Only part of it").check()
    await scope.wait_for()
    await worker.get_by_role("button", name="Continue").click()
    await worker.get_by_role("heading", name="There is a problem").wait_for()
    await accessible(worker, visited)
    await worker.goto(worker.url)  # afresh, for the guide's screenshot
    await worker.get_by_label("Only part of it").check()
    today = date.today()
    await worker.get_by_label("Parent or carer").check()
    await worker.get_by_label("Day").fill(str(today.day))
    await worker.get_by_label("Month").fill(str(today.month))
    await worker.get_by_label("Year").fill(str(today.year))
    await scope.fill("Only what the school holds")
    await shot(worker, "39-consent-withdrawn")
    await worker.get_by_role("button", name="Continue").click()
    await worker.get_by_role("heading", name="Check your answers").wait_for()
    await accessible(worker, visited)
    await shot(worker, "39b-consent-withdrawn-check")
    await worker.get_by_role("button", name="Record the withdrawal").click()
    await worker.get_by_role("heading", name="Consent withdrawal recorded").wait_for()
    await accessible(worker, visited)


async def test_a_worker_records_that_consent_is_not_sought(stack: Stack) -> None:
    """Not seeking consent, one question a page: the reason, who asking would put at risk
    (asked for a risk reason), the explanation, the check and the confirmation, each
    axe-checked."""
    visited: list[str] = []
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        rid = await open_request(http, stack)
        await _steps(http, stack, rid, TaskKind.ASSESS_PURPOSE, ASSESS)
        task = await stack.task_id(rid, stack.holder, TaskKind.RESOLVE_CONSENT)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium(), args=ARGS)
            try:
                worker = await person(browser, stack, "worker")
                await worker.goto(f"{stack.url}/tasks/{task}")
                await accessible(worker, visited)
                await worker.get_by_role("button", name="Do not seek consent").click()
                await worker.locator(
                    'input[name="reason"][value="risk_of_significant_harm_to_child"]'
                ).check()
                await _questions(worker, visited, ["Why is consent not being sought?"])
                await worker.get_by_label("At risk as").select_option("child")
                await _questions(worker, visited, ["Who would asking put at risk?"])
                await worker.get_by_label("Explain, on the facts").fill(
                    "Asking the father would alert him before the strategy meeting"
                )
                await _questions(worker, visited, ["Explain, on the facts"])
                await worker.get_by_role("heading", name="Check your answers").wait_for()
                await accessible(worker, visited)
                await worker.get_by_role("button", name="Record that consent is not sought").click()
                await worker.get_by_text("Consent not sought: reason recorded").wait_for()
                await accessible(worker, visited)
            finally:
                await browser.close()
    assert sum(f"/tasks/{task}/not-seeking/" in v for v in visited) == 4, visited


async def test_retention_pages(dev_hub: DevHub, site: Site) -> None:
    """The compliance officer's retention queue, a review and the disposal's confirmation."""
    request_id = await closed_request(dev_hub.infra, dev_hub.hub, "Journey Example")
    await dev_hub.retention.run_now(today=date.today() + timedelta(days=6 * 366))
    review = await review_of(dev_hub.retention, request_id, RecordType.PACKAGE)
    visited: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium(), args=ARGS)
        try:
            page = await signed_in(browser, site.url, site.tokens[Role.COMPLIANCE_OFFICER])
            await page.goto(f"{site.url}/retention")
            await accessible(page, visited)
            await shot(page, "33-retention-queue")
            await page.goto(f"{site.url}/retention/{review.review_id}")
            await accessible(page, visited)
            await shot(page, "34-retention-review")
            await page.get_by_role("button", name="Keep the record").click()  # nothing typed
            await page.locator(".govuk-error-summary").wait_for()
            await accessible(page, visited)
            await page.locator('input[name="dispose_reason"]').first.check()
            await page.get_by_role("button", name="Dispose of the record").click()
            await page.get_by_text("This cannot be undone").wait_for()
            await accessible(page, visited)
            await shot(page, "35-retention-confirm")
        finally:
            await browser.close()
