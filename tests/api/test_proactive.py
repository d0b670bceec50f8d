"""Proactive sharing over real HTTP, on the real stack: a practitioner tells another agency
unsolicited, through the same decision steps, sealed transfer and acknowledgement."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from domain.events import DecisionRecorded, RequestOpened
from tests.api.a11y import problems
from tests.api.stack import Stack
from tests.api.test_pages import csrf_of
from tests.api.test_requests_flow import _all_events, decide_to_share, delivered_package


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        yield client


def share_body(stack: Stack, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": {"name": "Ada Example", "date_of_birth": "2017-03-14"},
        "subject_kind": "child",
        "recipient_agency": stack.requester,
        "purpose_category": "safeguarding_welfare",
        "purpose": "Disclosure at the surgery today of an assault on the child last night",
        "information": "What the child said and what the GP saw",
        "rating": "red",
    }
    body.update(changes)
    return body


async def test_a_worker_shares_unsolicited_and_the_recipient_acknowledges(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    worker = stack.people["worker"]
    # Only an agency worker may; nothing is started for anyone else.
    refused = await http.post(
        "/api/shares", json=share_body(stack), headers=stack.people["coordinator"].headers
    )
    assert refused.status_code == 403, refused.text
    bad = await http.post(
        "/api/shares",
        json=share_body(stack, recipient_agency="nobody_here"),
        headers=worker.headers,
    )
    assert bad.status_code == 422, bad.text
    created = await http.post("/api/shares", json=share_body(stack), headers=worker.headers)
    assert created.status_code == 201, created.text
    rid = str(created.json()["request_id"])
    assert created.headers["location"] == f"/api/requests/{rid}"

    # The same decision, as tasks of the worker's own agency; then the same transfer.
    await decide_to_share(http, stack, rid)
    package_id = await delivered_package(http, stack, rid)
    recipient = stack.people["recipient"]
    opened = await http.get(f"/api/packages/{package_id}", headers=recipient.headers)
    assert opened.status_code == 200, opened.text
    ack = await http.post(
        f"/api/packages/{package_id}/acknowledge",
        json={"sha256": opened.json()["sha256"]},
        headers=recipient.headers,
    )
    assert ack.status_code == 200, ack.text

    events = [r.event for r in await stack.store.read_correlation(uuid.UUID(rid))]
    (opening,) = [e for e in events if isinstance(e, RequestOpened)]
    assert opening.proactive and opening.holding_agencies == [stack.holder]
    assert opening.requesting_agency == stack.requester
    assert opening.opened_by == opening.requested_by == str(worker.user_id)
    (decided,) = [e for e in events if isinstance(e, DecisionRecorded)]
    assert decided.record.proactive and decided.record.shared_with == stack.requester

    page = await http.get(
        f"/api/requests/{rid}/export",
        params={"format": "html"},
        headers=stack.people["compliance"].headers,
    )
    assert page.status_code == 200, page.text
    assert "Shared proactively" in page.text
    history = await http.get(
        f"/api/requests/{rid}/history", headers=stack.people["compliance"].headers
    )
    summaries = [e["summary"] for e in history.json()["events"]]
    assert summaries[0].startswith(f"Proactive share opened by {stack.holder}"), summaries[0]


async def test_a_worker_cannot_share_proactively_to_their_own_agency(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    same = await http.post(
        "/api/shares",
        json=share_body(stack, recipient_agency=stack.holder),
        headers=stack.people["worker"].headers,
    )
    assert same.status_code == 422, same.text
    assert "holding_agencies" in same.text or "recipient" in same.text


async def test_a_worker_shares_from_the_page_and_the_decision_opens_in_their_inbox(
    stack: Stack,
) -> None:
    async with httpx.AsyncClient(
        base_url=stack.url, headers={"accept": "text/html"}, timeout=30
    ) as browser:
        signin = await browser.get("/signin")
        await browser.post(
            "/signin",
            data={"token": stack.people["worker"].token, "csrf_token": csrf_of(signin)},
        )
        home = await browser.get("/")
        assert 'href="/shares/new"' in home.text
        page = await browser.get("/shares/new")
        assert page.status_code == 200 and problems(page.text) == []
        assert f'value="{stack.holder}"' not in page.text  # not to one's own agency
        form = {
            "csrf_token": csrf_of(page),
            "recipient_agency": stack.requester,
            "subject_name": "Ada Example",
            "subject_kind": "child",
            "purpose_category": "safeguarding_welfare",
            "purpose": "",
            "information": "What the child said",
            "rating": "red",
        }
        refused = await browser.post("/shares/new", data=form)
        assert refused.status_code == 422, refused.text
        assert "Enter why they need to know now" in refused.text
        assert "What the child said" in refused.text  # kept as typed
        done = await browser.post(
            "/shares/new", data=form | {"purpose": "Disclosure at school today"}
        )
        assert done.status_code == 303 and done.headers["location"] == "/tasks"
        own = await browser.post("/shares/new", data=form | {"recipient_agency": stack.holder})
        assert own.status_code == 422
        assert "another agency" in own.text


async def test_a_share_to_an_agency_not_in_the_register_names_the_recipient_agency(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """The share is recorded as a request from the recipient: its refusal named the request's
    field (requesting_agency), which a share's body does not have."""
    before = await _all_events(stack)
    response = await http.post(
        "/api/shares",
        json=share_body(stack, recipient_agency="nobody_registered"),
        headers=stack.people["worker"].headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {
            "field": "recipient_agency",
            "location": "body",
            "message": "agency nobody_registered is not in the register",
        }
    ]
    assert "requesting_agency" not in response.text
    assert await _all_events(stack) == before
