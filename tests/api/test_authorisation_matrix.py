"""Each write endpoint x each role x own / other agency: refused, and nothing written.

A refusal is 401 without a token and 403 for a role or agency that may not act;
a package of an agency that is neither its sender nor its recipient is a 404
(its existence is not confirmed). After every refusal the request's events are
exactly as they were.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from domain.decision import TaskKind
from tests.api.test_requests_flow import (
    Stack,
    decide_to_share,
    delivered_package,
    open_request,
    request_body,
)
from tests.api.test_requests_flow import stack_fixture as stack_fixture  # the `stack` fixture

PEOPLE = [
    "anonymous",
    "coordinator",
    "worker",
    "advisor",
    "recipient",
    "compliance",
    "other_worker",
    "other_advisor",
    "other_recipient",
]


@dataclass(frozen=True)
class Scene:
    waiting: str
    """A request whose first task (assessing the purpose) is open."""
    assess_task: str
    shared: str
    """A request whose package is delivered and not yet acknowledged."""
    package_id: str


@pytest.fixture(scope="session")
async def scene(stack: Stack) -> Scene:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        waiting = await open_request(http, stack)
        task = await stack.task_id(waiting, stack.holder, TaskKind.ASSESS_PURPOSE)
        shared = await open_request(http, stack)
        await decide_to_share(http, stack, shared)
        package_id = await delivered_package(http, stack, shared)
    return Scene(waiting, task, shared, package_id)


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        yield client


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    allowed: frozenset[str]
    package: bool = False

    def call(self, stack: Stack, scene: Scene) -> tuple[str, str, dict[str, Any] | None]:
        """(request whose events must not change, path, body)."""
        w, p = scene.waiting, scene.package_id
        assess = {
            "action": "assess_purpose",
            "purpose_clear": True,
            "identifiable": True,
            "confidential": True,
            "special_category": False,
        }
        return {
            "open_request": (w, "/api/requests", request_body(stack)),
            "withdraw": (w, f"/api/requests/{w}/withdraw", {"reason": "Not needed"}),
            "rating": (w, f"/api/requests/{w}/rating", {"rating": "red", "rationale": "Worse"}),
            "task": (w, f"/api/tasks/{scene.assess_task}", assess),
            "open_package": (scene.shared, f"/api/packages/{p}", None),
            "acknowledge": (scene.shared, f"/api/packages/{p}/acknowledge", {"sha256": "a" * 64}),
            "revoke": (scene.shared, f"/api/packages/{p}/revoke", {"reason": "Sent in error"}),
        }[self.name]


ENDPOINTS = [
    Endpoint("open_request", "POST", frozenset({"coordinator"})),
    Endpoint("withdraw", "POST", frozenset({"coordinator"})),
    Endpoint("rating", "POST", frozenset({"coordinator"})),
    Endpoint("task", "POST", frozenset({"worker"})),
    Endpoint("open_package", "GET", frozenset({"recipient"}), package=True),
    Endpoint("acknowledge", "POST", frozenset({"recipient"}), package=True),
    Endpoint("revoke", "POST", frozenset({"worker", "advisor"}), package=True),
]

CASES = [(e, who) for e in ENDPOINTS for who in PEOPLE if who not in e.allowed]


def expected_status(stack: Stack, endpoint: Endpoint, who: str) -> int:
    if who == "anonymous":
        return 401
    agency = stack.people[who].agency
    if endpoint.package and agency not in (stack.holder, stack.requester):
        return 404
    return 403


async def _opened_requests(stack: Stack) -> int:
    count = 0
    async for recorded in stack.store.read_all(verify=False):
        count += recorded.event_type == "request.opened"
    return count


@pytest.mark.parametrize(("endpoint", "who"), CASES, ids=[f"{e.name}-{who}" for e, who in CASES])
async def test_refused_and_nothing_written(
    http: httpx.AsyncClient, stack: Stack, scene: Scene, endpoint: Endpoint, who: str
) -> None:
    request_id, path, body = endpoint.call(stack, scene)
    headers = {} if who == "anonymous" else stack.people[who].headers
    events = await stack.events(request_id)
    opened = await _opened_requests(stack)

    response = await http.request(endpoint.method, path, json=body, headers=headers)

    assert response.status_code == expected_status(stack, endpoint, who), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await stack.events(request_id) == events
    assert await _opened_requests(stack) == opened


@pytest.mark.parametrize("who", [p for p in PEOPLE if not p.endswith("recipient")])
async def test_only_a_recipient_has_a_package_inbox(
    http: httpx.AsyncClient, stack: Stack, who: str
) -> None:
    headers = {} if who == "anonymous" else stack.people[who].headers
    response = await http.get("/api/packages", headers=headers)
    assert response.status_code == (401 if who == "anonymous" else 403), response.text


async def test_a_recipient_of_another_agency_sees_none_of_its_packages(
    http: httpx.AsyncClient, stack: Stack, scene: Scene
) -> None:
    response = await http.get("/api/packages", headers=stack.people["other_recipient"].headers)
    assert response.status_code == 200
    assert scene.package_id not in {p["package_id"] for p in response.json()}


async def test_a_task_of_a_request_that_does_not_exist_is_not_found(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    task = f"{uuid.uuid4()}:{stack.holder}:assess_purpose:1"
    response = await http.post(
        f"/api/tasks/{task}",
        json={"action": "seek_consent"},
        headers=stack.people["worker"].headers,
    )
    assert response.status_code == 404, response.text
