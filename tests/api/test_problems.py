"""Every error is RFC 9457 problem details: shape, status, the field named, no internals."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.app import create_app
from domain.errors import (
    InconsistentDecision,
    InvalidState,
    NotPermitted,
    Problem,
    ValidationFailed,
)
from domain.vocabulary import Role
from infra.directory import AgencyDirectory, NotFoundError
from infra.settings import Settings
from tests.api.conftest import Registered, serving, unique_code

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}

failing = APIRouter(prefix="/api/test-failures")


@failing.get("/crash")
async def crash() -> None:
    raise RuntimeError("SELECT secret FROM internals WHERE child = 'Jane Doe'")


@failing.get("/validation")
async def validation() -> None:
    raise ValidationFailed("purpose", "must be a legitimate purpose")


@failing.get("/state")
async def state() -> None:
    raise InvalidState("the decision has already been recorded")


@failing.get("/permission")
async def permission() -> None:
    raise NotPermitted("only the holding agency's workers may decide")


@failing.get("/inconsistent")
async def inconsistent() -> None:
    raise InconsistentDecision(
        [
            Problem("basis_missing", "sharing without consent needs a lawful basis"),
            Problem("advice_missing", "an advisor must agree"),
        ]
    )


@pytest.fixture(scope="module")
async def failing_url(
    settings: Settings, engine: AsyncEngine, temporal: Client
) -> AsyncIterator[str]:
    app = create_app(settings, engine=engine, temporal=temporal)
    app.include_router(failing)
    async with serving(app) as url:
        yield url


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert str(body["type"]).startswith("urn:mashflow:problem:")
    return body


async def test_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/api/nothing-here"), 404)
    assert body["instance"] == "/api/nothing-here"


async def test_unknown_agency_is_a_404_problem(client: httpx.AsyncClient, hub: Registered) -> None:
    headers = hub.people[Role.RECIPIENT].headers
    body = assert_problem(await client.get("/api/agencies/no_such_agency", headers=headers), 404)
    assert body["detail"] == "no agency 'no_such_agency' in the register"


@pytest.mark.parametrize("code", ["no-such-agency", "\u202e\u00e9\u0085x", "A", "x" * 41])
async def test_a_code_no_agency_could_have_is_a_422_that_does_not_repeat_it(
    client: httpx.AsyncClient, hub: Registered, code: str
) -> None:
    """It was a 404 whose detail repeated what was sent, control characters and all."""
    headers = hub.people[Role.COORDINATOR].headers
    for method, body in (("GET", None), ("PATCH", {"public_authority": True})):
        response = await client.request(method, f"/api/agencies/{code}", json=body, headers=headers)
        problem = assert_problem(response, 422)
        errors = response.json()["errors"]
        assert [(e["field"], e["location"]) for e in errors] == [("code", "path")]
        assert code not in str(problem["detail"])


async def test_wrong_method_is_a_405_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.delete("/api/agencies"), 405)


async def test_validation_error_names_the_field(client: httpx.AsyncClient, hub: Registered) -> None:
    headers = hub.people[Role.COORDINATOR].headers
    body = {"code": "valid_code", "name": "Fine", "kind": "spaceship"}
    problem = assert_problem(await client.post("/api/agencies", json=body, headers=headers), 422)
    assert problem["errors"] == [
        {"field": "kind", "location": "body", "message": problem["errors"][0]["message"]}  # type: ignore[index]
    ]
    assert str(problem["detail"]).startswith("kind: ")
    assert "spaceship" not in str(problem)  # the rejected value is never echoed


async def test_hostile_and_oversized_input_is_refused_by_field(
    client: httpx.AsyncClient, hub: Registered
) -> None:
    headers = hub.people[Role.COORDINATOR].headers
    body = {"code": "<script>", "name": "x" * 5000, "kind": "police", "extra": 1}
    problem = assert_problem(await client.post("/api/agencies", json=body, headers=headers), 422)
    fields = {e["field"] for e in problem["errors"]}  # type: ignore[attr-defined]
    assert fields == {"code", "name", "extra"}
    assert "<script>" not in str(problem)


async def test_malformed_json_is_a_422_problem(client: httpx.AsyncClient, hub: Registered) -> None:
    headers = hub.people[Role.COORDINATOR].headers | {"content-type": "application/json"}
    assert_problem(await client.post("/api/agencies", content=b"{not json", headers=headers), 422)


async def test_a_crash_is_a_500_without_internals(failing_url: str) -> None:
    async with httpx.AsyncClient(base_url=failing_url) as client:
        response = await client.get("/api/test-failures/crash")
    body = assert_problem(response, 500)
    assert "SELECT" not in response.text and "Jane" not in response.text
    assert body["title"] == "Internal error"


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("validation", 422, "validation"),
        ("state", 409, "invalid-state"),
        ("permission", 403, "forbidden"),
        ("inconsistent", 422, "inconsistent-decision"),
    ],
)
async def test_domain_errors_become_problems(
    failing_url: str, path: str, status: int, kind: str
) -> None:
    async with httpx.AsyncClient(base_url=failing_url) as client:
        body = assert_problem(await client.get(f"/api/test-failures/{path}"), status)
    assert body["type"] == f"urn:mashflow:problem:{kind}"
    if path == "validation":  # a GET: the field it names is a query parameter
        assert body["errors"] == [
            {"field": "purpose", "location": "query", "message": "must be a legitimate purpose"}
        ]
    if path == "inconsistent":
        assert body["codes"] == ["basis_missing", "advice_missing"]


async def test_openapi_publishes_separate_request_and_response_schemas(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    assert {
        "AgencyCreate",
        "AgencyResponse",
        "RegisterResponse",
        "MeResponse",
        "ProblemDetails",
    } <= set(schemas)
    post = spec["paths"]["/api/agencies"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/AgencyCreate"
    )
    assert "403" in post["responses"] and "422" in post["responses"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


async def test_openapi_documents_every_error_as_problem_details(client: httpx.AsyncClient) -> None:
    """What a client reads in the document is what it gets: each 4xx/5xx as
    ``application/problem+json``; 401 and 429 wherever a token is needed; 413, 415 and 422
    wherever a body is read; 422 wherever there are parameters."""
    spec = (await client.get("/openapi.json")).json()
    problem = {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
    }
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            where = (method, path)
            for status, response in responses.items():
                if status >= "400" and "ReadyResponse" not in str(response):
                    assert response["content"] == problem, (where, status)
            if operation.get("security"):
                assert {"401", "429"} <= set(responses), where
            if "requestBody" in operation:
                assert {"413", "415", "422"} <= set(responses), where
            if operation.get("parameters"):
                assert "422" in responses, where
    notifications = spec["paths"]["/api/notifications"]["get"]["responses"]
    assert "401" in notifications


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
async def test_a_body_not_sent_as_json_is_a_415_and_writes_nothing(
    client: httpx.AsyncClient, hub: Registered, agencies: AgencyDirectory, content_type: str | None
) -> None:
    code = unique_code("typed")
    body = json.dumps({"code": code, "name": "Typed", "kind": "police"}).encode()
    headers = hub.people[Role.COORDINATOR].headers
    if content_type is not None:
        headers |= {"content-type": content_type}
    response = await client.post("/api/agencies", content=body, headers=headers)
    problem = assert_problem(response, 415)
    assert problem["detail"] == "the body must be JSON, sent with 'Content-Type: application/json'"
    with pytest.raises(NotFoundError):
        await agencies.get(code)


@pytest.mark.parametrize(
    "content",
    [b'{"code": "\xff\xfe", "name": "X", "kind": "police"}', b"[" * 100_000 + b"]" * 100_000],
    ids=["not-utf8", "nested-too-deep"],
)
async def test_a_body_that_cannot_be_decoded_is_a_422_naming_the_body(
    client: httpx.AsyncClient, hub: Registered, content: bytes
) -> None:
    headers = hub.people[Role.COORDINATOR].headers | {"content-type": "application/json"}
    problem = assert_problem(
        await client.post("/api/agencies", content=content, headers=headers), 422
    )
    assert problem["errors"] == [
        {
            "field": "body",
            "location": "body",
            "message": "the body is not valid JSON: it is not UTF-8 JSON that can be read",
        }
    ]


async def test_malformed_json_names_the_body_and_where_it_breaks(
    client: httpx.AsyncClient, hub: Registered
) -> None:
    headers = hub.people[Role.COORDINATOR].headers | {"content-type": "application/json"}
    response = await client.post("/api/agencies", content=b'{"code": ', headers=headers)
    problem = assert_problem(response, 422)
    assert problem["errors"] == [
        {
            "field": "body",
            "location": "body",
            "message": "the body is not valid JSON: Expecting value at character 9",
        }
    ]
