"""The compliance officers' review queue and decision pages, over real HTTP.

The API is served by uvicorn on the session's database and Temporal dev server,
with the retention worker of ``dev_hub``; people sign in with their tokens and
submit the forms as a browser would (cookies, CSRF token, form posts).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest

from api.app import create_app
from app.timetext import local_time
from domain.events import RecordDisposed, RecordRetained, SubjectErased
from domain.policy import DEFAULT_POLICY
from domain.vocabulary import RecordType, Role
from infra.settings import Settings
from infra.users import UserDirectory
from tests.api.conftest import serving
from tests.api.test_pages import csrf_of, sign_in
from tests.retention.conftest import DevHub, closed_request, review_of


@dataclass(frozen=True)
class Site:
    url: str
    tokens: dict[Role, str]


@pytest.fixture(scope="module")
async def site(dev_hub: DevHub, settings: Settings) -> AsyncIterator[Site]:
    users = UserDirectory(dev_hub.infra.engine)
    tokens: dict[Role, str] = {}
    for role, agency in (
        (Role.COMPLIANCE_OFFICER, None),
        (Role.COORDINATOR, None),
        (Role.AGENCY_WORKER, "police"),
    ):
        tokens[role] = (await users.add(f"Retention {role.value}", role, agency)).token
    own = settings.with_overrides(temporal_task_queue=dev_hub.task_queue)
    app = create_app(own, engine=dev_hub.infra.engine, temporal=dev_hub.env.client)
    async with serving(app) as url:
        yield Site(url, tokens)


@pytest.fixture
async def browser(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=site.url, headers={"accept": "text/html"}, timeout=60
    ) as client:
        yield client


def boxes(day: date) -> dict[str, str]:
    """A date typed in the next review's day, month and year boxes."""
    return {
        "next_review_on-day": str(day.day),
        "next_review_on-month": str(day.month),
        "next_review_on-year": str(day.year),
    }


async def signed_in(browser: httpx.AsyncClient, site: Site, role: Role) -> None:
    done = await sign_in(browser, site.tokens[role])
    assert done.status_code == 303, done.text


async def decisions(dev_hub: DevHub, request_id: uuid.UUID) -> list[object]:
    return [
        r.event
        for r in await dev_hub.infra.store.read_correlation(request_id)
        if isinstance(r.event, RecordRetained | RecordDisposed | SubjectErased)
    ]


async def until_state(browser: httpx.AsyncClient, review_id: uuid.UUID, state: str) -> str:
    for _ in range(150):
        page = await browser.get(f"/retention/{review_id}")
        assert page.status_code == 200
        if f'id="review-state">{state}' in page.text:
            return page.text
        await asyncio.sleep(0.2)
    raise AssertionError(f"review {review_id} never showed {state}")


async def test_only_compliance_officers_see_the_queue_and_reviews(
    browser: httpx.AsyncClient, site: Site
) -> None:
    for role in (Role.COORDINATOR, Role.AGENCY_WORKER):
        browser.cookies.clear()
        await signed_in(browser, site, role)
        for path in ("/retention", f"/retention/{uuid.uuid4()}"):
            page = await browser.get(path)
            assert page.status_code == 403, (role, path)
            assert "compliance officers only" in page.text
    browser.cookies.clear()
    assert (await browser.get("/retention")).headers["location"] == "/signin?next=%2Fretention"


async def test_an_officer_retains_one_record_and_disposes_of_another_from_the_queue(
    browser: httpx.AsyncClient, site: Site, dev_hub: DevHub
) -> None:
    canary = f"Perpetua Formfield {uuid.uuid4().hex[:8]}"
    request_id = await closed_request(dev_hub.infra, dev_hub.hub, canary)
    await dev_hub.retention.run_now(today=date.today() + timedelta(days=6 * 366))
    shared = await review_of(dev_hub.retention, request_id)
    package = await review_of(dev_hub.retention, request_id, RecordType.PACKAGE)
    await signed_in(browser, site, Role.COMPLIANCE_OFFICER)

    # The queue: both reviews, with their review dates and decision due times.
    queue = await browser.get("/retention")
    assert queue.status_code == 200
    for review in (shared, package):
        assert f'href="/retention/{review.review_id}"' in queue.text
        row = queue.text.split(f'id="review-{review.review_id}"')[1].split("</tr>")[0]
        assert review.due_on.strftime("%-d %B %Y") in row
        assert local_time(review.decision_due_at, DEFAULT_POLICY.calendar.timezone) in row
        assert "Open" in row and "Overdue" not in row
    assert (await browser.get(f"/retention/{uuid.uuid4()}")).status_code == 404

    # The review page: the record's trail, personal data withheld, and both forms.
    page = await browser.get(f"/retention/{package.review_id}")
    assert page.status_code == 200
    assert "Decision trail" in page.text and "Retention review opened" in page.text
    assert canary not in page.text
    assert f'action="/retention/{package.review_id}/retain"' in page.text
    assert f'action="/retention/{package.review_id}/dispose"' in page.text
    csrf = csrf_of(page)
    before = await decisions(dev_hub, request_id)

    # Refusals write nothing: no CSRF token; blank or bad fields; a date past the policy's.
    retain = f"/retention/{package.review_id}/retain"
    forged = await browser.post(retain, data={"reason": "Keep", **boxes(date(2030, 1, 1))})
    assert forged.status_code == 403
    bad = await browser.post(
        retain,
        data={
            "csrf_token": csrf,
            "reason": " ",
            "next_review_on-day": "31",
            "next_review_on-month": "2",
            "next_review_on-year": "2030",
        },
    )
    assert bad.status_code == 422
    assert 'id="reason-error"' in bad.text and "Enter the reason the record is kept" in bad.text
    assert "The date of the next review must be a real date" in bad.text  # day/month/year boxes
    assert 'id="next_review_on" name="next_review_on-day"' in bad.text
    assert 'value="31"' in bad.text and 'id="next_review_on-error"' in bad.text
    too_far = boxes(date.today() + timedelta(days=800))
    far = await browser.post(
        retain, data={"csrf_token": csrf, "reason": "Kept <b>on</b>", **too_far}
    )
    assert far.status_code == 422
    assert "Must be no later than" in far.text and "review interval" in far.text
    assert "Kept &lt;b&gt;on&lt;/b&gt;" in far.text  # the typed reason is kept, escaped
    dispose = f"/retention/{shared.review_id}/dispose"
    unchosen = await browser.post(dispose, data={"csrf_token": csrf})
    assert unchosen.status_code == 422 and "Select why the record is disposed of" in unchosen.text
    asked = await browser.post(
        dispose, data={"csrf_token": csrf, "dispose_reason": "retention_period_ended"}
    )
    assert asked.status_code == 200 and "This cannot be undone" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text
    assert await decisions(dev_hub, request_id) == before

    # Retain the package record: recorded, then shown as decided, with no form left.
    next_day = date.today() + timedelta(days=200)
    next_review = boxes(next_day)
    kept = await browser.post(
        retain, data={"csrf_token": csrf, "reason": "Recipient asked", **next_review}
    )
    assert kept.status_code == 303
    assert kept.headers["location"] == f"/retention/{package.review_id}?decided=retained"
    done = await until_state(browser, package.review_id, "retained")
    assert f"next review on {next_day.strftime('%-d %B %Y')}" in done
    assert 'action="/retention/' not in done
    again = await browser.post(retain, data={"csrf_token": csrf, "reason": "Again", **next_review})
    assert again.status_code == 409 and "This review is closed" in again.text

    # Dispose of the shared decision, confirmed: the subject is erased, the trail stays.
    confirmed = await browser.post(
        dispose,
        data={"csrf_token": csrf, "dispose_reason": "retention_period_ended", "confirmed": "yes"},
    )
    assert confirmed.status_code == 303
    gone = await until_state(browser, shared.review_id, "disposed")
    assert "Retention review opened" in gone
    assert [type(e) for e in await decisions(dev_hub, request_id)] == [
        RecordRetained,
        RecordDisposed,
        SubjectErased,
    ]
    queue = await browser.get("/retention")
    assert str(shared.review_id) not in queue.text and str(package.review_id) not in queue.text
