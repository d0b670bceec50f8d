"""A sharing request through every role over real HTTP, on the real stack.

PostgreSQL, the Temporal dev server and a worker from ``worker.main`` run
behind the API served by uvicorn; every step is an HTTP call made with a
person's token. Hostile input is refused with a 422 naming the field, and
nothing is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from domain.decision import TaskKind
from tests.api.a11y import problems
from tests.api.conftest import Person
from tests.api.stack import ASSESS, Stack

SCRIPT = "<script>alert('x')</script>"


def request_body(stack: Stack, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": {"name": "Ada Example", "date_of_birth": "2017-03-14", "address": "1 Road"},
        "subject_kind": "child",
        "requesting_agency": stack.requester,
        "holding_agencies": [stack.holder],
        "purpose_category": "safeguarding_welfare",
        "purpose": "Strategy discussion after concerns raised by the school",
        "information_sought": "Police contact with the household in the last year",
        "rating": "amber",
    }
    body.update(changes)
    return body


async def open_request(http: httpx.AsyncClient, stack: Stack, **changes: Any) -> str:
    response = await http.post(
        "/api/requests",
        json=request_body(stack, **changes),
        headers=stack.people["coordinator"].headers,
    )
    assert response.status_code == 201, response.text
    request_id = str(response.json()["request_id"])
    assert response.headers["location"] == f"/api/requests/{request_id}"
    return request_id


async def act(
    http: httpx.AsyncClient, person: Person, task_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await http.post(f"/api/tasks/{task_id}", json=body, headers=person.headers)


async def steps(
    http: httpx.AsyncClient, person: Person, task_id: str, *bodies: dict[str, Any]
) -> None:
    """Each step in turn on one task, as ``person``; every one accepted."""
    for body in bodies:
        done = await act(http, person, task_id, body)
        assert done.status_code == 200, done.text


async def revealed_record(http: httpx.AsyncClient, stack: Stack, rid: str) -> str:
    """The request's printable record as the compliance officer opens it, personal data
    revealed."""
    page = await http.get(
        f"/api/requests/{rid}/export",
        params={"format": "html", "reveal": "true"},
        headers=stack.people["compliance"].headers,
    )
    assert page.status_code == 200, page.text
    return page.text


ITEMS = [
    {
        "description": "Domestic abuse incident attended at the home",
        "content": f"Officers attended; the child was present and unharmed. {SCRIPT}",
        "source": "Incident log, response team",
        "kind": "fact",
        "dated": (date.today().replace(day=1)).isoformat(),
        "historical": False,
    },
    {
        "description": "Attending officer's assessment",
        "content": "The officer was worried about the child's demeanour.",
        "source": "Officer's notes",
        "kind": "opinion",
        "dated": (date.today().replace(day=1)).isoformat(),
        "historical": False,
        "protect_identity": True,
    },
]


async def decide_to_share(http: httpx.AsyncClient, stack: Stack, rid: str) -> None:
    """Worker and advisor of the holding agency walk the decision to a share."""
    worker, advisor, agency = stack.people["worker"], stack.people["advisor"], stack.holder
    task = await stack.task_id(rid, agency, TaskKind.ASSESS_PURPOSE)
    assess = ASSESS | {"note": "Purpose checked against the referral"}
    first = await act(http, worker, task, assess)
    assert first.status_code == 200, first.text
    again = await act(http, worker, task, assess)  # a double click: the same step, once
    assert again.status_code == 200, again.text
    assert again.json()["version"] == first.json()["version"]

    task = await stack.task_id(rid, agency, TaskKind.RESOLVE_CONSENT)
    await steps(
        http,
        worker,
        task,
        {"action": "seek_consent"},
        {"action": "record_consent", "outcome": "refused", "note": "Mother refused"},
        {"action": "request_advice", "question": "Is sharing without consent justified?"},
    )

    task = await stack.task_id(rid, agency, TaskKind.GIVE_ADVICE)
    advice = {
        "action": "give_advice",
        "recommendation": "share",
        "agrees_to_share_without_consent": True,
        "advice": "Risk of significant harm outweighs the refusal: share",
        "capacity": "caldicott_guardian",
        "position": "Named GP for safeguarding",
    }
    done = await act(http, advisor, task, advice)
    assert done.status_code == 200, done.text

    task = await stack.task_id(rid, agency, TaskKind.RECORD_DECISION)
    await steps(
        http,
        worker,
        task,
        {
            "action": "determine_lawful_basis",
            "art6": "public_task",
            "legal_power": "Crime and Disorder Act 1998 s.115",
            "without_consent": "significant_harm_to_child",
        },
        {"action": "select_information", "items": ITEMS},
        {
            "action": "record_decision",
            "outcome": "share",
            "reasons": "The information bears directly on the child's safety",
            "necessity": "Only the two entries about the recent incident",
            "inform": {"will_inform": False, "reason_not": "would_put_someone_at_risk"},
        },
    )


async def delivered_package(http: httpx.AsyncClient, stack: Stack, rid: str) -> str:
    await stack.task_id(rid, stack.holder, TaskKind.ACKNOWLEDGE_RECEIPT)
    inbox = await http.get("/api/packages", headers=stack.people["recipient"].headers)
    assert inbox.status_code == 200, inbox.text
    (package,) = [p for p in inbox.json() if p["request_id"] == rid]
    return str(package["package_id"])


async def test_a_request_goes_through_every_role(http: httpx.AsyncClient, stack: Stack) -> None:
    rid = await open_request(http, stack)
    await decide_to_share(http, stack, rid)

    package_id = await delivered_package(http, stack, rid)
    # A recipient of another agency is refused, and the attempt is on the record.
    other = stack.people["other_recipient"]
    refused = await http.get(f"/api/packages/{package_id}", headers=other.headers)
    assert refused.status_code == 403, refused.text
    access = await stack.store.read_correlation(uuid.UUID(rid))
    attempts = [e.event for e in access if e.event_type == "access.refused"]
    assert [(a.viewer_id, a.package_id) for a in attempts] == [  # type: ignore[attr-defined]
        (str(other.user_id), uuid.UUID(package_id))
    ]
    recipient = stack.people["recipient"]
    opened = await http.get(f"/api/packages/{package_id}", headers=recipient.headers)
    assert opened.status_code == 200, opened.text
    # The answer says the package is opened now, as the list says from then on.
    summary = opened.json()["package"]
    assert summary["status"] == "opened" and summary["opened_at"] is not None, summary
    items = opened.json()["items"]
    assert {i["kind"] for i in items} == {"fact", "opinion"}
    # The sealed package kept the mark of the item naming someone not to be identified.
    assert [i["protect_identity"] for i in items] == [False, True]
    assert any(SCRIPT in i["content"] for i in items)  # data as sent; pages escape it
    sha = opened.json()["sha256"]
    wrong = await http.post(
        f"/api/packages/{package_id}/acknowledge",
        json={"sha256": "0" * 64},
        headers=recipient.headers,
    )
    assert wrong.status_code in (409, 422), wrong.text
    ack = await http.post(
        f"/api/packages/{package_id}/acknowledge", json={"sha256": sha}, headers=recipient.headers
    )
    assert ack.status_code == 200, ack.text

    # The decision's workflow ends after the acknowledgement's answer, and the request hears
    # of it from its child a moment later: wait for that, bounded.
    for _ in range(100):
        view = (await stack.requests.view(uuid.UUID(rid))).state
        (progress,) = view.agencies
        if progress.status == "completed":
            break
        await asyncio.sleep(0.1)
    assert progress.outcome == "share" and progress.status == "completed"
    types = [e.event_type for e in await stack.store.read_correlation(uuid.UUID(rid))]
    for expected in ("consent", "advice", "decision", "package"):
        assert any(expected in t for t in types), (expected, types)

    history = await http.get(
        f"/api/requests/{rid}/history", headers=stack.people["compliance"].headers
    )
    assert history.status_code == 200, history.text
    # The record is shown in words, the ICO form's fields among them, never as raw JSON.
    page = await revealed_record(http, stack, rid)
    for words in (
        "Lawful basis (UK GDPR Article 6)",
        "Legal power behind the public task",
        "Crime and Disorder Act 1998 s.115",
        "as caldicott guardian (Named GP for safeguarding)",
        "Who sharing protects",
    ):
        assert words in page, words
    assert '"lawful_basis"' not in page


async def test_coordinator_rerates_and_withdraws(http: httpx.AsyncClient, stack: Stack) -> None:
    rid = await open_request(http, stack, rating="green")
    await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    coordinator = stack.people["coordinator"].headers
    rated = await http.post(
        f"/api/requests/{rid}/rating",
        json={"rating": "red", "rationale": "New information: injury reported"},
        headers=coordinator,
    )
    assert rated.status_code == 200, rated.text
    assert rated.json()["rating"] == "red"
    withdrawn = await http.post(
        f"/api/requests/{rid}/withdraw",
        json={"reason": "Resolved by the school"},
        headers=coordinator,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["withdrawn"] is True
    again = await http.post(
        f"/api/requests/{rid}/withdraw", json={"reason": "Twice"}, headers=coordinator
    )
    assert again.status_code == 409, again.text
    assert again.headers["content-type"].startswith("application/problem+json")
    # Its workflow has ended: the refusal is said from the request's state, not as a
    # generic 'no longer open'; nothing is written.
    assert again.json()["detail"] == "the request has already been withdrawn"
    events = await stack.events(rid)
    rerated = await http.post(
        f"/api/requests/{rid}/rating",
        json={"rating": "amber", "rationale": "Less urgent"},
        headers=coordinator,
    )
    assert rerated.status_code == 409, rerated.text
    assert rerated.json()["detail"] == "the request has already been withdrawn"
    assert await stack.events(rid) == events


async def test_not_share_decision_without_legitimate_purpose(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    worker = stack.people["worker"]
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    body = {
        "action": "assess_purpose",
        "purpose_clear": False,
        "identifiable": True,
        "confidential": True,
        "special_category": False,
    }
    assert (await act(http, worker, task, body)).status_code == 200
    task = await stack.task_id(rid, stack.holder, TaskKind.RECORD_DECISION)
    inconsistent = await act(
        http, worker, task, {"action": "record_decision", "outcome": "share", "reasons": "x"}
    )
    assert inconsistent.status_code == 422, inconsistent.text
    decided = await act(
        http,
        worker,
        task,
        {
            "action": "record_decision",
            "outcome": "not_share",
            "reasons": "No concern is stated",
            "not_share_reasons": ["no_legitimate_purpose"],
        },
    )
    assert decided.status_code == 200, decided.text
    # The requester is told why (the structured reasons, never the personal data).
    coordinator = stack.people["coordinator"].headers
    reasons: list[str] = []
    for _ in range(100):
        summary = await http.get(f"/api/requests/{rid}", headers=coordinator)
        assert summary.status_code == 200, summary.text
        reasons = summary.json()["agencies"][0]["not_share_reasons"]
        if reasons:
            break
        await asyncio.sleep(0.1)
    assert reasons == ["no_legitimate_purpose"]


HOSTILE = [
    ("subject.name", {"subject": {"name": "x" * 201}}),
    ("purpose", {"purpose": "x" * 10_001}),
    ("rating", {"rating": 5}),
    ("rating", {"rating": "purple"}),
    ("subject_kind", {"subject_kind": "alien"}),
    ("purpose_category", {"purpose_category": "curiosity"}),
    ("holding_agencies", {"holding_agencies": "police"}),
    ("holding_agencies.0", {"holding_agencies": ["Police Dept; DROP TABLE"]}),
    ("consent_already_held", {"consent_already_held": "perhaps"}),
    ("surprise", {"surprise": True}),
]


@pytest.mark.parametrize(
    ("field", "changes"), HOSTILE, ids=[h[0] + str(i) for i, h in enumerate(HOSTILE)]
)
async def test_hostile_request_is_refused_naming_the_field(
    http: httpx.AsyncClient, stack: Stack, field: str, changes: dict[str, Any]
) -> None:
    before = await _all_events(stack)
    response = await http.post(
        "/api/requests",
        json=request_body(stack, **changes),
        headers=stack.people["coordinator"].headers,
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in problem["errors"]], problem
    assert "x" * 50 not in response.text  # never echoes the value
    assert await _all_events(stack) == before


async def test_unknown_agency_is_refused(http: httpx.AsyncClient, stack: Stack) -> None:
    response = await http.post(
        "/api/requests",
        json=request_body(stack, holding_agencies=["nowhere_agency"]),
        headers=stack.people["coordinator"].headers,
    )
    assert response.status_code == 422, response.text


async def test_hostile_task_bodies_are_refused(http: httpx.AsyncClient, stack: Stack) -> None:
    rid = await open_request(http, stack)
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    worker = stack.people["worker"]
    before = await stack.events(rid)
    cases: list[tuple[str, dict[str, Any]]] = [
        ("action", {"action": "launch_missiles"}),
        (
            "assess_purpose.purpose_clear",
            {
                "action": "assess_purpose",
                "purpose_clear": "maybe",
                "identifiable": True,
                "confidential": True,
                "special_category": False,
            },
        ),
        (
            "assess_purpose.note",
            {
                "action": "assess_purpose",
                "purpose_clear": True,
                "identifiable": True,
                "confidential": True,
                "special_category": False,
                "note": "x" * 10_001,
            },
        ),
        ("record_consent.outcome", {"action": "record_consent", "outcome": "not_sought"}),
    ]
    for field, body in cases:
        response = await act(http, worker, task, body)
        assert response.status_code == 422, (field, response.text)
        fields = [e["field"] for e in response.json()["errors"]]
        assert any(f.startswith(field) or field.startswith(f) for f in fields), (field, fields)
    bad_id = await http.post(
        "/api/tasks/not-a-task", json={"action": "seek_consent"}, headers=worker.headers
    )
    assert bad_id.status_code == 422
    assert await stack.events(rid) == before


async def _all_events(stack: Stack) -> int:
    """How many requests were ever opened (background steps of other requests aside)."""
    count = 0
    async for recorded in stack.store.read_all(verify=False):
        count += recorded.event_type == "request.opened"
    return count


# -- the pages ---------------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextlib.asynccontextmanager
async def signed_in(stack: Stack, who: str) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client, like a browser, signed in as ``who``."""
    async with httpx.AsyncClient(
        base_url=stack.url, headers={"accept": "text/html"}, timeout=30
    ) as page:
        form = await page.get("/signin")
        done = await page.post(
            "/signin", data={"token": stack.people[who].token, "csrf_token": csrf_of(form)}
        )
        assert done.status_code == 303
        yield page


def csrf_of(response: httpx.Response) -> str:
    match = CSRF.search(response.text)
    assert match, "no CSRF field"
    return match.group(1)


async def test_new_request_form_shows_messages_in_place_and_escapes(stack: Stack) -> None:
    async with signed_in(stack, "coordinator") as page:
        form = await page.get("/requests/new")
        assert form.status_code == 200
        assert 'for="subject_name">Full name</label>' in form.text
        response = await page.post(
            "/requests/new",
            data={
                "csrf_token": csrf_of(form),
                "subject_name": SCRIPT,
                "subject_kind": "child",
                "requesting_agency": stack.requester,
                "holding_agencies": [stack.holder],
                "purpose_category": "safeguarding_welfare",
                "purpose": "",
                "information_sought": "Contacts",
                "rating": "amber",
            },
        )
        assert response.status_code == 422
        assert 'id="purpose-error"' in response.text
        assert SCRIPT not in response.text
        assert "&lt;script&gt;" in response.text
        no_csrf = await page.post("/requests/new", data={"subject_name": "x"})
        assert no_csrf.status_code == 403


async def test_pages_walk_a_decision_to_the_coordinator(stack: Stack) -> None:
    async with signed_in(stack, "coordinator") as coordinator:
        form = await coordinator.get("/requests/new")
        opened = await coordinator.post(
            "/requests/new",
            data={
                "csrf_token": csrf_of(form),
                "subject_name": "Cara Example",
                "subject_dob-day": "1",
                "subject_dob-month": "5",
                "subject_dob-year": "2016",
                "subject_kind": "child",
                "requesting_agency": stack.requester,
                "holding_agencies": [stack.holder],
                "purpose_category": "safeguarding_welfare",
                "purpose": "Strategy discussion",
                "information_sought": "Police contact",
                "rating": "red",
            },
        )
        assert opened.status_code == 303, opened.text
        location = opened.headers["location"]
        rid = location.rsplit("/", 1)[1]
        assert "Cara" not in location

    async with signed_in(stack, "worker") as worker:
        task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
        inbox = await worker.get("/tasks")
        assert inbox.status_code == 200
        page = await worker.get(f"/tasks/{task}")
        assert page.status_code == 200 and "Start the assessment" in page.text
        steps: list[dict[str, Any]] = [
            {
                "action": "assess_purpose",
                "purpose_clear": "true",
                "identifiable": "true",
                "confidential": "true",
                "special_category": "false",
            },
            {
                "action": "consent_not_sought",
                "reason": "harmful_delay_in_urgent_case",
                "explanation": "Immediate risk",
            },
            {
                "action": "determine_lawful_basis",
                "art6": "public_task",
                "legal_power": "Crime and Disorder Act 1998 s.115",
                "without_consent": "significant_harm_to_child",
            },
            {
                "action": "select_information",
                "item-0-description": "Incident",
                "item-0-content": SCRIPT,
                "item-0-source": "Log",
                "item-0-kind": "fact",
                "item-0-dated-day": "2",
                "item-0-dated-month": "1",
                "item-0-dated-year": "2026",
            },
        ]
        url = f"/tasks/{task}"
        parts = {"determine_lawful_basis": "/basis", "select_information": "/items"}
        for data in steps:
            current = await worker.get(url + parts.get(data["action"], ""))
            assert current.status_code == 200, current.text
            assert problems(current.text) == [], data["action"]
            if data["action"] == "determine_lawful_basis":
                assert "Bases that apply on these facts" in current.text
            done = await worker.post(url, data={"csrf_token": csrf_of(current), **data})
            assert done.status_code == 303, (data["action"], done.text)
            confirmation = await worker.get(done.headers["location"])
            assert "govuk-panel--confirmation" in confirmation.text
            assert problems(confirmation.text) == []
            following = re.search(r'href="(/tasks/[^"]+)" role="button"', confirmation.text)
            assert following, confirmation.text
            url = following.group(1)
        # The decision: one question a page, then the answers checked and recorded.
        questions: list[dict[str, Any]] = [
            {"outcome": "share"},
            {"reasons": "Child at risk"},
            {"necessity": "One entry"},
            {"inform_will_inform": "false"},
            {"inform_reason_not": "would_prejudice_investigation"},
            {"urgent_override": "Waiting was unsafe"},
            {"position": ""},
        ]
        started = await worker.get(f"{url}/decision")
        url = started.headers["location"]
        for answer in questions:
            question = await worker.get(url)
            assert problems(question.text) == [], url
            answered = await worker.post(url, data={"csrf_token": csrf_of(question), **answer})
            assert answered.status_code == 303, (url, answered.text)
            url = answered.headers["location"]
        check = await worker.get(url)
        assert url.endswith("/decision/check") and problems(check.text) == []
        recorded = await worker.post(url, data={"csrf_token": csrf_of(check)})
        assert recorded.status_code == 303, recorded.text

    async with signed_in(stack, "recipient") as recipient:
        await stack.task_id(rid, stack.holder, TaskKind.ACKNOWLEDGE_RECEIPT)
        listing = await recipient.get("/packages")
        assert listing.status_code == 200
        package_id = re.search(r'action="/packages/([0-9a-f-]+)/open"', listing.text)
        assert package_id
        opened_page = await recipient.post(
            f"/packages/{package_id.group(1)}/open", data={"csrf_token": csrf_of(listing)}
        )
        assert opened_page.status_code == 200, opened_page.text
        assert SCRIPT not in opened_page.text and "&lt;script&gt;" in opened_page.text
        sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', opened_page.text)
        assert sha
        ack = await recipient.post(
            f"/packages/{package_id.group(1)}/acknowledge",
            data={"csrf_token": csrf_of(opened_page), "sha256": sha.group(1)},
        )
        assert ack.status_code == 303, ack.text

    async with signed_in(stack, "worker") as worker:  # read by now: too late to recall
        path = f"/packages/{package_id.group(1)}"
        sent = await worker.get(path)
        assert "can no longer be recalled" in sent.text and "Revoke the package" not in sent.text
        late = await worker.post(
            f"{path}/revoke", data={"csrf_token": csrf_of(sent), "reason": "Too late"}
        )
        assert late.status_code == 409, late.text
        assert "There is a problem" in late.text and problems(late.text) == []

    async with signed_in(stack, "coordinator") as coordinator:
        for _ in range(100):
            detail = await coordinator.get(f"/requests/{rid}")
            if 'outcome">share<' in detail.text:
                break
            await asyncio.sleep(0.1)
        assert 'outcome">share<' in detail.text, detail.text
        listing = await coordinator.get("/requests")
        assert 'rag rag-red">Red<' in listing.text


async def test_requested_by_must_name_an_active_user_of_the_requesting_agency(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    before = await _all_events(stack)
    stranger = str(stack.people["other_worker"].user_id)  # acts for another agency
    for requested_by, reason in (
        (str(uuid.uuid4()), "no active user"),
        ("someone-made-up", "user id"),
        (stranger, "not the requesting agency"),
    ):
        response = await http.post(
            "/api/requests",
            json=request_body(stack, requested_by=requested_by),
            headers=stack.people["coordinator"].headers,
        )
        assert response.status_code == 422, response.text
        assert reason in response.text
    assert await _all_events(stack) == before
    # Someone of the requesting agency is accepted, and recorded as the requester.
    practitioner = stack.people["recipient"].user_id
    rid = await open_request(http, stack, requested_by=str(practitioner))
    for _ in range(200):  # the workflow records the opening a moment after the answer
        recorded = await stack.store.read_stream(f"request:{rid}")
        if recorded:
            break
        await asyncio.sleep(0.05)
    assert str(recorded[0].event.requested_by) == str(practitioner)  # type: ignore[attr-defined]


async def _decision_ended(stack: Stack, rid: str) -> None:
    """Wait (bounded) until the holder's decision has ended and the request, its only
    agency done, has closed: nothing more is written to it after that."""
    for _ in range(100):
        state = (await stack.requests.view(uuid.UUID(rid))).state
        (progress,) = state.agencies
        if progress.status == "completed" and state.closed_at is not None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the decision on {rid} did not end")


async def test_a_package_refused_after_its_decision_ended_says_why(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """Once the revocation or the acknowledgement ended the decision, opening or
    acknowledging a revoked package, or revoking an opened one, said only 'this request or
    decision is no longer open'; it now says what the decision itself would have said.
    A revocation sent again still answers as the first time, and nothing is written."""
    worker, recipient = stack.people["worker"], stack.people["recipient"]

    revoked_rid = await open_request(http, stack)
    await decide_to_share(http, stack, revoked_rid)
    revoked = await delivered_package(http, stack, revoked_rid)
    path = f"/api/packages/{revoked}"
    for _ in range(2):
        done = await http.post(
            f"{path}/revoke", json={"reason": "Sent in error"}, headers=worker.headers
        )
        assert done.status_code == 200, done.text
    await _decision_ended(stack, revoked_rid)
    before = await stack.events(revoked_rid)
    for method, url, body in (
        ("GET", path, None),
        ("POST", f"{path}/acknowledge", {"sha256": "a" * 64}),
    ):
        refused = await http.request(method, url, json=body, headers=recipient.headers)
        assert refused.status_code == 409, refused.text
        assert refused.json()["detail"] == "the sending agency has revoked access to this package"
    assert await stack.events(revoked_rid) == before

    acked_rid = await open_request(http, stack)
    await decide_to_share(http, stack, acked_rid)
    acked = await delivered_package(http, stack, acked_rid)
    opened = await http.get(f"/api/packages/{acked}", headers=recipient.headers)
    assert opened.status_code == 200, opened.text
    ack = await http.post(
        f"/api/packages/{acked}/acknowledge",
        json={"sha256": opened.json()["sha256"]},
        headers=recipient.headers,
    )
    assert ack.status_code == 200, ack.text
    await _decision_ended(stack, acked_rid)
    before = await stack.events(acked_rid)
    late = await http.post(
        f"/api/packages/{acked}/revoke", json={"reason": "Too late"}, headers=worker.headers
    )
    assert late.status_code == 409, late.text
    assert late.json()["detail"] == (
        "the package has already been opened by the recipient agency and cannot be recalled"
    )
    # A step of the ended decision: the same body again answers as the first time; another
    # is refused in the decision's words, not as 'no longer open'.
    first_task = f"{acked_rid}:{stack.holder}:{TaskKind.ASSESS_PURPOSE}:0"
    assess = ASSESS | {"note": "Purpose checked against the referral"}
    replay = await act(http, worker, first_task, assess)
    assert replay.status_code == 200, replay.text
    changed = await act(http, worker, first_task, ASSESS | {"note": "Second thoughts"})
    assert changed.status_code == 409, changed.text
    assert changed.json()["detail"] == f"{stack.holder}'s decision is already complete"
    assert await stack.events(acked_rid) == before
