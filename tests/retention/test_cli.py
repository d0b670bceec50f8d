"""``mashflow retention`` as subprocesses, against the real stack.

The session's database and Temporal dev server, with a worker running the
retention activities on the CLI's task queue (``dev_hub``). Records come up for
review years after a case closes, so the pass is run ``--as-of`` a later day.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.events import RecordDisposed, RecordRetained
from domain.vocabulary import RecordType, Role
from infra.users import IssuedToken
from tests.cli.people import one_line_error, person, signed_in
from tests.conftest import TEST_KEK, TestDatabase
from tests.retention.conftest import DevHub, closed_request, review_of
from tests.workflows.test_privacy import _all_tables_text

MASHFLOW = Path(sys.executable).parent / "mashflow"


class Cli:
    def __init__(self, env: dict[str, str], officer: IssuedToken | None = None) -> None:
        self.env = signed_in(env, officer.token) if officer is not None else env
        self.officer = officer

    def signed_in_as(self, token: str | None) -> Cli:
        """The same commands with another user's token (None: no token at all)."""
        return Cli(signed_in(self.env, token))

    async def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            [str(MASHFLOW), "retention", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    async def json(self, *args: str) -> Any:
        done = await self(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def cli_env(database: TestDatabase, **extra: str) -> dict[str, str]:
    """The environment of a ``mashflow`` command on the test database (and ``extra``)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MASHFLOW_")} | {
        "MASHFLOW_ENVIRONMENT": "test",
        "MASHFLOW_DATABASE_URL": database.admin_url,
        "MASHFLOW_KEK": TEST_KEK,
        "MASHFLOW_DATA_DIR": tempfile.mkdtemp(prefix="mashflow-cli-"),
        "MASHFLOW_LOG_LEVEL": "WARNING",
        "MASHFLOW_DATABASE_POOL_SIZE": "2",  # one command at a time: a small footprint
        "COLUMNS": "250",
        **extra,
    }


@pytest.fixture
async def cli(dev_hub: DevHub, database: TestDatabase) -> Cli:
    """Signed in as a compliance officer of the directory."""
    return Cli(
        cli_env(
            database,
            MASHFLOW_TEMPORAL_ADDRESS=dev_hub.address,
            MASHFLOW_TEMPORAL_TASK_QUEUE=dev_hub.task_queue,
        ),
        await person(dev_hub.infra.engine, Role.COMPLIANCE_OFFICER),
    )


async def decisions(dev_hub: DevHub, request_id: uuid.UUID) -> list[object]:
    return [
        r.event
        for r in await dev_hub.infra.store.read_correlation(request_id)
        if isinstance(r.event, RecordRetained | RecordDisposed)
    ]


async def until_status(cli: Cli, review_id: str, status: str) -> dict[str, Any]:
    for _ in range(150):
        shown = await cli.json("show", review_id)
        if shown["review"]["status"] == status:
            return dict(shown)
        await asyncio.sleep(0.2)
    raise AssertionError(f"review {review_id} never became {status}")


async def test_a_pass_opens_reviews_that_are_listed_shown_retained_and_disposed(
    cli: Cli, dev_hub: DevHub, database: TestDatabase
) -> None:
    canary = f"Ottoline Cliffhanger {uuid.uuid4().hex[:8]}"
    request_id = await closed_request(dev_hub.infra, dev_hub.hub, canary)
    later = date.today() + timedelta(days=6 * 366)  # past the shared record's first review

    ran = await cli.json("run", "--as-of", later.isoformat())
    mine = [w for w in ran["opened"] if str(request_id) in w]
    assert {w.split(f"{request_id}-")[1].rsplit("-", 3)[0] for w in mine} == {
        "shared_decision",
        "package",
    }
    shared = await review_of(dev_hub.retention, request_id)
    package = await review_of(dev_hub.retention, request_id, RecordType.PACKAGE)

    # The queue, as JSON and as a table: due dates, open, not yet overdue.
    listed = {r["review_id"]: r for r in await cli.json("list")}
    row = listed[str(shared.review_id)]
    assert row["request_id"] == str(request_id) and row["status"] == "open"
    assert row["overdue"] is False and row["escalated_at"] is None
    assert date.fromisoformat(row["due_on"]) <= later
    assert datetime.fromisoformat(row["decision_due_at"]) > datetime.now(UTC)
    table = await cli("list")
    assert table.returncode == 0, table.stderr
    assert "open retention review" in table.stdout
    line = next(x for x in table.stdout.splitlines() if str(shared.review_id) in x)
    assert "shared decision" in line and "open" in line

    # The review and its record's decision trail, with no personal data.
    shown = await cli.json("show", str(shared.review_id))
    assert shown["review"]["record_type"] == "shared_decision"
    kinds = [e["event_type"] for e in shown["trail"]]
    assert "request.opened" in kinds and "decision.recorded" in kinds
    assert "retention.review_opened" in kinds
    readable = await cli("show", str(shared.review_id))
    assert readable.returncode == 0 and "Decision trail" in readable.stdout
    assert canary not in readable.stdout + json.dumps(shown)

    # Refusals: one line, a non-zero exit, nothing written.
    before = await decisions(dev_hub, request_id)
    next_review = (date.today() + timedelta(days=365)).isoformat()
    sid = str(shared.review_id)
    coordinator = cli.signed_in_as((await person(dev_hub.infra.engine, Role.COORDINATOR)).token)
    one_line_error(await coordinator("list"), 3, "compliance_officer", "coordinator")
    one_line_error(
        await coordinator("retain", sid, "--reason", "Keep", "--next-review", next_review),
        3,
        "compliance_officer",
    )
    one_line_error(
        await coordinator("dispose", sid, "--reason", "retention_period_ended", "--yes"),
        3,
        "working retention reviews needs the compliance_officer role",
    )
    one_line_error(
        await cli.signed_in_as(None)("dispose", sid, "--reason", "retention_period_ended", "--yes"),
        5,
        "MASHFLOW_TOKEN: not set",
    )
    one_line_error(
        await cli.signed_in_as("mf_0000000000000000_" + "y" * 43)("list"), 5, "not valid"
    )
    one_line_error(await cli("show", str(uuid.uuid4())), 4, "no retention review")
    one_line_error(await cli("show", "not-a-review"), 2, "REVIEW")
    one_line_error(
        await cli("retain", sid, "--reason", "Keep", "--next-review", "31/12/2030"),
        2,
        "--next-review",
        "YYYY-MM-DD",
    )
    one_line_error(
        await cli("retain", sid, "--reason", "Keep", "--next-review", date.today().isoformat()),
        2,
        "--next-review",
        "after today",
    )
    one_line_error(
        await cli("retain", sid, "--reason", "  ", "--next-review", next_review),
        2,
        "--reason",
    )
    one_line_error(
        await cli("dispose", str(package.review_id), "--reason", "tidy_up", "--yes"),
        2,
        "--reason",
        "retention_period_ended",
    )
    one_line_error(
        await cli("dispose", str(package.review_id), "--reason", "no_longer_necessary"),
        2,
        "--yes",
    )
    assert await decisions(dev_hub, request_id) == before

    # Retain: kept until the chosen day; a second decision is refused.
    reason = f"Sibling case {uuid.uuid4().hex[:8]} still open"
    kept = await cli.json("retain", sid, "--reason", reason, "--next-review", next_review)
    assert kept["state"]["status"] == "retained"
    assert kept["state"]["next_review_on"] == next_review
    shown = await until_status(cli, sid, "retained")
    assert reason not in await _all_tables_text(database)  # sealed under the subject's key
    assert cli.officer is not None
    assert shown["review"]["decided_by"] == str(cli.officer.user.id)
    assert shown["review"]["next_review_on"] == next_review
    one_line_error(
        await cli("retain", sid, "--reason", "Again", "--next-review", next_review),
        3,
        "closed",
        "retained",
    )
    assert str(shared.review_id) not in {r["review_id"] for r in await cli.json("list")}

    # Dispose of the package record: confirmed, recorded, then closed.
    pid = str(package.review_id)
    done = await cli("dispose", pid, "--reason", "retention_period_ended", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("disposed: review")
    await until_status(cli, pid, "disposed")
    one_line_error(
        await cli("dispose", pid, "--reason", "retention_period_ended", "--yes"),
        3,
        "closed",
        "disposed",
    )
    assert [type(e) for e in await decisions(dev_hub, request_id)] == [
        RecordRetained,
        RecordDisposed,
    ]
    assert all(p.sealed is None for p in await dev_hub.infra.packages.list_for_request(request_id))
