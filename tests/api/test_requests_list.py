"""The requests list over real HTTP: most urgent first, filtered by rating, agency and
status, in the API and on the page; deadlines shown as time left and on the hub's clock."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx

from domain.vocabulary import AgencyKind
from infra.directory import AgencyDirectory
from tests.api.a11y import problems
from tests.api.stack import Stack
from tests.api.test_requests_flow import open_request, signed_in


async def listed(http: httpx.AsyncClient, stack: Stack, **params: str) -> list[str]:
    response = await http.get(
        "/api/requests", params=params, headers=stack.people["coordinator"].headers
    )
    assert response.status_code == 200, response.text
    return [r["request_id"] for r in response.json()["requests"]]


async def test_requests_list_most_urgent_first_and_filters_by_rating_agency_and_status(
    http: httpx.AsyncClient, stack: Stack, agencies: AgencyDirectory
) -> None:
    holder = (
        await agencies.add(f"housing_{uuid.uuid4().hex[:8]}", "Housing", AgencyKind.HOUSING)
    ).code
    green = await open_request(http, stack, rating="green", holding_agencies=[holder])
    withdrawn = await open_request(http, stack, rating="red", holding_agencies=[holder])
    red = await open_request(http, stack, rating="red", holding_agencies=[holder])
    amber = await open_request(http, stack, rating="amber", holding_agencies=[holder])
    done = await http.post(
        f"/api/requests/{withdrawn}/withdraw",
        json={"reason": "Opened twice by mistake"},
        headers=stack.people["coordinator"].headers,
    )
    assert done.status_code == 200, done.text
    mine = {green, withdrawn, red, amber}
    for _ in range(200):  # until the read model has every request and the withdrawal
        statuses = await listed(http, stack, agency=holder, status="withdrawn")
        if statuses == [withdrawn] and len(await listed(http, stack, agency=holder)) == 4:
            break
        await asyncio.sleep(0.05)
    # Least time left first (red 4 h, amber 24 working hours, green 72), nothing awaited last.
    assert await listed(http, stack, agency=holder) == [red, amber, green, withdrawn]
    newest = await listed(http, stack, agency=holder, order="newest")
    assert newest == [amber, red, withdrawn, green]
    assert await listed(http, stack, agency=holder, rating="red") == [red, withdrawn]
    assert await listed(http, stack, agency=holder, rating="red", status="open") == [red]
    assert mine.isdisjoint(await listed(http, stack, agency=stack.other))
    bad = await http.get(
        "/api/requests", params={"order": "oldest"}, headers=stack.people["coordinator"].headers
    )
    assert bad.status_code == 422 and "order" in bad.text

    async with signed_in(stack, "coordinator") as page:
        shown = await page.get("/requests", params={"agency": holder, "rating": "red"})
        assert shown.status_code == 200
        rows = re.findall(r'class="govuk-link mf-id" href="/requests/([0-9a-f-]{36})"', shown.text)
        assert rows == [red, withdrawn]
        assert f'<option value="{holder}" selected>' in shown.text
        cell = '<td class="govuk-table__cell">'
        assert re.search(rf"{cell}3 h \d+ min left</td>", shown.text)  # red: 4 hours, just opened
        assert re.search(
            rf"{cell}\w{{3}} \d{{1,2}} \w{{3}} \d{{4}}, \d\d:\d\d (GMT|BST)</td>", shown.text
        )
        assert problems(shown.text) == []
        none = await page.get("/requests", params={"agency": holder, "status": "closed"})
        assert "No requests match these filters" in none.text
        assert problems(none.text) == []
        ignored = await page.get("/requests", params={"rating": "purple", "agency": "<x>"})
        assert ignored.status_code == 200 and "<x>" not in ignored.text


async def test_an_agency_filter_no_agency_could_have_is_a_422_naming_it(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """A NUL in ``agency`` reached PostgreSQL, which refuses it in text: a 500."""
    for who in ("coordinator", "worker"):
        for agency in ("\x00", "a\x00b", "Police", "x" * 41):
            response = await http.get(
                "/api/requests", params={"agency": agency}, headers=stack.people[who].headers
            )
            assert response.status_code == 422, response.text
            errors = response.json()["errors"]
            assert [(e["field"], e["location"]) for e in errors] == [("agency", "query")]
    fine = await http.get(
        "/api/requests",
        params={"agency": stack.holder},
        headers=stack.people["coordinator"].headers,
    )
    assert fine.status_code == 200, fine.text
