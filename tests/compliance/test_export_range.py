"""The audit export over a date range: over real HTTP, through the real CLI, and as a stream.

Requests are opened on chosen days of a random year far ahead (so no other test's
request falls in the range): two inside the range, at its first minute and its last,
and two just outside it. Only the two inside come out, oldest first, each as the
one-request export; a reveal is recorded in each exported request's access log,
and a refused or malformed export records nothing.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.export import ExportFormat
from app.export_range import (
    DateRange,
    InvalidRange,
    date_range,
    export_chunks,
    histories,
)
from domain.models import Actor
from domain.vocabulary import Role
from infra.crypto import Keyring
from infra.eventstore import EventStore
from tests.api.conftest import Registered
from tests.api.test_cli import mashflow
from tests.cli.people import person, signed_in
from tests.compliance.build import NAME, REASONS, not_shared_path, shared_path
from tests.compliance.test_cli import cli_env  # noqa: F401 - a fixture

OTHERS = [Role.COORDINATOR, Role.AGENCY_WORKER, Role.ADVISOR, Role.RECIPIENT]


@dataclass(frozen=True)
class Spread:
    first: date
    last: date
    inside: list[UUID]
    """Opened in the range, oldest first."""
    outside: list[UUID]

    @property
    def query(self) -> str:
        return f"from={self.first.isoformat()}&to={self.last.isoformat()}"


_days = itertools.count()
_BASE = date(random.randrange(2080, 2100), 1, 4)
"""Each spread its own week of a random year far ahead: no other request falls in it, and
no retention rule finds these requests due while other tests skip time (dates long past
would put every one of them up for review at once)."""


async def make_spread(store: EventStore, keyring: Keyring) -> Spread:
    first = _BASE + timedelta(weeks=next(_days))
    last = first + timedelta(days=1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    before = await not_shared_path(store, keyring, start - timedelta(minutes=1))
    early = await shared_path(store, keyring, start)
    late = await not_shared_path(store, keyring, start + timedelta(days=2, minutes=-1))
    after = await shared_path(store, keyring, start + timedelta(days=2))
    return Spread(
        first, last, [early.request_id, late.request_id], [before.request_id, after.request_id]
    )


@pytest.fixture(scope="module")
async def spread(store: EventStore, keyring: Keyring) -> Spread:
    """For the tests that reveal nothing: they check that its access logs stay empty."""
    return await make_spread(store, keyring)


@pytest.fixture
async def fresh(store: EventStore, keyring: Keyring) -> Spread:
    """For a test that reveals: its own requests, so the views it records are its alone."""
    return await make_spread(store, keyring)


async def access_views(store: EventStore, request_id: UUID) -> list[tuple[str, str]]:
    return [
        (r.metadata.actor_id or "", r.event.what.value)  # type: ignore[attr-defined]
        for r in await store.read_stream(f"access:{request_id}")
    ]


# -- over HTTP -------------------------------------------------------------------------------


async def test_exports_the_requests_opened_in_the_range_oldest_first(
    client: httpx.AsyncClient, hub: Registered, store: EventStore, spread: Spread
) -> None:
    officer = hub.people[Role.COMPLIANCE_OFFICER]
    response = await client.get(f"/api/audit/export?{spread.query}", headers=officer.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert (
        f'filename="audit-{spread.first.isoformat()}-to-{spread.last.isoformat()}.json"'
        in response.headers["content-disposition"]
    )
    body = json.loads(response.text)
    assert (body["from"], body["to"], body["revealed"]) == (
        spread.first.isoformat(),
        spread.last.isoformat(),
        False,
    )
    assert [r["request_id"] for r in body["requests"]] == [str(i) for i in spread.inside]
    assert body["count"] == 2
    shared, not_shared = body["requests"]
    assert shared["verification"]["ok"] is True and shared["events"]
    assert shared["agencies"][0]["decision_record"]["outcome"] == "share"
    assert shared["agencies"][0]["decision_record"]["reasons"] == "[sealed]"
    assert not_shared["agencies"][0]["decision_record"]["outcome"] == "not_share"
    assert shared["access_log"] == [] and NAME not in response.text
    for request_id in spread.inside:  # nothing was opened, so no view was recorded
        assert await access_views(store, request_id) == []


async def test_a_revealing_export_is_recorded_for_every_request_it_holds(
    client: httpx.AsyncClient, hub: Registered, store: EventStore, fresh: Spread
) -> None:
    officer = hub.people[Role.COMPLIANCE_OFFICER]
    response = await client.get(
        f"/api/audit/export?{fresh.query}&format=csv&reveal=true", headers=officer.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(dict.fromkeys(r["request_id"] for r in rows)) == [str(i) for i in fresh.inside]
    early = [r for r in rows if r["request_id"] == str(fresh.inside[0])]
    assert {r["value"] for r in early if r["field"] == "Reasons"} == {REASONS}
    for request_id in fresh.inside:
        mine = [r for r in rows if r["request_id"] == str(request_id)]
        assert [(r["actor_id"], r["value"]) for r in mine if r["section"] == "access"] == [
            (str(officer.user_id), "export")
        ]
        assert await access_views(store, request_id) == [(str(officer.user_id), "export")]
    for request_id in fresh.outside:
        assert await access_views(store, request_id) == []
    page = await client.get(f"/api/audit/export?{fresh.query}&format=html", headers=officer.headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count("<section>") == 2 and "Timeline" in page.text
    assert f"Request {fresh.inside[0]}" in page.text
    assert str(fresh.outside[0]) not in page.text and NAME not in page.text


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("from=2020-03-02&to=2020-03-01", "from", "after the end"),
        ("from=2020-13-01&to=2020-12-31", "from", ""),
        ("from=2020-01-01&to=2021-01-01", "to", "at most 366"),
        ("from=2020-01-01", "to", ""),
        ("from=2020-01-01&to=2020-01-02&format=xml", "format", ""),
    ],
)
async def test_bad_ranges_are_problems_and_record_nothing(
    client: httpx.AsyncClient,
    hub: Registered,
    store: EventStore,
    spread: Spread,
    query: str,
    field: str,
    words: str,
) -> None:
    officer = hub.people[Role.COMPLIANCE_OFFICER]
    response = await client.get(f"/api/audit/export?{query}&reveal=true", headers=officer.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert [(e["field"], e["location"]) for e in problem["errors"]] == [(field, "query")]
    assert words in problem["detail"]
    for request_id in spread.inside:
        assert await access_views(store, request_id) == []


@pytest.mark.parametrize("role", OTHERS)
async def test_only_compliance_officers_export_a_range(
    client: httpx.AsyncClient, hub: Registered, store: EventStore, spread: Spread, role: Role
) -> None:
    response = await client.get(
        f"/api/audit/export?{spread.query}&reveal=true", headers=hub.people[role].headers
    )
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"/api/audit/export?{spread.query}")).status_code == 401
    for request_id in spread.inside:
        assert await access_views(store, request_id) == []


# -- through the CLI ------------------------------------------------------------------------


async def test_the_cli_streams_a_range_to_stdout_or_a_file(
    cli_env: dict[str, str],  # noqa: F811 - the fixture imported above
    store: EventStore,
    fresh: Spread,
    tmp_path: Path,
    app_engine: AsyncEngine,
) -> None:
    window = ("--from", fresh.first.isoformat(), "--to", fresh.last.isoformat())
    as_csv = await mashflow(cli_env, "export", *window, "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert list(dict.fromkeys(r["request_id"] for r in rows)) == [str(i) for i in fresh.inside]
    assert "exported 2 requests" in as_csv.stderr
    assert NAME not in as_csv.stdout

    out = tmp_path / "range.json"
    officer = await person(app_engine, Role.COMPLIANCE_OFFICER)
    shown = await mashflow(
        signed_in(cli_env, officer.token), "export", *window, "--reveal", "-o", str(out)
    )
    assert shown.returncode == 0, shown.stderr
    body = json.loads(out.read_text(encoding="utf-8"))
    assert [r["request_id"] for r in body["requests"]] == [str(i) for i in fresh.inside]
    assert body["requests"][0]["request_details"]["subject_details"]["name"] == NAME
    assert body["revealed"] is True and not list(tmp_path.glob("*.part"))
    for request_id in fresh.inside:
        assert await access_views(store, request_id) == [(str(officer.user.id), "export")]
    for request_id in fresh.outside:
        assert await access_views(store, request_id) == []

    page = tmp_path / "range.html"
    printed = await mashflow(cli_env, "export", *window, "-f", "html", "-o", str(page))
    assert printed.returncode == 0, printed.stderr
    assert page.read_text(encoding="utf-8").count("<section>") == 2


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--from", "2020-03-02", "--to", "2020-03-01"], "--from: 2020-03-02 is after"),
        (["--from", "02/03/2020", "--to", "2020-03-04"], "--from: give a date as YYYY-MM-DD"),
        (["--from", "2020-01-01", "--to", "2021-06-01"], "--to: the range covers 518 days"),
        (["--from", "2020-01-01"], "--from and --to"),
        (["00000000-0000-0000-0000-000000000000", "--from", "2020-01-01"], "not both"),
        ([], "give REQUEST_ID"),
        (
            ["--from", "2020-01-01", "--to", "2020-01-02", "-o", "/nonexistent/dir/x.json"],
            "--output: there is no directory /nonexistent/dir",
        ),
    ],
)
async def test_the_cli_refuses_bad_ranges_in_one_line_and_writes_nothing(
    cli_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
    args: list[str],
    words: str,
) -> None:
    out = tmp_path / "never.json"
    done = await mashflow(cli_env, "export", "-o", str(out), "--reveal", *args)  # a later -o wins
    assert done.returncode == 2, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists() and not list(tmp_path.iterdir())


# -- the stream itself ----------------------------------------------------------------------


async def test_the_export_is_produced_a_request_at_a_time(
    store: EventStore, keyring: Keyring, spread: Spread
) -> None:
    """One chunk per request between the head and the tail: nothing waits for the whole."""
    span = DateRange(first=spread.first, last=spread.last)
    officer = Actor(user_id="u-officer-stream", role=Role.COMPLIANCE_OFFICER)
    for fmt, parse in ((ExportFormat.JSON, json.loads), (ExportFormat.HTML, str)):
        found = histories(store, keyring, span, reveal=False, viewer=officer)
        chunks = [
            c async for c in export_chunks(found, span, fmt, revealed=False, zone="Europe/London")
        ]
        assert len(chunks) == 2 + len(spread.inside)
        assert str(spread.inside[0]) in chunks[1] and str(spread.inside[1]) in chunks[2]
        parse("".join(chunks))
    assert date_range(date(2024, 1, 1), date(2024, 12, 31)).days == 366
    with pytest.raises(InvalidRange):
        date_range(date(2023, 1, 1), date(2024, 1, 2))
