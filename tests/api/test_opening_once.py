"""Opening a request or a share twice opens it once: the ``Idempotency-Key`` header, over
real HTTP on the real stack (PostgreSQL, the Temporal dev server, a worker, the API).

The same key from the same user with the same body answers as the first call (201, the same
request id and Location) and writes nothing; with another body it is a 422 naming the
header, nothing written; another user's same key opens another request.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from app.request_inputs import NewRequest
from domain.models import Actor
from domain.vocabulary import Role
from infra.users import UserDirectory
from tests.api.stack import Stack
from tests.api.support import Person
from tests.api.test_proactive import share_body
from tests.api.test_requests_flow import _all_events, csrf_of, request_body, signed_in

KEY = re.compile(r'name="opening_key" value="([^"]+)"')


def key_of(page: httpx.Response) -> str:
    match = KEY.search(page.text)
    assert match, "the form has no one-time key"
    return match.group(1)


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as client:
        yield client


def keyed(person: Person, key: str) -> dict[str, str]:
    return person.headers | {"Idempotency-Key": key}


async def opened(stack: Stack, rid: str) -> int:
    """How many ``request.opened`` events the request has."""
    events = await stack.store.read_correlation(uuid.UUID(rid))
    return sum(e.event_type == "request.opened" for e in events)


async def test_the_same_key_twice_opens_one_request(http: httpx.AsyncClient, stack: Stack) -> None:
    coordinator = stack.people["coordinator"]
    key = str(uuid.uuid4())
    first = await http.post(
        "/api/requests", json=request_body(stack), headers=keyed(coordinator, key)
    )
    assert first.status_code == 201, first.text
    rid = str(first.json()["request_id"])
    before = await _all_events(stack)
    written = await stack.events(rid)

    again = await http.post(
        "/api/requests", json=request_body(stack), headers=keyed(coordinator, key)
    )
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"] == f"/api/requests/{rid}"
    assert await opened(stack, rid) == 1
    assert await stack.events(rid) == written
    assert await _all_events(stack) == before  # no other request opened either
    # The key is not the id: it is hashed with a server key, so nothing a client chose is kept.
    assert key not in rid


async def test_the_same_key_with_another_body_is_refused_and_writes_nothing(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    coordinator = stack.people["coordinator"]
    key = str(uuid.uuid4())
    first = await http.post(
        "/api/requests", json=request_body(stack), headers=keyed(coordinator, key)
    )
    assert first.status_code == 201, first.text
    rid = str(first.json()["request_id"])
    before = await _all_events(stack)
    written = await stack.events(rid)

    other = await http.post(
        "/api/requests", json=request_body(stack, rating="red"), headers=keyed(coordinator, key)
    )
    assert other.status_code == 422, other.text
    problem = other.json()
    assert problem["type"] == "urn:mashflow:problem:validation"
    assert "Idempotency-Key" in problem["detail"]
    assert "other details" in problem["detail"]
    assert key not in other.text and "Ada Example" not in other.text
    assert await _all_events(stack) == before
    assert await stack.events(rid) == written


async def test_another_users_same_key_opens_another_request(
    http: httpx.AsyncClient, stack: Stack, users: UserDirectory
) -> None:
    issued = await users.add("Second coordinator", Role.COORDINATOR, None)
    second = Person(issued.user.id, Role.COORDINATOR, None, issued.token)
    key = str(uuid.uuid4())
    mine = await http.post(
        "/api/requests", json=request_body(stack), headers=keyed(stack.people["coordinator"], key)
    )
    theirs = await http.post("/api/requests", json=request_body(stack), headers=keyed(second, key))
    assert mine.status_code == 201, mine.text
    assert theirs.status_code == 201, theirs.text
    assert mine.json()["request_id"] != theirs.json()["request_id"]
    for response in (mine, theirs):
        assert await opened(stack, str(response.json()["request_id"])) == 1


async def test_a_share_sent_twice_with_one_key_opens_once(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    worker, other = stack.people["worker"], stack.people["other_worker"]
    key = str(uuid.uuid4())
    first = await http.post("/api/shares", json=share_body(stack), headers=keyed(worker, key))
    assert first.status_code == 201, first.text
    before = await _all_events(stack)
    again = await http.post("/api/shares", json=share_body(stack), headers=keyed(worker, key))
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert await _all_events(stack) == before
    assert await opened(stack, str(first.json()["request_id"])) == 1

    changed = await http.post(
        "/api/shares", json=share_body(stack, rating="amber"), headers=keyed(worker, key)
    )
    assert changed.status_code == 422, changed.text
    assert "Idempotency-Key" in changed.json()["detail"]
    # Another worker's same key is their own share.
    theirs = await http.post("/api/shares", json=share_body(stack), headers=keyed(other, key))
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["request_id"] != first.json()["request_id"]
    assert await _all_events(stack) == before + 1


async def test_a_key_that_is_not_a_token_is_refused(http: httpx.AsyncClient, stack: Stack) -> None:
    before = await _all_events(stack)
    refused = await http.post(
        "/api/requests",
        json=request_body(stack),
        headers=keyed(stack.people["coordinator"], "two words"),
    )
    assert refused.status_code == 422, refused.text
    assert "Idempotency-Key" in refused.json()["detail"]
    (error,) = refused.json()["errors"]
    assert (error["field"], error["location"]) == ("Idempotency-Key", "header")
    assert "two words" not in refused.text
    assert await _all_events(stack) == before


async def test_the_openapi_documents_the_header_on_both_openings(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    spec = (await http.get("/openapi.json")).json()
    for path in ("/api/requests", "/api/shares"):
        parameters = spec["paths"][path]["post"]["parameters"]
        (header,) = [p for p in parameters if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header" and header["required"] is False
        assert "same body" in header["description"] and "422" in header["description"]


async def test_the_new_request_form_sent_twice_opens_once(stack: Stack) -> None:
    async with signed_in(stack, "coordinator") as page:
        shown = await page.get("/requests/new")
        assert shown.status_code == 200, shown.text
        other = await page.get("/requests/new")
        assert key_of(other) != key_of(shown)  # a fresh key each time the form is shown
        form = {
            "csrf_token": csrf_of(shown),
            "opening_key": key_of(shown),
            "subject_name": "Cara Example",
            "subject_kind": "child",
            "requesting_agency": stack.requester,
            "holding_agencies": [stack.holder],
            "purpose_category": "safeguarding_welfare",
            "purpose": "Strategy discussion",
            "information_sought": "Contacts in the last year",
            "rating": "amber",
        }
        # Refused first (a blank answer): the key comes back with the form, nothing opened.
        before = await _all_events(stack)
        refused = await page.post("/requests/new", data=form | {"purpose": ""})
        assert refused.status_code == 422, refused.text
        assert key_of(refused) == key_of(shown)
        assert await _all_events(stack) == before
        # A double click: both at once, then once more; one request, every answer on it.
        both = await asyncio.gather(
            page.post("/requests/new", data=form), page.post("/requests/new", data=form)
        )
        again = await page.post("/requests/new", data=form)
        places = {r.headers.get("location") for r in (*both, again)}
        assert [r.status_code for r in (*both, again)] == [303, 303, 303], [
            r.text for r in (*both, again)
        ]
        (place,) = places
        assert place is not None and place.startswith("/requests/")
        assert await _all_events(stack) == before + 1
        assert await opened(stack, place.removeprefix("/requests/")) == 1
        # The same form changed and sent again: said on the page, nothing opened.
        changed = await page.post("/requests/new", data=form | {"rating": "red"})
        assert changed.status_code == 422, changed.text
        assert "already been sent" in changed.text
        assert await _all_events(stack) == before + 1


async def test_the_share_form_sent_twice_shares_once(stack: Stack) -> None:
    async with signed_in(stack, "worker") as page:
        shown = await page.get("/shares/new")
        assert shown.status_code == 200, shown.text
        form = {
            "csrf_token": csrf_of(shown),
            "opening_key": key_of(shown),
            "recipient_agency": stack.requester,
            "subject_name": "Ada Example",
            "subject_kind": "child",
            "purpose_category": "safeguarding_welfare",
            "purpose": "Disclosure at school today",
            "information": "What the child said",
            "rating": "red",
        }
        before = await _all_events(stack)
        first = await page.post("/shares/new", data=form)
        again = await page.post("/shares/new", data=form)
        assert (first.status_code, again.status_code) == (303, 303), again.text
        assert first.headers["location"] == again.headers["location"] == "/tasks"
        assert await _all_events(stack) == before + 1


async def test_two_openings_at_once_under_one_key_open_one_request(stack: Stack) -> None:
    """Both calls find nothing and start at once: Temporal keeps one workflow per id, and the
    one refused finds the other's opening and answers with it."""
    coordinator = stack.people["coordinator"]
    actor = Actor(user_id=str(coordinator.user_id), role=coordinator.role)
    new = NewRequest.model_validate(request_body(stack) | {"requested_by": actor.user_id})
    key = str(uuid.uuid4())
    before = await _all_events(stack)
    ids = await asyncio.gather(
        *(stack.requests.open_request(actor, new, idempotency_key=key) for _ in range(3))
    )
    assert len(set(ids)) == 1
    assert await opened(stack, str(ids[0])) == 1
    assert await _all_events(stack) == before + 1
