"""``mashflow requests`` and ``mashflow tasks`` as subprocesses, against the real stack.

The test database, a real Temporal dev server started here, and a worker with
the read-model projection running in this process on the CLI's task queue. The
people are real users of the directory; each command gets its user's token in
``MASHFLOW_TOKEN`` (or ``--token-file``), as a person's shell would.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from app.container import Infrastructure, open_infrastructure
from app.scenario_builder import register_agencies
from domain.calendar import BankHolidayRegion
from domain.events import RequestOpened
from domain.events.base import RecordedEvent
from domain.policy import deadline
from domain.vocabulary import Rating, Role
from infra import local_stack
from infra.policy_file import EXAMPLE_FILE, load_policy
from infra.readmodels import ProjectionRunner
from infra.settings import Settings
from infra.stack import EmbeddedTemporal, free_port
from infra.temporal import connect_client
from infra.users import IssuedToken, UserDirectory
from tests.cli.people import one_line_error, person, signed_in
from tests.conftest import TEST_KEK
from worker.main import build_worker

if TYPE_CHECKING:
    from tests.conftest import TestDatabase

MASHFLOW = Path(sys.executable).parent / "mashflow"


@dataclass(frozen=True)
class People:
    coordinator: IssuedToken
    worker: IssuedToken
    """An agency worker at police, the holding agency of the tests' requests."""
    advisor: IssuedToken
    """An advisor at police: may complete some steps, not assess_purpose."""
    gp_worker: IssuedToken
    """An agency worker at another agency (gp_riverside)."""


@dataclass(frozen=True)
class Cli:
    env: dict[str, str]
    infra: Infrastructure
    people: People

    async def __call__(
        self, *args: str, token: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``mashflow ARGS`` signed in with ``token`` (None: no token in the environment)."""
        return await asyncio.to_thread(
            subprocess.run,
            [str(MASHFLOW), *args],
            env=signed_in(self.env, token),
            capture_output=True,
            text=True,
            timeout=120,
        )

    async def event_count(self) -> int:
        """Every event in the store but the user register's (adding and revoking the test's
        people is recorded too): a refused command must leave this unchanged."""
        async with self.infra.engine.connect() as conn:
            count = sa.text("SELECT count(*) FROM events WHERE stream_id NOT LIKE 'user:%'")
            return int((await conn.execute(count)).scalar_one())


@pytest.fixture
async def cli(database: TestDatabase, tmp_path: Path) -> AsyncIterator[Cli]:
    temporal = EmbeddedTemporal(tmp_path / "temporal", free_port(), None)
    address = await temporal.start()
    queue = f"cli-{uuid.uuid4().hex[:8]}"
    settings = database.settings.with_overrides(temporal_address=address)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASHFLOW_")} | {
        "MASHFLOW_ENVIRONMENT": "test",
        "MASHFLOW_DATABASE_URL": database.admin_url,
        "MASHFLOW_KEK": TEST_KEK,
        "MASHFLOW_TEMPORAL_ADDRESS": address,
        "MASHFLOW_TEMPORAL_TASK_QUEUE": queue,
        "MASHFLOW_DATA_DIR": tempfile.mkdtemp(prefix="mashflow-cli-"),
        "MASHFLOW_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }
    try:
        client = await connect_client(settings)
        async with open_infrastructure(settings) as infra:
            await register_agencies(infra.agencies)
            people = People(
                coordinator=await person(infra.engine, Role.COORDINATOR),
                worker=await person(infra.engine, Role.AGENCY_WORKER, "police"),
                advisor=await person(infra.engine, Role.ADVISOR, "police"),
                gp_worker=await person(infra.engine, Role.AGENCY_WORKER, "gp_riverside"),
            )
            projections = ProjectionRunner(infra.store, poll_interval=0.05)
            projections.start()
            try:
                async with build_worker(client, queue, infra):
                    yield Cli(env, infra, people)
            finally:
                await projections.stop()
    finally:
        temporal.stop()


async def _until(cli: Cli, *args: str, check: object, token: str | None = None) -> object:
    """Run a JSON command until the read models show what ``check`` wants."""
    assert callable(check)
    for _ in range(100):
        done = await cli(*args, "--json", token=token)
        assert done.returncode == 0, done.stderr
        found = json.loads(done.stdout)
        if check(found):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"never settled: {args}")


async def _worker_tasks(cli: Cli, rid: uuid.UUID) -> list[dict[str, Any]]:
    """The request's tasks in the police worker's inbox (``tasks list``), once it shows any."""
    inbox = await _until(
        cli, "tasks", "list",
        check=lambda rows: any(r["request_id"] == str(rid) for r in rows),
        token=cli.people.worker.token,
    )  # fmt: skip
    assert isinstance(inbox, list)
    return [t for t in inbox if t["request_id"] == str(rid)]


async def _events(cli: Cli, rid: uuid.UUID, wanted: str) -> list[RecordedEvent]:
    """The request's events once one of type ``wanted`` has been recorded."""
    for _ in range(100):
        events = await cli.infra.store.read_correlation(rid)
        if any(e.event_type == wanted for e in events):
            return events
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {wanted} event for {rid}")


ASSESS = {
    "purpose_clear": True,
    "identifiable": True,
    "confidential": True,
    "special_category": False,
}


OPEN = (
    "requests", "open",
    "--subject-name", "Ada Example", "--subject-kind", "child",
    "--requesting-agency", "csc", "--holder", "police",
    "--purpose-category", "safeguarding_welfare",
    "--purpose", "Strategy discussion after concerns raised by the school",
    "--information-sought", "Police contact with the household in the last year",
    "--rating", "amber",
)  # fmt: skip


async def _open_one(cli: Cli) -> tuple[uuid.UUID, str]:
    """A new request (by the coordinator) and its first task in the police worker's inbox."""
    opened = await cli(*OPEN, token=cli.people.coordinator.token)
    assert opened.returncode == 0, opened.stderr
    rid = uuid.UUID(opened.stdout.strip())
    (task,) = await _worker_tasks(cli, rid)
    assert task["kind"] == "assess_purpose"
    return rid, str(task["task_id"])


async def test_open_list_show_and_complete_a_task(cli: Cli, tmp_path: Path) -> None:
    coordinator, worker = cli.people.coordinator, cli.people.worker
    opened = await cli(*OPEN, token=coordinator.token)
    assert opened.returncode == 0, opened.stderr
    rid = uuid.UUID(opened.stdout.strip())
    events = await _events(cli, rid, "request.opened")
    # Recorded as the signed-in user: their id, and the role the register holds for them.
    assert events[0].metadata.actor_id == str(coordinator.user.id)
    assert events[0].metadata.actor_role == "coordinator"
    assert events[0].metadata.actor_agency is None

    listed = await _until(
        cli, "requests", "list", "--agency", "police", "--rating", "amber",
        check=lambda rows: any(r["request_id"] == str(rid) for r in rows),
    )  # fmt: skip
    assert isinstance(listed, list)
    mine = next(r for r in listed if r["request_id"] == str(rid))
    assert mine["status"] == "open" and mine["requesting_agency"] == "csc"
    assert "Ada" not in json.dumps(listed)  # ids and codes only: no personal data

    shown = await cli("requests", "show", str(rid), "--json")
    assert shown.returncode == 0, shown.stderr
    assert [a["agency"] for a in json.loads(shown.stdout)["agencies"]] == ["police"]
    table = await cli("requests", "list")
    assert table.returncode == 0 and str(rid) in table.stdout
    # Times on the hub's clock, named as such, as the inbox and the pages give them.
    hub_clock = re.compile(r"\w{3} \d{1,2} \w{3} \d{4}, \d{2}:\d{2} (GMT|BST)")
    row = next(line for line in table.stdout.splitlines() if str(rid) in line)
    assert len(hub_clock.findall(row)) == 2, row
    words = await cli("requests", "show", str(rid))
    assert words.returncode == 0 and len(hub_clock.findall(words.stdout)) == 2, words.stdout

    (task,) = await _worker_tasks(cli, rid)
    assert task["kind"] == "assess_purpose"
    gp_inbox = await cli("tasks", "list", "--json", token=cli.people.gp_worker.token)
    assert gp_inbox.returncode == 0, gp_inbox.stderr
    assert str(rid) not in gp_inbox.stdout  # another agency's inbox does not hold it

    before = await cli.event_count()
    complete = ("tasks", "complete", task["task_id"], "--action", "assess_purpose")
    one_line_error(
        await cli(*complete, "--body", json.dumps(ASSESS), token=cli.people.advisor.token), 3
    )
    one_line_error(
        await cli(*complete, "--body", json.dumps(ASSESS), token=coordinator.token),
        3,
        "advisor or agency_worker",
        "coordinator",
    )
    one_line_error(
        await cli(*complete, "--body", json.dumps(ASSESS), token=cli.people.gp_worker.token),
        3,
        "another agency",
    )
    one_line_error(
        await cli(*complete, "--body", '{"purpose_clear": "perhaps"}', token=worker.token), 2
    )
    assert await cli.event_count() == before  # nothing written

    # A script's way: the token in a file of its own (mode 0600), not in the environment.
    token_file = tmp_path / "worker.token"
    token_file.write_text(worker.token + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    body = tmp_path / "assess.json"
    body.write_text(json.dumps({"action": "assess_purpose", **ASSESS, "note": "clear"}))
    done = await cli(
        *complete, "--body", f"@{body}", "--token-file", str(token_file), "--json", token=None
    )
    assert done.returncode == 0, done.stderr
    step = json.loads(done.stdout)
    assert step["action"] == "assess_purpose" and step["open_tasks"]
    events = await _events(cli, rid, "purpose.assessed")
    assessed = [e for e in events if e.event_type == "purpose.assessed"]
    assert len(assessed) == 1
    assert assessed[0].metadata.actor_id == str(worker.user.id)
    assert assessed[0].metadata.actor_role == "agency_worker"
    assert assessed[0].metadata.actor_agency == "police"


async def test_no_token_a_bad_token_and_a_revoked_token_are_refused(
    cli: Cli, tmp_path: Path
) -> None:
    rid, task_id = await _open_one(cli)
    complete = (
        "tasks", "complete", task_id, "--action", "assess_purpose", "--body", json.dumps(ASSESS),
    )  # fmt: skip
    before = await cli.event_count()

    for args in (OPEN, complete, ("tasks", "list")):
        one_line_error(
            await cli(*args, token=None), 5, "MASHFLOW_TOKEN: not set", "mashflow users add"
        )
    made_up = "mf_0123456789abcdef_" + "x" * 43
    wrong = await cli(*complete, token=made_up)
    one_line_error(wrong, 5, "MASHFLOW_TOKEN", "not valid")
    assert made_up not in wrong.stderr and "x" * 10 not in wrong.stderr  # never echoed

    leaver = await person(cli.infra.engine, Role.AGENCY_WORKER, "police")
    works = await cli("tasks", "list", "--json", token=leaver.token)
    assert works.returncode == 0, works.stderr
    await UserDirectory(cli.infra.engine).revoke(leaver.user.id)
    revoked = await cli(*complete, token=leaver.token)
    one_line_error(revoked, 5, "revoked")
    assert leaver.token not in revoked.stderr
    revoked_coordinator = await person(cli.infra.engine, Role.COORDINATOR)
    await UserDirectory(cli.infra.engine).revoke(revoked_coordinator.user.id)
    one_line_error(await cli(*OPEN, token=revoked_coordinator.token), 5, "revoked")

    # The same from a token file; and a file that cannot be read is a usage error.
    stale = tmp_path / "leaver.token"
    stale.write_text(leaver.token, encoding="utf-8")
    one_line_error(
        await cli(*complete, "--token-file", str(stale), token=cli.people.worker.token),
        5,
        "--token-file",
        "revoked",
    )  # the file wins over the environment
    empty = tmp_path / "empty.token"
    empty.write_text("\n", encoding="utf-8")
    one_line_error(await cli(*complete, "--token-file", str(empty)), 5, "empty")
    one_line_error(
        await cli(*complete, "--token-file", str(tmp_path / "missing.token")), 2, "cannot read"
    )

    # A worker may not open requests: only a coordinator does.
    one_line_error(
        await cli(*OPEN, token=cli.people.worker.token), 3, "coordinator", "agency_worker"
    )
    assert await cli.event_count() == before  # nothing written by any of them
    assert len(await cli.infra.store.read_correlation(rid)) > 0


async def test_requested_by_defaults_to_the_signed_in_user_as_the_api_records(
    cli: Cli, tmp_path: Path
) -> None:
    # The operator's way (docs/operations.md): `mashflow users add` prints the token once,
    # into a file of the script's own.
    added = await cli("users", "add", "--name", "Intake script", "--role", "coordinator", "--json")
    assert added.returncode == 0, added.stderr
    issued = json.loads(added.stdout)
    token_file = tmp_path / "intake.token"
    token_file.write_text(issued["token"], encoding="utf-8")
    token_file.chmod(0o600)
    user_id = issued["user"]["id"]
    social_worker = str((await person(cli.infra.engine, Role.AGENCY_WORKER, "csc")).user.id)
    made_up = await cli(*OPEN, "--requested-by", "sw-42", "--token-file", str(token_file))
    one_line_error(made_up, 3, "--requested-by", "user id")  # checked against the register
    for extra, expected in ((), user_id), (("--requested-by", social_worker), social_worker):
        opened = await cli(*OPEN, *extra, "--token-file", str(token_file), "--json")
        assert opened.returncode == 0, opened.stderr
        rid = uuid.UUID(json.loads(opened.stdout)["request_id"])
        first = (await _events(cli, rid, "request.opened"))[0]
        assert isinstance(first.event, RequestOpened)
        assert first.event.requested_by == expected
        assert first.metadata.actor_id == user_id
        assert first.metadata.actor_role == "coordinator"


async def test_unknown_request_and_missing_settings(cli: Cli) -> None:
    worker = cli.people.worker.token
    missing = await cli("requests", "show", str(uuid.uuid4()))
    assert missing.returncode == 4 and "no request" in missing.stderr
    bad = await cli("requests", "show", "not-an-id")
    assert bad.returncode == 2
    gone = await cli(
        "tasks", "complete", f"{uuid.uuid4()}:police:assess_purpose:1", "--action",
        "assess_purpose", "--body", json.dumps(ASSESS), token=worker,
    )  # fmt: skip
    assert gone.returncode == 4, gone.stderr
    unset = signed_in(dict(cli.env), cli.people.coordinator.token)
    del unset["MASHFLOW_TEMPORAL_ADDRESS"]
    no_temporal = await asyncio.to_thread(
        subprocess.run,
        [str(MASHFLOW), *OPEN],
        env=unset, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert no_temporal.returncode == 2
    assert "MASHFLOW_TEMPORAL_ADDRESS" in no_temporal.stderr


async def test_open_refuses_repeated_holders_control_characters_and_future_births(
    cli: Cli,
) -> None:
    coordinator = cli.people.coordinator.token
    before = await cli.event_count()
    # Each refusal names the option that gave the value, not the field of the API's body.
    twice = await cli(*OPEN, "--holder", "police", token=coordinator)
    one_line_error(twice, 2, "error: --holder: ", "police is named twice")
    requester = await cli(*OPEN, "--holder", "csc", token=coordinator)
    one_line_error(requester, 2, "error: --holder: ", "the requesting agency (csc) consults")
    unborn = await cli(*OPEN, "--subject-dob", "2999-01-01", token=coordinator)
    one_line_error(unborn, 2, "error: --subject-dob: ", "future")
    control = list(OPEN)
    control[control.index("--purpose") + 1] = "Strategy\x1bdiscussion"
    escaped = await cli(*control, token=coordinator)
    one_line_error(escaped, 2, "error: --purpose: ", "control characters")
    nameless = list(OPEN)
    nameless[nameless.index("--subject-name") + 1] = ""
    one_line_error(await cli(*nameless, token=coordinator), 2, "error: --subject-name: ")
    unknown = list(OPEN)
    unknown[unknown.index("--requesting-agency") + 1] = "nowhere"
    unregistered = await cli(*unknown, token=coordinator)
    one_line_error(unregistered, 3, "error: --requesting-agency: ", "not in the register")
    assert await cli.event_count() == before


async def test_finds_the_local_stack_quietly_and_takes_short_ids(cli: Cli, tmp_path: Path) -> None:
    rid, task_id = await _open_one(cli)
    short = str(rid)[:8]
    shown = await cli("requests", "show", short, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["request_id"] == str(rid)
    history = await cli("history", short, "--json")
    assert history.returncode == 0, history.stderr
    too_short = await cli("requests", "show", short[:5])
    one_line_error(too_short, 2, "ID", "first 8 characters")
    nowhere = await cli("requests", "show", "ffffffff" if short != "ffffffff" else "00000000")
    one_line_error(nowhere, 4, "no request id starts with")

    # `mashflow up` leaves a note of its stack in the data directory: a command with no
    # database or Temporal settings uses that stack, and says only what was asked.
    data_dir = tmp_path / "data"
    up = Settings(
        environment="test",
        database_url=cli.env["MASHFLOW_DATABASE_URL"],
        temporal_address=cli.env["MASHFLOW_TEMPORAL_ADDRESS"],
        temporal_task_queue=cli.env["MASHFLOW_TEMPORAL_TASK_QUEUE"],
        data_dir=data_dir,
    )
    local_stack.publish(up)  # written by this (live) process, as `up` writes it
    bare = {
        k: v
        for k, v in cli.env.items()
        if k not in {"MASHFLOW_DATABASE_URL", "MASHFLOW_TEMPORAL_ADDRESS", "MASHFLOW_LOG_LEVEL"}
    } | {"MASHFLOW_DATA_DIR": str(data_dir)}
    local = Cli(bare, cli.infra, cli.people)
    inbox = await local("tasks", "list", token=cli.people.worker.token)
    assert inbox.returncode == 0, inbox.stderr
    assert inbox.stderr == ""  # no log lines: no alembic, no embedded server started or stopped
    assert "open task" in inbox.stdout and "for an agency worker at police" in inbox.stdout
    assert task_id in inbox.stdout and "left" in inbox.stdout

    local_stack.withdraw(up)  # `up` stopped: back to needing the settings
    assert not (data_dir / local_stack.NOTE).exists()
    stopped = await local("tasks", "list", token=cli.people.worker.token)
    assert stopped.returncode == 2 and "MASHFLOW_DATABASE_URL" in stopped.stderr


async def test_the_policy_file_the_cli_reads_is_recorded_with_the_request_it_opens(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        EXAMPLE_FILE.read_text()
        .replace('amber = "24h"', 'amber = "8h"', 1)
        .replace('bank_holiday_region = "england_and_wales"', 'bank_holiday_region = "scotland"')
    )
    hub = Cli(cli.env | {"MASHFLOW_POLICY_FILE": str(path)}, cli.infra, cli.people)
    opened = await hub(*OPEN, "--allegation-against-staff", token=cli.people.coordinator.token)
    assert opened.returncode == 0, opened.stderr
    events = await _events(cli, uuid.UUID(opened.stdout.strip()), "request.opened")
    opening = events[0].event
    assert isinstance(opening, RequestOpened)
    assert opening.policy == load_policy(path)
    assert opening.policy.decision.amber == timedelta(hours=8)
    assert opening.policy.calendar.bank_holiday_region is BankHolidayRegion.SCOTLAND
    assert opening.decision_due_at == deadline(opening.opened_at, Rating.AMBER, opening.policy)
    assert opening.allegation_against_staff is True


SHARE = (
    "share", "--recipient", "csc",
    "--subject-name", "Ada Example", "--subject-kind", "child",
    "--purpose-category", "crime_prevention_detection",
    "--purpose", "Child disclosed an assault at the station front desk",
    "--information", "What was said and by whom",
    "--rating", "red",
)  # fmt: skip


async def test_a_worker_shares_proactively_and_the_decision_opens_in_their_inbox(
    cli: Cli,
) -> None:
    refused = await cli(*SHARE, token=cli.people.coordinator.token)
    one_line_error(refused, 3, "agency_worker")
    bad = await cli(*SHARE[:-1], "purple", token=cli.people.worker.token)
    assert bad.returncode == 2, bad.stderr
    own = await cli(*SHARE[:2], "police", *SHARE[3:], token=cli.people.worker.token)
    one_line_error(own, 3, "error: --recipient: ", "another agency")
    shared = await cli(*SHARE, "--json", token=cli.people.worker.token)
    assert shared.returncode == 0, shared.stderr
    rid = uuid.UUID(json.loads(shared.stdout)["request_id"])
    first = (await _events(cli, rid, "request.opened"))[0]
    assert isinstance(first.event, RequestOpened)
    assert first.event.proactive and first.event.holding_agencies == ["police"]
    assert first.event.requested_by == str(cli.people.worker.user.id)
    assert [t["kind"] for t in await _worker_tasks(cli, rid)] == ["assess_purpose"]


async def test_a_worker_records_that_consent_was_withdrawn(cli: Cli) -> None:
    rid, task = await _open_one(cli)
    worker = cli.people.worker.token
    today = datetime.now(UTC).date().isoformat()
    withdrawn = ("consent-withdrawn", str(rid)[:8], "--by", "the_person", "--on", today)
    one_line_error(await cli(*withdrawn, token=worker), 3, "not given")  # nothing to withdraw
    assessed = await cli(
        "tasks", "complete", task, "--action", "assess_purpose",
        "--body", json.dumps(ASSESS), token=worker,
    )  # fmt: skip
    assert assessed.returncode == 0, assessed.stderr
    step = json.loads((await cli("tasks", "list", "--json", token=worker)).stdout)
    (consent_task,) = [t for t in step if t["request_id"] == str(rid)]
    for body in (
        {"action": "seek_consent"},
        {"action": "record_consent", "outcome": "given", "given_by": "the_person",
         "capacity_considered": True},
    ):  # fmt: skip
        done = await cli(
            "tasks", "complete", consent_task["task_id"], "--action", str(body["action"]),
            "--body", json.dumps(body), token=worker,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    bad = await cli(
        "consent-withdrawn", str(rid), "--by", "a_neighbour", "--on", today, token=worker
    )
    assert bad.returncode == 2, bad.stderr
    refused = await cli(*withdrawn, token=cli.people.coordinator.token)
    one_line_error(refused, 3, "agency_worker")
    done = await cli(*withdrawn, "--scope", "All of it", "--json", token=worker)
    assert done.returncode == 0, done.stderr
    events = await _events(cli, rid, "consent.withdrawn")
    (recorded,) = [e for e in events if e.event_type == "consent.withdrawn"]
    assert recorded.metadata.actor_id == str(cli.people.worker.user.id)
    again = await cli(*withdrawn, token=worker)
    one_line_error(again, 3, "already")


async def _opened_count(cli: Cli) -> int:
    """How many requests and shares were ever opened."""
    count = 0
    async for recorded in cli.infra.store.read_all(verify=False):
        count += recorded.event_type == "request.opened"
    return count


async def test_a_rerun_with_the_same_idempotency_key_opens_once(cli: Cli) -> None:
    key = ("--idempotency-key", str(uuid.uuid4()))
    coordinator, worker = cli.people.coordinator.token, cli.people.worker.token
    first = await cli(*OPEN, *key, token=coordinator)
    assert first.returncode == 0, first.stderr
    rid = uuid.UUID(first.stdout.strip())
    await _events(cli, rid, "request.opened")
    before = await _opened_count(cli)
    again = await cli(*OPEN, *key, token=coordinator)
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    other = await cli(*OPEN[:-1], "red", *key, token=coordinator)
    one_line_error(other, 3, "error: --idempotency-key: ", "other details")
    assert await _opened_count(cli) == before
    opened = [
        e for e in await _events(cli, rid, "request.opened") if e.event_type == "request.opened"
    ]
    assert len(opened) == 1

    # The same for a share; the worker's key is their own, beside the coordinator's.
    shared = await cli(*SHARE, *key, token=worker)
    assert shared.returncode == 0, shared.stderr
    assert shared.stdout != first.stdout
    shared_again = await cli(*SHARE, *key, token=worker)
    assert shared_again.returncode == 0, shared_again.stderr
    assert shared_again.stdout == shared.stdout
    assert await _opened_count(cli) == before + 1
