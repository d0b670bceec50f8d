"""The hub dashboard over real HTTP: its figures equal those computed from the event log
for a seeded set of requests (some answered on time, one late, one overdue), on the
Temporal dev server (a hub policy in seconds, so deadlines pass for real) and PostgreSQL;
the page (charts and tables) and the Prometheus metrics show the same."""

from __future__ import annotations

import asyncio
import re
import statistics
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from app.container import Infrastructure
from app.dashboard import percentile
from app.scenario_builder import Hub, Walk, open_request, policy_in_seconds
from domain.events import DecisionRecorded, RequestOpened
from domain.vocabulary import AgencyKind, NotShareReason, Rating, Role
from infra.settings import Settings
from infra.users import UserDirectory
from tests.api.a11y import problems
from tests.readmodels.settle import settled
from tests.workflows.conftest import hub_of, running_worker

QUICK = policy_in_seconds((3, 120, 3600), (60, 120, 3600))
"""Red 3 seconds (answered late or left overdue), amber 2 minutes (answered in time)."""


@pytest.fixture
async def quick_hub(
    dev_server_env: WorkflowEnvironment, task_queue: str, infra: Infrastructure, settings: Settings
) -> AsyncIterator[Hub]:
    async with running_worker(dev_server_env.client, task_queue, infra, QUICK) as requests:
        yield hub_of(requests, infra, settings)


async def answer(hub: Hub, rid: UUID, agency: str) -> None:
    view = await hub.requests.view(rid)
    walk = Walk(hub, rid, view.state.subject_id, agency)
    await walk.assess(purpose_clear=False)
    await walk.not_share(NotShareReason.NO_LEGITIMATE_PURPOSE, "No concern is stated")


def expected_from_log(
    events: list[Any], agencies: set[str], now: datetime
) -> dict[str, dict[str, Any]]:
    """Each agency's figures, straight from the recorded events."""
    opened = {e.request_id: e for e in events if isinstance(e, RequestOpened)}
    decided = {(e.request_id, e.agency): e for e in events if isinstance(e, DecisionRecorded)}
    out: dict[str, dict[str, Any]] = {}
    for code in agencies:
        mine = [
            (o, decided.get((rid, code))) for rid, o in opened.items() if code in o.holding_agencies
        ]
        answered = [(o, d) for o, d in mine if d is not None]
        times: dict[str, list[float]] = {r.value: [] for r in Rating}
        for o, d in answered:
            times[o.rating.value].append((d.record.decided_at - o.opened_at).total_seconds())
        out[code] = {
            "answered_on_time": sum(d.record.decided_at <= o.decision_due_at for o, d in answered),
            "answered_late": sum(d.record.decided_at > o.decision_due_at for o, d in answered),
            "overdue_now": sum(d is None and o.decision_due_at < now for o, d in mine),
            "times": {
                rating: (
                    (statistics.median(t), statistics.quantiles(t, n=10, method="inclusive")[8])
                    if len(t) > 1
                    else ((t[0], t[0]) if t else (None, None))
                )
                for rating, t in times.items()
            },
        }
    return out


async def test_dashboard_figures_equal_those_computed_from_the_event_log(
    quick_hub: Hub, infra: Infrastructure, users: UserDirectory, client: httpx.AsyncClient
) -> None:
    hub = quick_hub
    suffix = uuid.uuid4().hex[:6]
    police, housing = f"Police force {suffix}", f"Housing service {suffix}"
    a = (await infra.agencies.add(f"police_{suffix}", police, AgencyKind.POLICE)).code
    b = (await infra.agencies.add(f"housing_{suffix}", housing, AgencyKind.HOUSING)).code
    started = datetime.now(UTC)

    on_time = [(await open_request(hub, "Ada", [a], Rating.AMBER))[0] for _ in range(3)]
    both, _ = await open_request(hub, "Ben", [a, b], Rating.AMBER)
    late, _ = await open_request(hub, "Cal", [a], Rating.RED)
    overdue, _ = await open_request(hub, "Dee", [b], Rating.RED)
    waiting, _ = await open_request(hub, "Eli", [b], Rating.GREEN)
    for rid in [*on_time, both]:
        await answer(hub, rid, a)
    await asyncio.sleep(3.5)  # red: 3 seconds
    await answer(hub, late, a)
    rids = [*on_time, both, late, overdue, waiting]
    await settled(infra, *rids)

    coordinator = await users.add("Dashboard coordinator", Role.COORDINATOR, None)
    headers = {"Authorization": f"Bearer {coordinator.token}"}
    params = {"start": (started - timedelta(minutes=1)).isoformat(), "end": ""}
    params["end"] = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    got = await client.get("/api/dashboard", params=params, headers=headers)
    assert got.status_code == 200, got.text
    now = datetime.fromisoformat(got.json()["now"])
    shown = {f["agency"]: f for f in got.json()["agencies"] if f["agency"] in {a, b}}

    events = [r.event for rid in rids for r in await infra.store.read_correlation(rid)]
    expected = expected_from_log(events, {a, b}, now)
    assert expected[a]["answered_on_time"] == 4 and expected[a]["answered_late"] == 1
    assert expected[b]["overdue_now"] == 1 and expected[b]["answered_on_time"] == 0
    for code in (a, b):
        want, have = expected[code], shown[code]
        for key in ("answered_on_time", "answered_late", "overdue_now"):
            assert have[key] == want[key], (code, key)
        for t in have["by_rating"]:
            median, p90 = want["times"][t["rating"]]
            assert t["median_seconds"] == pytest.approx(median, abs=0.01), (code, t)
            assert t["p90_seconds"] == pytest.approx(p90, abs=0.01), (code, t)

    page = await signed_in_page(client, coordinator.token)
    html = (await page.get("/dashboard")).text
    assert problems(html) == []
    assert html.count("<svg") == 4 and 'role="img"' in html
    num = r'<td class="govuk-table__cell govuk-table__cell--numeric">(\d+)</td>'
    row = re.search(rf'<th scope="row" class="govuk-table__header">{police}</th>{num}{num}', html)
    assert row is not None and row.groups() == ("4", "1")
    assert "4 on time, 1 late, 0 overdue now" in html  # in the chart, in words
    for name in (police, housing):  # agencies by the register's name, in charts and tables
        assert f">{name}</text>" in html and f">{name}</th>" in html
    assert a not in html and b not in html  # the codes stay in the JSON and the metrics

    metrics = (await client.get("/metrics")).text
    assert f'mashflow_agency_decisions_answered{{agency="{a}",timeliness="on_time"}} 4.0' in metrics
    assert f'mashflow_agency_decisions_answered{{agency="{a}",timeliness="late"}} 1.0' in metrics
    assert f'mashflow_agency_decisions_overdue{{agency="{b}"}} 1.0' in metrics
    amber_p90 = expected[a]["times"]["amber"][1]
    line = re.search(
        rf'mashflow_agency_response_seconds{{agency="{a}",quantile="0.9",rating="amber"}} (\S+)',
        metrics,
    )
    assert line is not None and float(line.group(1)) == pytest.approx(amber_p90, abs=0.01)

    worker = await users.add("Dashboard worker", Role.AGENCY_WORKER, a)
    refused = await client.get(
        "/api/dashboard", headers={"Authorization": f"Bearer {worker.token}"}
    )
    assert refused.status_code == 403
    backwards = await client.get(
        "/api/dashboard", params={"start": params["end"], "end": params["start"]}, headers=headers
    )
    assert backwards.status_code == 422 and "start" in backwards.text
    naive = await client.get(
        "/api/dashboard", params={"start": "2026-01-01T00:00"}, headers=headers
    )
    assert naive.status_code == 422 and "time zone" in naive.text


def test_percentiles_interpolate_between_ranks_as_the_statistics_module_does() -> None:
    values = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0]
    assert percentile(values, 0.5) == statistics.median(values)
    assert percentile(values, 0.9) == pytest.approx(
        statistics.quantiles(values, n=10, method="inclusive")[8]
    )
    assert percentile([4.0], 0.9) == 4.0
    assert percentile([], 0.5) is None


async def signed_in_page(client: httpx.AsyncClient, token: str) -> httpx.AsyncClient:
    form = await client.get("/signin")
    match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert match
    done = await client.post("/signin", data={"token": token, "csrf_token": match.group(1)})
    assert done.status_code == 303
    return client
