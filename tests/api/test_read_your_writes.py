"""Read your own writes, over HTTP on the real stack: once a command has answered, every
read reflects it, and nothing is listed that its workflow cannot yet act on.

The reads here poll as fast as a client can (no pause): any window in which a list is
ahead of the workflows, or the read models behind a command, shows up as a failure.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.api.stack import ASSESS, Stack
from tests.api.test_requests_flow import act, decide_to_share, open_request


async def listed(http: httpx.AsyncClient, path: str, headers: dict[str, str], rid: str) -> dict:  # type: ignore[type-arg]
    """The first entry about ``rid`` in a list, read again at once until it appears."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline:
        response = await http.get(path, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        entries = body["tasks"] if isinstance(body, dict) else body
        found = [e for e in entries if e["request_id"] == rid]
        if found:
            return found[0]  # type: ignore[no-any-return]
    raise AssertionError(f"{rid} never listed at {path}")


async def test_a_new_requests_href_answers_at_once(http: httpx.AsyncClient, stack: Stack) -> None:
    coordinator = stack.people["coordinator"].headers
    for _ in range(5):
        rid = await open_request(http, stack)
        shown = await http.get(f"/api/requests/{rid}", headers=coordinator)
        assert shown.status_code == 200, shown.text
        assert [a["agency"] for a in shown.json()["agencies"]] == [stack.holder]


async def test_a_new_request_is_in_every_list_on_the_first_read(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    # One read each, no retry: the 201 comes only once the read models show the request.
    coordinator = stack.people["coordinator"].headers
    worker = stack.people["worker"].headers
    for _ in range(5):
        rid = await open_request(http, stack)
        listed_now = (await http.get("/api/requests?order=newest", headers=coordinator)).json()
        assert rid in {r["request_id"] for r in listed_now["requests"]}
        inbox = (await http.get("/api/tasks", headers=worker)).json()["tasks"]
        assert [t["agency"] for t in inbox if t["request_id"] == rid] == [stack.holder]


async def test_an_inbox_lists_only_tasks_their_workflow_takes(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    worker = stack.people["worker"]
    coordinator = stack.people["coordinator"].headers
    for _ in range(5):
        created = await http.post(
            "/api/requests",
            json={
                "subject": {"name": "Ada Example"},
                "subject_kind": "child",
                "requesting_agency": stack.requester,
                "holding_agencies": [stack.holder],
                "purpose_category": "safeguarding_welfare",
                "purpose": "Strategy discussion",
                "information_sought": "Police contact",
                "rating": "amber",
            },
            headers=coordinator,
        )
        assert created.status_code == 201, created.text
        rid = created.json()["request_id"]
        task = await listed(http, "/api/tasks", worker.headers, rid)
        done = await act(http, worker, task["task_id"], ASSESS)
        assert done.status_code == 200, done.text
        # The step's effect is in the inbox as soon as the step has answered.
        inbox = (await http.get("/api/tasks", headers=worker.headers)).json()["tasks"]
        ids = {t["task_id"] for t in inbox if t["request_id"] == rid}
        assert ids == {done.json()["next_task_id"]}


async def test_a_recipients_package_opens_as_soon_as_it_is_listed(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    recipient = stack.people["recipient"]
    for _ in range(2):
        rid = await open_request(http, stack)
        await decide_to_share(http, stack, rid)
        package = await listed(http, "/api/packages", recipient.headers, rid)
        recorded = await stack.store.read_correlation(uuid.UUID(rid))
        sent = [r.event for r in recorded if r.event_type == "package.sent"]
        assert [str(getattr(e, "package_id", "")) for e in sent] == [package["package_id"]]
        opened = await http.get(f"/api/packages/{package['package_id']}", headers=recipient.headers)
        assert opened.status_code == 200, opened.text


async def test_an_inbox_pages_through_every_task_once(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    worker = stack.people["worker"].headers
    opened = {await open_request(http, stack) for _ in range(3)}
    whole = (await http.get("/api/tasks", headers=worker)).json()
    assert whole["next_offset"] is None
    paged: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = (await http.get(f"/api/tasks?limit=2&offset={offset}", headers=worker)).json()
        assert len(page["tasks"]) <= 2
        paged += [t["task_id"] for t in page["tasks"]]
        offset = page["next_offset"]
    assert paged == [t["task_id"] for t in whole["tasks"]]
    assert opened <= {t["request_id"] for t in whole["tasks"]}
