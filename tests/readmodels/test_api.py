"""The read endpoints over real HTTP: who sees which requests, tasks and response times."""

from __future__ import annotations

import httpx

from app.container import Infrastructure
from app.scenario_builder import Hub, Walk, open_request
from domain.decision import TaskKind
from domain.vocabulary import Role
from infra.users import UserDirectory
from tests.readmodels.settle import settled


async def bearer(users: UserDirectory, role: Role, agency: str | None) -> dict[str, str]:
    issued = await users.add(f"Reader {role.value}", role, agency)
    return {"Authorization": f"Bearer {issued.token}"}


async def test_people_see_only_requests_their_agency_is_party_to(
    hub: Hub, infra: Infrastructure, users: UserDirectory, client: httpx.AsyncClient
) -> None:
    rid, subject = await open_request(hub, "Jo Example", ["police"])
    await Walk(hub, rid, subject, "police").until(TaskKind.ASSESS_PURPOSE)
    await settled(infra, rid)
    coordinator = await bearer(users, Role.COORDINATOR, None)
    compliance = await bearer(users, Role.COMPLIANCE_OFFICER, None)
    police_worker = await bearer(users, Role.AGENCY_WORKER, "police")
    csc_recipient = await bearer(users, Role.RECIPIENT, "csc")
    school_worker = await bearer(users, Role.AGENCY_WORKER, "school_oak")

    for who in (coordinator, compliance, police_worker, csc_recipient):
        got = await client.get(f"/api/requests/{rid}", headers=who)
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["status"] == "open" and body["agencies"][0]["agency"] == "police"
        assert body["time_left_seconds"] > 0 and body["overdue"] is False
        listed = await client.get("/api/requests", params={"status": "open"}, headers=who)
        assert str(rid) in {r["request_id"] for r in listed.json()["requests"]}

    hidden = await client.get(f"/api/requests/{rid}", headers=school_worker)
    assert hidden.status_code == 403  # another agency's request: refused, not hidden
    assert hidden.headers["content-type"].startswith("application/problem+json")
    listed = await client.get("/api/requests", headers=school_worker)
    assert str(rid) not in {r["request_id"] for r in listed.json()["requests"]}
    asked_for_other = await client.get(
        "/api/requests", params={"agency": "police"}, headers=school_worker
    )
    assert asked_for_other.json()["requests"] == []
    assert (await client.get(f"/api/requests/{rid}")).status_code == 401
    bad = await client.get("/api/requests", params={"status": "lost"}, headers=coordinator)
    assert bad.status_code == 422

    tasks = (await client.get("/api/tasks", headers=police_worker)).json()["tasks"]
    assert f"{rid}:police:assess_purpose:0" in {t["task_id"] for t in tasks}
    for who in (school_worker, csc_recipient, coordinator):
        tasks = (await client.get("/api/tasks", headers=who)).json()["tasks"]
        assert str(rid) not in {t["request_id"] for t in tasks}

    times = await client.get("/api/agencies/response-times", headers=compliance)
    assert times.status_code == 200
    assert "police" in {a["agency"] for a in times.json()["agencies"]}
    refused = await client.get("/api/agencies/response-times", headers=police_worker)
    assert refused.status_code == 403
