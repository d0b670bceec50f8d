"""What each role needs to decide, on its pages, on the real stack (issue 15).

The coordinator's request page tells the request's story from the event log (each
agency's steps, outcomes, the reasons for a not-share), with people by name; the
recipient's package page says whom it is about, why it was shared and on which basis,
and warns that the person was not told and that a source must not be identified; the
compliance officer reads each decision record in words with people named, the views
folded under a count, and exports and verifies from the web.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from domain.decision import TaskKind
from tests.api.a11y import problems
from tests.api.stack import Stack
from tests.api.test_requests_flow import (
    act,
    csrf_of,
    decide_to_share,
    delivered_package,
    open_request,
    signed_in,
)

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        yield client


async def _until(page: httpx.AsyncClient, path: str, text: str) -> str:
    for _ in range(100):
        html = (await page.get(path)).text
        if text in html:
            return html
        await asyncio.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared on {path}")


def _main(html: str) -> str:
    return html.split('id="main-content"')[1].split("</main>")[0]


async def test_the_coordinator_reads_the_requests_story(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    shared = await open_request(http, stack)
    await decide_to_share(http, stack, shared)
    refused = await open_request(http, stack, rating="red")
    task = await stack.task_id(refused, stack.holder, TaskKind.ASSESS_PURPOSE)
    assess = {"purpose_clear": False, "identifiable": True, "confidential": True}
    body = {"action": "assess_purpose", "special_category": False, **assess}
    assert (await act(http, stack.people["worker"], task, body)).status_code == 200
    task = await stack.task_id(refused, stack.holder, TaskKind.RECORD_DECISION)
    not_share = {
        "action": "record_decision",
        "outcome": "not_share",
        "reasons": "No concern is stated",
        "not_share_reasons": ["no_legitimate_purpose"],
    }
    assert (await act(http, stack.people["worker"], task, not_share)).status_code == 200

    async with signed_in(stack, "coordinator") as page:
        html = await _until(page, f"/requests/{shared}", "Police: Decision recorded")
        story = _main(html).split('id="timeline-heading"')[1]
        for step in ("Request opened", "Police: Purpose assessed", "Police: Advice given"):
            assert step in story, step
        assert "Shared</strong>" in story and "by Flow worker (agency worker)" in story
        assert "advice given by Flow advisor as caldicott guardian" in story
        assert not UUID_RE.search(story.split("Request opened")[1].split("</ol>")[0])
        assert "Ada Example" not in html  # the story holds no personal data
        # One clock: the sentences' due times on the hub's, as each step's own time is.
        assert " UTC" not in story
        assert re.search(r"decision due \w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d (GMT|BST)", story)
        assert problems(html) == []

        html = await _until(page, f"/requests/{refused}", "Police: Decision recorded")
        story = _main(html).split('id="timeline-heading"')[1]
        assert "Not shared</strong>" in story
        assert "decided not to share (no legitimate purpose)" in story


async def test_the_recipient_knows_whom_why_and_what_not_to_do(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    await decide_to_share(http, stack, rid)
    package = await delivered_package(http, stack, rid)
    async with signed_in(stack, "recipient") as page:
        listed = await page.get("/packages")
        assert "Police" in listed.text and problems(listed.text) == []
        opened = await page.post(f"/packages/{package}/open", data={"csrf_token": csrf_of(listed)})
        assert opened.status_code == 200, opened.text
        main = _main(opened.text)
        whom = main.split("Whom it is about")[1].split("Why it was shared")[0]
        for shown in ("Ada Example", "14 March 2017", "1 Road", "child"):
            assert shown in whom, shown
        why = main.split("Why it was shared")[1].split('id="items-heading"')[0]
        assert "Strategy discussion after concerns raised by the school" in why
        assert "Lawful basis (UK GDPR Article 6)" in why and "public task" in why
        assert "significant harm to child" in why  # the ground for sharing without consent
        warnings = re.findall(r'govuk-warning-text__text">(.*?)</strong>', main, re.S)
        assert len(warnings) == 2, warnings
        assert "has not been told" in warnings[0] and "put someone at risk" in warnings[0]
        assert "must not be identified" in warnings[1]
        assert "Do not identify the person named" in main  # on the item itself
        assert problems(opened.text) == []


async def test_the_compliance_officer_reads_the_record_in_words(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    await decide_to_share(http, stack, rid)
    await stack.task_id(rid, stack.holder, TaskKind.ACKNOWLEDGE_RECEIPT)
    async with signed_in(stack, "compliance") as page:
        withheld = await page.get(f"/requests/{rid}/history")
        assert withheld.status_code == 200 and problems(withheld.text) == []
        shown = await page.post(f"/requests/{rid}/history", data={"csrf_token": csrf_of(withheld)})
        main = _main(shown.text)
        record = main.split("Decision records")[1].split('id="timeline-heading"')[0]
        assert "Decided by</dt>" in record and "Flow worker (agency worker)" in record, record
        assert "Flow advisor, as caldicott guardian (Named GP for safeguarding)" in record
        assert "Lawful basis (UK GDPR Article 6)" in record and "public task" in record
        assert "Person to be told" in record and "would put someone at risk" in record
        assert "Children&#39;s social care, for" in record  # agencies by name
        assert not re.search(r"\d{4}-\d\d-\d\dT", record)  # times in words, not ISO
        assert re.search(
            r"Decided at</dt>\s*<dd[^>]*>\d{1,2} \w{3} \d{4}, \d\d:\d\d (GMT|BST)", record
        )
        assert " UTC" not in record  # the hub's clock, as every time on the page
        assert "{" not in record and not UUID_RE.search(record)  # words, never JSON or ids
        views = main.split("Who has viewed the personal data")[1]
        assert '<details class="govuk-details">' in views  # folded, with the count
        assert re.search(r"\d+ views? (and|or) attempts?", views)
        assert "Flow compliance" in views and problems(shown.text) == []
        steps = main.split('id="timeline-heading"')[1].split("</table>")[0]
        assert "decision due" in steps and " UTC" not in steps  # one clock: the hub's

        printable = await page.post(
            f"/requests/{rid}/export",
            data={"csrf_token": csrf_of(shown), "format": "html", "reveal": "yes"},
        )
        assert printable.status_code == 200
        assert printable.headers["content-disposition"].startswith("attachment")
        assert "Flow worker" in printable.text and "Ada Example" in printable.text
        assert "Decided by" in printable.text and '"lawful_basis"' not in printable.text
        forged = await page.post(f"/requests/{rid}/export", data={"format": "csv"})
        assert forged.status_code == 403

        verify = await page.get("/audit/verify")
        assert verify.status_code == 200 and problems(verify.text) == []
        checked = await page.post("/audit/verify", data={"csrf_token": csrf_of(verify)})
        assert checked.status_code == 200 and "Every record is intact" in checked.text

        earlier = await page.get(
            f"/requests/{rid}/history", params={"as_of": "2000-01-01T00:00:00"}
        )
        assert earlier.status_code == 200 and "As known at" in earlier.text
        assert "Decided by" not in earlier.text

    async with signed_in(stack, "coordinator") as page:
        assert (await page.get("/audit/verify")).status_code == 403
        home = await page.get("/")
        refused = await page.post(
            f"/requests/{rid}/export", data={"csrf_token": csrf_of(home), "format": "html"}
        )
        assert refused.status_code == 403 and "Ada Example" not in refused.text


async def test_error_pages_keep_the_signed_in_header(http: httpx.AsyncClient, stack: Stack) -> None:
    rid = await open_request(http, stack)
    async with signed_in(stack, "worker") as page:
        missing = await page.get("/no/such/page")
        assert missing.status_code == 404
        header = missing.text.split('id="main-content"')[0]
        assert "Flow worker" in header and "Sign out" in header and 'href="/tasks"' in header
        assert problems(missing.text) == []

        refused = await page.get(f"/requests/{rid}/history")  # the compliance officer's page
        assert refused.status_code == 403
        header, main = refused.text.split('id="main-content"')
        assert "Flow worker" in header and 'href="/tasks"' in header
        assert 'href="/retention"' not in header  # the person's own menu, not the page's role
        assert rid not in main and "Ada Example" not in refused.text  # nothing of the request
        assert problems(refused.text) == []

    anonymous = await http.get("/no/such/page", headers={"accept": "text/html"})
    assert anonymous.status_code == 404 and "Sign out" not in anonymous.text


async def test_the_as_of_boxes_read_the_hubs_clock_and_keep_what_was_typed(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    await decide_to_share(http, stack, rid)
    path = f"/requests/{rid}/history"
    async with signed_in(stack, "compliance") as page:
        bad = await page.get(
            path,
            params={
                "as_of-day": "31",
                "as_of-month": "2",
                "as_of-year": "2026",
                "as_of_time-hour": "25",
                "as_of_time-minute": "07",
            },
        )
        assert bad.status_code == 422 and bad.text.count("<title>Error: ") == 1
        summary = bad.text.split("govuk-error-summary__list")[1].split("</ul>")[0]
        assert '<a href="#as_of">The date must be a real date</a>' in summary
        assert (
            '<a href="#as_of_time">The time must be a real time, from 00:00 to 23:59</a>' in summary
        )
        for box, kept in (
            ("as_of", "31"),
            ("as_of-month", "2"),
            ("as_of-year", "2026"),
            ("as_of_time", "25"),
            ("as_of_time-minute", "07"),
        ):
            assert re.search(
                rf'id="{box}" name="[\w-]+" type="text" inputmode="numeric" value="{kept}"',
                bad.text,
            ), box
        assert 'id="as_of-error"' in bad.text and 'id="as_of_time-error"' in bad.text
        assert "Earlier view" not in bad.text and problems(bad.text) == []

        future = await page.get(
            path, params={"as_of-day": "1", "as_of-month": "1", "as_of-year": "2999"}
        )
        assert future.status_code == 422 and "The date must be today or in the past" in future.text

        early = await page.get(
            path, params={"as_of-day": "1", "as_of-month": "1", "as_of-year": "2000"}
        )
        assert early.status_code == 200 and "Decided by" not in early.text
        assert "As known at Sat 1 Jan 2000, 23:59 GMT" in early.text  # the end of that day
        assert 'value="1"' in early.text and 'value="2000"' in early.text
        assert problems(early.text) == []

        revealed = await page.post(
            path, data={"csrf_token": csrf_of(early), "as_of": "2000-01-01T23:59:59+00:00"}
        )
        assert (
            revealed.status_code == 200 and "As known at Sat 1 Jan 2000, 23:59 GMT" in revealed.text
        )
        assert (
            'id="as_of_time" name="as_of_time-hour" type="text" inputmode="numeric" value="23"'
            in revealed.text
        )

        now = await page.get(path, params={"as_of-day": "", "as_of-month": "", "as_of-year": ""})
        assert now.status_code == 200 and "Earlier view" not in now.text
