"""Bad input over HTTP: control characters, impossible dates and repeated or self-addressed
holders are refused with a 422 naming the field, and nothing is written."""

from __future__ import annotations

import re
from typing import Any

import httpx

from domain.decision import TaskKind
from domain.inputs import control_character_problem
from tests.api.stack import ASSESS, Stack
from tests.api.test_requests_flow import ITEMS, _all_events, act, open_request, request_body

CONTROLS = ["\x00", "\x07", "\x1b", "\x7f", "\x85"]


def refused_naming(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    problem = response.json()
    fields = [e["field"] for e in problem["errors"]]
    assert any(f == field or f.startswith(f"{field}.") for f in fields), (field, fields)
    assert "\x00" not in response.text


async def test_control_characters_in_request_text_are_refused_naming_the_field(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    before = await _all_events(stack)
    coordinator = stack.people["coordinator"].headers
    for char in CONTROLS:
        for field, body in (
            ("subject.name", request_body(stack, subject={"name": f"Ada{char}Example"})),
            ("subject.address", request_body(stack, subject={"name": "A", "address": f"1{char}"})),
            ("purpose", request_body(stack, purpose=f"Strategy{char} discussion")),
            ("information_sought", request_body(stack, information_sought=f"x{char}y")),
        ):
            response = await http.post("/api/requests", json=body, headers=coordinator)
            refused_naming(response, field)
    assert await _all_events(stack) == before


async def test_dates_of_birth_in_the_future_or_before_1900_are_refused(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    before = await _all_events(stack)
    coordinator = stack.people["coordinator"].headers
    for dob in ("2999-01-01", "0001-01-01", "1899-12-31"):
        body = request_body(stack, subject={"name": "Ada Example", "date_of_birth": dob})
        response = await http.post("/api/requests", json=body, headers=coordinator)
        refused_naming(response, "subject.date_of_birth")
    assert await _all_events(stack) == before


async def test_a_holder_named_twice_or_the_requester_as_holder_is_refused(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    before = await _all_events(stack)
    coordinator = stack.people["coordinator"].headers
    for holders in ([stack.holder, stack.holder], [stack.holder, stack.requester]):
        body = request_body(stack, holding_agencies=holders)
        response = await http.post("/api/requests", json=body, headers=coordinator)
        refused_naming(response, "holding_agencies")
        assert response.json()["status"] == 422
    assert await _all_events(stack) == before


async def test_task_bodies_with_control_characters_or_old_dates_are_refused(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    worker = stack.people["worker"]
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    before = await stack.events(rid)
    assess: dict[str, Any] = {
        "action": "assess_purpose",
        "purpose_clear": True,
        "identifiable": True,
        "confidential": True,
        "special_category": False,
        "note": "checked\x00",
    }
    response = await http.post(f"/api/tasks/{task}", json=assess, headers=worker.headers)
    refused_naming(response, "assess_purpose.note")
    old = [ITEMS[0] | {"dated": "1800-01-01"}]
    selection = {"action": "select_information", "items": old}
    response = await http.post(f"/api/tasks/{task}", json=selection, headers=worker.headers)
    refused_naming(response, "select_information.items.0.dated")
    assert await stack.events(rid) == before


async def test_a_bodys_own_check_names_the_field_it_is_about(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """Consent recorded as given without saying by whom: the check belongs to the body as
    a whole, and the problem names the field it is about, in its words alone."""
    rid = await open_request(http, stack)
    worker = stack.people["worker"]
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    done = (await act(http, worker, task, ASSESS)).json()
    done = (await act(http, worker, done["next_task_id"], {"action": "seek_consent"})).json()
    before = await stack.events(rid)
    given = {"action": "record_consent", "outcome": "given"}
    response = await act(http, worker, done["next_task_id"], given)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {
            "field": "record_consent.given_by",
            "location": "body",
            "message": "say who gave consent and whether capacity or competence was considered",
        }
    ]
    assert "Value error" not in response.text
    assert await stack.events(rid) == before


async def test_dashboard_instants_out_of_range_are_refused_naming_the_field(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """Near year 1 or 9999 an offset takes an instant out of the calendar in UTC, and 30
    days before year 1 is no day at all: each was a 500."""
    coordinator = stack.people["coordinator"].headers
    for field, value in (
        ("start", "0001-01-01T00:00:00+01:00"),
        ("start", "9999-12-31T23:59:59-23:59"),
        ("end", "0001-01-05T00:00:00Z"),
        ("end", "1899-12-31T23:59:59Z"),
    ):
        response = await http.get("/api/dashboard", params={field: value}, headers=coordinator)
        refused_naming(response, field)
        assert response.json()["errors"][0]["message"] == (
            "must fall between the years 1900 and 9999 (UTC)"
        )
    fine = await http.get(
        "/api/dashboard", params={"end": "9999-12-31T23:59:59Z"}, headers=coordinator
    )
    assert fine.status_code == 200, fine.text


async def test_a_history_as_of_off_the_calendar_in_utc_is_refused_naming_the_field(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """An offset near year 1 or 9999 takes the moment off the calendar in UTC: a 500 before."""
    rid = await open_request(http, stack)
    compliance = stack.people["compliance"].headers
    before = await stack.events(rid)
    for as_of in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59"):
        response = await http.get(
            f"/api/requests/{rid}/history", params={"as_of": as_of}, headers=compliance
        )
        refused_naming(response, "as_of")
        assert response.json()["errors"][0]["location"] == "query"
    assert await stack.events(rid) == before
    known = await http.get(
        f"/api/requests/{rid}/history",
        params={"as_of": "9999-12-31T23:59:59Z"},
        headers=compliance,
    )
    assert known.status_code == 200, known.text


async def test_a_task_id_of_no_task_kind_is_refused_naming_it_and_reads_nothing(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """An id shaped like the inbox's but with a kind the decision has no task of: reading
    it showed the request's purpose (and recorded the reading) as if it were a task."""
    rid = await open_request(http, stack)
    worker = stack.people["worker"]
    real = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    made_up = real.replace(":assess_purpose:", ":nosuch:")
    before = await stack.events(rid)
    read = await http.get(f"/api/tasks/{made_up}", headers=worker.headers)
    assert read.status_code == 422, read.text
    assert read.json()["errors"] == [
        {"field": "task_id", "location": "path", "message": "not a task id from the inbox"}
    ]
    assert "information_sought" not in read.text
    done = await act(http, worker, made_up, ASSESS)
    assert done.status_code == 422, done.text
    assert [e["field"] for e in done.json()["errors"]] == ["task_id"]
    assert await stack.events(rid) == before


async def test_a_protocol_dated_before_1900_is_refused_naming_the_field(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """A protocol in force from year 1 (a year typed wrong) was registered."""
    coordinator = stack.people["coordinator"].headers

    async def protocols() -> int:
        register = await http.get("/api/agencies", headers=coordinator)
        return len(register.json()["protocols"])

    before = await protocols()
    body = {
        "agencies": [stack.holder, stack.requester],
        "title": "Police and children's social care ISP",
        "reference": "ISP-0001",
    }
    for field, dates in (
        ("valid_from", {"valid_from": "0001-01-01"}),
        ("valid_from", {"valid_from": "1899-12-31", "valid_to": "2030-01-01"}),
        ("valid_to", {"valid_from": "2024-01-01", "valid_to": "0202-01-01"}),
    ):
        response = await http.post("/api/protocols", json=body | dates, headers=coordinator)
        refused_naming(response, field)
    assert await protocols() == before


async def test_a_misspelt_verify_option_is_refused_naming_it(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """An unknown field in the verify body was ignored: 'checkpiont' took no checkpoint and
    answered 200 as if all were well."""
    compliance = stack.people["compliance"].headers
    response = await http.post("/api/audit/verify", json={"checkpiont": True}, headers=compliance)
    refused_naming(response, "checkpiont")
    fine = await http.post("/api/audit/verify", json={"checkpoint": False}, headers=compliance)
    assert fine.status_code == 200, fine.text


# -- loose scalars: JSON says what it means, and only that is accepted ------------------------

LOOSE_DATES: list[Any] = [
    1577836800,
    1577836800.0,
    "2020-01-01T00:00:00",
    "2020-01-01T00:00:00Z",
    "2020-1-1",
    "20200101",
    True,
]
LOOSE_FLAGS: list[Any] = ["yes", "true", "on", 1, 0, "1", 1.0, None]


async def test_a_date_in_a_request_body_is_an_iso_date_only(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """A number of seconds or a date and time was read as a date of birth."""
    before = await _all_events(stack)
    coordinator = stack.people["coordinator"].headers
    for dob in LOOSE_DATES:
        body = request_body(stack, subject={"name": "Ada Example", "date_of_birth": dob})
        response = await http.post("/api/requests", json=body, headers=coordinator)
        refused_naming(response, "subject.date_of_birth")
        messages = [e["message"] for e in response.json()["errors"]]
        assert "must be a date written as YYYY-MM-DD" in messages, messages
    assert await _all_events(stack) == before
    await open_request(http, stack, subject={"name": "Ada Example", "date_of_birth": "2020-01-01"})


async def test_yes_or_no_in_a_request_body_is_true_or_false_only(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    before = await _all_events(stack)
    coordinator = stack.people["coordinator"].headers
    for field in ("consent_already_held", "allegation_against_staff"):
        for flag in LOOSE_FLAGS:
            body = request_body(stack, **{field: flag})
            response = await http.post("/api/requests", json=body, headers=coordinator)
            refused_naming(response, field)
    assert await _all_events(stack) == before
    await open_request(http, stack, consent_already_held=True, allegation_against_staff=False)


async def test_choices_in_a_request_body_match_exactly(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    before = await _all_events(stack)
    coordinator = stack.people["coordinator"].headers
    for field, value in (
        ("rating", "AMBER"),
        ("rating", "Amber"),
        ("rating", 1),
        ("subject_kind", "CHILD"),
        ("purpose_category", " safeguarding_welfare"),
        ("requesting_agency", stack.requester.upper()),
    ):
        response = await http.post(
            "/api/requests", json=request_body(stack, **{field: value}), headers=coordinator
        )
        refused_naming(response, field)
    assert await _all_events(stack) == before


async def test_task_bodies_take_true_false_and_iso_dates_only(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    worker = stack.people["worker"]
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    before = await stack.events(rid)
    for flag in LOOSE_FLAGS:
        response = await act(http, worker, task, ASSESS | {"purpose_clear": flag})
        refused_naming(response, "assess_purpose.purpose_clear")
        response = await act(http, worker, task, ASSESS | {"adult_at_risk": flag})
        refused_naming(response, "assess_purpose.adult_at_risk")
    for loose in LOOSE_DATES:
        items = [ITEMS[0] | {"dated": loose}]
        response = await act(http, worker, task, {"action": "select_information", "items": items})
        refused_naming(response, "select_information.items.0.dated")
    for flag in ("yes", 1):
        for field in ("historical", "protect_identity"):
            items = [ITEMS[0] | {field: flag}]
            body = {"action": "select_information", "items": items}
            response = await act(http, worker, task, body)
            refused_naming(response, f"select_information.items.0.{field}")
    assert await stack.events(rid) == before
    done = await act(http, worker, task, ASSESS)
    assert done.status_code == 200, done.text


async def test_a_decisions_plan_to_inform_takes_true_false_and_an_iso_date_only(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """The decision's plan: will the person be told; if not, when to look again (the body is
    read, and refused, before the task is looked at)."""
    rid = await open_request(http, stack)
    worker = stack.people["worker"]
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    before = await stack.events(rid)
    decision = {
        "action": "record_decision",
        "outcome": "not_share",
        "reasons": "Not relevant to the strategy discussion",
        "not_share_reasons": ["not_necessary_or_proportionate"],
    }
    for flag in LOOSE_FLAGS:
        body = decision | {"inform": {"will_inform": flag}}
        refused_naming(await act(http, worker, task, body), "record_decision.inform.will_inform")
    not_told = {"will_inform": False, "reason_not": "would_prejudice_investigation"}
    for loose in LOOSE_DATES:
        body = decision | {"inform": not_told | {"review_on": loose}}
        refused_naming(await act(http, worker, task, body), "record_decision.inform.review_on")
    assert await stack.events(rid) == before


async def test_the_register_takes_true_false_and_iso_dates_only(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    coordinator = stack.people["coordinator"].headers

    async def register() -> tuple[int, int]:
        answer = (await http.get("/api/agencies", headers=coordinator)).json()
        return len(answer["agencies"]), len(answer["protocols"])

    before = await register()
    protocol = {
        "agencies": [stack.holder, stack.requester],
        "title": "Police and children's social care ISP",
        "reference": "ISP-0002",
        "valid_from": "2024-01-01",
    }
    for field in ("valid_from", "valid_to"):
        for loose in LOOSE_DATES:
            response = await http.post(
                "/api/protocols", json=protocol | {field: loose}, headers=coordinator
            )
            refused_naming(response, field)
    agency = {"code": "strict_housing", "name": "Housing", "kind": "housing"}
    for flag in LOOSE_FLAGS[:-1]:  # null is "not said" on creation
        response = await http.post(
            "/api/agencies", json=agency | {"public_authority": flag}, headers=coordinator
        )
        refused_naming(response, "public_authority")
        response = await http.patch(
            f"/api/agencies/{stack.holder}", json={"public_authority": flag}, headers=coordinator
        )
        refused_naming(response, "public_authority")
    for kind in ("HOUSING", "Housing"):
        response = await http.post(
            "/api/agencies", json=agency | {"kind": kind}, headers=coordinator
        )
        refused_naming(response, "kind")
    assert await register() == before
    added = await http.post("/api/protocols", json=protocol, headers=coordinator)
    assert added.status_code == 201, added.text


async def test_verify_takes_true_or_false_only(http: httpx.AsyncClient, stack: Stack) -> None:
    compliance = stack.people["compliance"].headers
    for flag in ("yes", 1, "true"):
        response = await http.post(
            "/api/audit/verify", json={"checkpoint": flag}, headers=compliance
        )
        refused_naming(response, "checkpoint")


def _body_strings(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every free-text string of every request body schema, by ``Schema.field``."""
    schemas: dict[str, Any] = spec["components"]["schemas"]
    bodies = [
        content["schema"]
        for path in spec["paths"].values()
        for operation in path.values()
        for content in operation.get("requestBody", {}).get("content", {}).values()
        if content.get("schema")
    ]
    found: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()

    def walk(where: str, schema: dict[str, Any]) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                walk(name, schemas[name])
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key, []):
                walk(where, sub)
        for sub in schema.get("discriminator", {}).get("mapping", {}).values():
            walk(where, {"$ref": sub})
        for name, sub in schema.get("properties", {}).items():
            walk(f"{where}.{name}", sub)
        if "items" in schema:
            walk(f"{where}[]", schema["items"])
        free = "enum" not in schema and "const" not in schema and "format" not in schema
        if schema.get("type") == "string" and free:
            found[where] = schema

    for body in bodies:
        walk("body", body)
    return found


async def test_the_schema_says_free_text_holds_no_control_characters(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """Each free-text field of a body publishes a pattern that refuses what the rule
    (domain.inputs) refuses; the server refuses such text as the pattern says."""
    spec = (await http.get("/openapi.json")).json()
    strings = _body_strings(spec)
    assert "SubjectIn.name" in strings and "ItemIn.content" in strings, "\n".join(sorted(strings))
    unsaid = sorted(
        {
            where
            for where, schema in strings.items()
            for char in [*CONTROLS, "\ud800"]
            if re.fullmatch(schema.get("pattern", ".*"), f"abc{char}def") is not None
        }
    )
    assert unsaid == [], unsaid
    text = strings["SubjectIn.name"]["pattern"]
    assert re.fullmatch(text, "Ada\tLovelace\n\u00e9\u2019") is not None
    for point in range(0x10000):  # the published pattern and the rule agree on every char
        char = chr(point)
        published = re.fullmatch(text, char) is not None
        assert published == (control_character_problem(char) is None), hex(point)
    coordinator = stack.people["coordinator"].headers
    for char in ("\x85", "\x9f", "\x0b"):
        assert re.fullmatch(text, f"Ada{char}") is None
        body = request_body(stack, subject={"name": f"Ada{char}Example"})
        response = await http.post("/api/requests", json=body, headers=coordinator)
        refused_naming(response, "subject.name")
    body = request_body(stack, requested_by="someone\x00else")
    response = await http.post("/api/requests", json=body, headers=coordinator)
    refused_naming(response, "requested_by")
