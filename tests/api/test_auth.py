"""Bearer tokens: valid, wrong, malformed, revoked; and the roles each endpoint admits."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.vocabulary import Role
from infra import users as users_module
from infra.directory import AgencyDirectory
from infra.users import UserDirectory
from tests.api.a11y import problems
from tests.api.conftest import Registered, unique_code
from tests.api.test_pages import sign_in


async def test_me_returns_the_token_owner(client: httpx.AsyncClient, hub: Registered) -> None:
    worker = hub.people[Role.AGENCY_WORKER]
    response = await client.get("/api/me", headers=worker.headers)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "user_id": str(worker.user_id),
        "display_name": "Test agency_worker",
        "role": "agency_worker",
        "agency": hub.police,
        "hub_level": False,
    }


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer mf_0123456789abcdef_" + "A" * 43,
        "Bearer not-a-token",
        "Bearer a.b.c",
    ],
)
async def test_refuses_a_missing_or_unknown_token(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.get("/api/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["type"] == "urn:mashflow:problem:unauthenticated"


async def test_refuses_a_right_token_id_with_the_wrong_secret(
    client: httpx.AsyncClient, hub: Registered
) -> None:
    token = hub.people[Role.ADVISOR].token
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {tampered}"})
    assert response.status_code == 401
    assert tampered not in response.text


async def test_a_revoked_user_is_refused_on_the_next_request(
    client: httpx.AsyncClient, users: UserDirectory, hub: Registered
) -> None:
    issued = await users.add("Leaver", Role.AGENCY_WORKER, hub.police)
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert (await client.get("/api/me", headers=headers)).status_code == 200  # now cached
    await users.revoke(issued.user.id)
    response = await client.get("/api/me", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


async def test_a_cached_verification_is_fast(users: UserDirectory, hub: Registered) -> None:
    token = hub.people[Role.RECIPIENT].token
    assert await users.authenticate(token) is not None
    started = time.perf_counter()
    for _ in range(20):
        assert await users.authenticate(token) is not None
    assert (time.perf_counter() - started) / 20 < 0.02


async def test_a_burst_of_requests_with_a_new_token_derives_its_hash_once(
    engine: AsyncEngine, hub: Registered, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = hub.people[Role.ADVISOR].token
    fresh = UserDirectory(engine)  # nothing verified yet
    derived: list[str] = []
    real_kdf = users_module._kdf

    def counted(secret: str, salt: bytes) -> bytes:
        derived.append(secret)
        return real_kdf(secret, salt)

    monkeypatch.setattr(users_module, "_kdf", counted)
    found = await asyncio.gather(*(fresh.authenticate(token) for _ in range(12)))
    assert all(u is not None and u.role is Role.ADVISOR for u in found)
    assert len(derived) == 1
    wrong = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert await fresh.authenticate(wrong) is None  # a different secret is derived afresh
    assert len(derived) == 2


async def test_tokens_are_stored_hashed(
    users: UserDirectory, hub: Registered, engine: object
) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncEngine

    assert isinstance(engine, AsyncEngine)
    person = hub.people[Role.COORDINATOR]
    secret = person.token.rsplit("_", 1)[1]
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT token_hash, token_salt FROM users WHERE id = :id"),
                {"id": person.user_id},
            )
        ).one()
    assert secret.encode() not in bytes(row.token_hash)
    assert len(bytes(row.token_salt)) == 16


@pytest.mark.parametrize(
    "role",
    [Role.AGENCY_WORKER, Role.ADVISOR, Role.RECIPIENT, Role.COMPLIANCE_OFFICER],
)
async def test_only_a_coordinator_may_add_an_agency(
    client: httpx.AsyncClient, hub: Registered, role: Role
) -> None:
    code = unique_code("nope")
    body = {"code": code, "name": "Housing", "kind": "housing"}
    response = await client.post("/api/agencies", json=body, headers=hub.people[role].headers)
    assert response.status_code == 403
    assert response.json()["detail"] == "this needs the coordinator role"
    register = await client.get("/api/agencies", headers=hub.people[role].headers)
    assert code not in {a["code"] for a in register.json()["agencies"]}  # nothing written


async def test_a_coordinator_adds_an_agency_with_a_fresh_key(
    client: httpx.AsyncClient, hub: Registered
) -> None:
    code = unique_code("housing")
    headers = hub.people[Role.COORDINATOR].headers
    body = {"code": code, "name": "Housing", "kind": "housing"}
    response = await client.post("/api/agencies", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/agencies/{code}"
    added = response.json()
    assert added["kind"] == "housing" and len(added["public_key"]) == 44
    again = await client.post("/api/agencies", json=body, headers=headers)
    assert again.status_code == 409
    assert again.json()["type"] == "urn:mashflow:problem:already-exists"


async def test_every_signed_in_role_reads_the_register_with_protocols(
    client: httpx.AsyncClient, hub: Registered
) -> None:
    coordinator = hub.people[Role.COORDINATOR].headers
    response = await client.post(
        "/api/protocols",
        json={
            "agencies": [hub.police, hub.health],
            "title": "Police and health ISP",
            "reference": "ISP-7",
            "valid_from": "2024-04-01",
        },
        headers=coordinator,
    )
    assert response.status_code == 201, response.text
    assert response.json()["in_force"] is True
    for person in hub.people.values():
        register = await client.get("/api/agencies", headers=person.headers)
        assert register.status_code == 200
        codes = {a["code"] for a in register.json()["agencies"]}
        assert {hub.police, hub.health} <= codes
        refs = {p["reference"] for p in register.json()["protocols"]}
        assert "ISP-7" in refs
        assert "wrapped_private_key" not in register.text


async def test_a_coordinator_sets_whether_an_agency_is_a_public_authority(
    client: httpx.AsyncClient, hub: Registered
) -> None:
    coordinator = hub.people[Role.COORDINATOR].headers
    code = unique_code("charity")
    body = {"code": code, "name": "Family Support", "kind": "voluntary_sector"}
    added = await client.post("/api/agencies", json=body, headers=coordinator)
    assert added.status_code == 201 and added.json()["public_authority"] is False
    worker = hub.people[Role.AGENCY_WORKER].headers
    refused = await client.patch(
        f"/api/agencies/{code}", json={"public_authority": True}, headers=worker
    )
    assert refused.status_code == 403
    bad = await client.patch(
        f"/api/agencies/{code}", json={"public_authority": "perhaps"}, headers=coordinator
    )
    assert bad.status_code == 422
    assert (await client.get(f"/api/agencies/{code}", headers=worker)).json()[
        "public_authority"
    ] is False  # nothing written by either
    changed = await client.patch(
        f"/api/agencies/{code}", json={"public_authority": True}, headers=coordinator
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["public_authority"] is True
    missing = await client.patch(
        "/api/agencies/no_such_one", json={"public_authority": True}, headers=coordinator
    )
    assert missing.status_code == 404


async def test_the_register_page_says_whether_each_agency_is_a_public_authority(
    api_url: str, hub: Registered, agencies: AgencyDirectory
) -> None:
    charity = await agencies.add(unique_code("vol"), "Charity", "voluntary_sector")
    async with httpx.AsyncClient(
        base_url=api_url, headers={"accept": "text/html"}, timeout=10
    ) as browser:
        await sign_in(browser, hub.people[Role.AGENCY_WORKER].token)
        page = await browser.get("/agencies")
    assert page.status_code == 200 and problems(page.text) == []
    assert "Public authority</th>" in page.text
    row = page.text.split(f">{charity.code}<", 1)[1].split("</tr>", 1)[0]
    assert ">No</td>" in row
