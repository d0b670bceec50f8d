"""``mashflow verify | history | export`` through the real entry point.

A ``--reveal`` is a compliance officer's act: the tests sign in as a real user of
the directory (their token in ``MASHFLOW_TOKEN`` or a ``--token-file``) and find
that user's id as the viewer in the request's access log.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.timetext import sortable_time
from domain.vocabulary import Role
from infra.crypto import Keyring
from infra.eventstore import EventStore
from infra.users import UserDirectory
from tests.api.test_cli import mashflow
from tests.cli.people import person, signed_in
from tests.compliance.build import NAME, REASONS, shared_path
from tests.eventstore.conftest import Fresh

if TYPE_CHECKING:
    from uuid import UUID

    from tests.conftest import TestDatabase


def env_for(database: TestDatabase, url: str) -> dict[str, str]:
    kek = database.settings.kek
    assert kek is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASHFLOW_")}
    return env | {
        "MASHFLOW_ENVIRONMENT": "test",
        "MASHFLOW_DATABASE_URL": url,
        "MASHFLOW_KEK": kek.get_secret_value(),
        "MASHFLOW_DATA_DIR": tempfile.mkdtemp(prefix="mashflow-cli-"),
        "MASHFLOW_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }


@pytest.fixture(scope="module")
def cli_env(database: TestDatabase) -> dict[str, str]:
    return env_for(database, database.admin_url)


async def viewers(store: EventStore, request_id: UUID) -> list[tuple[str, str, str]]:
    """Who viewed the request's personal data: (user id, role, what), in order."""
    return [
        (r.metadata.actor_id or "", r.metadata.actor_role or "", r.event.what.value)  # type: ignore[attr-defined]
        for r in await store.read_stream(f"access:{request_id}")
    ]


async def test_history_prints_the_timeline_and_reveal_is_recorded(
    cli_env: dict[str, str], store: EventStore, keyring: Keyring, app_engine: AsyncEngine
) -> None:
    officer = await person(app_engine, Role.COMPLIANCE_OFFICER)
    built = await shared_path(store, keyring)
    table = await mashflow(cli_env, "history", str(built.request_id))  # no token needed
    assert table.returncode == 0, table.stderr
    assert "decided to share" in table.stdout and "verified" in table.stdout
    first = (await store.read_stream(f"request:{built.request_id}"))[0].recorded_at
    assert sortable_time(first, "Europe/London") in table.stdout  # the hub's clock, zone named
    assert NAME not in table.stdout
    shown = await mashflow(
        signed_in(cli_env, officer.token), "history", str(built.request_id), "--json", "--reveal"
    )
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["agencies"][0]["decision_record"]["reasons"] == REASONS
    assert data["verification"]["ok"] is True
    again = json.loads((await mashflow(cli_env, "history", str(built.request_id), "--json")).stdout)
    assert [v["what"] for v in again["access_log"]] == ["history"]
    assert await viewers(store, built.request_id) == [
        (str(officer.user.id), "compliance_officer", "history")
    ]
    early = await mashflow(
        cli_env, "history", str(built.request_id), "--json", "--as-of", "2000-01-01T00:00:00Z"
    )
    assert early.returncode == 0 and json.loads(early.stdout)["events"] == []


async def test_export_writes_json_csv_and_html(
    cli_env: dict[str, str], store: EventStore, keyring: Keyring, tmp_path: object
) -> None:
    built = await shared_path(store, keyring)
    rid = str(built.request_id)
    as_json = await mashflow(cli_env, "export", rid, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["agencies"][0]["decision_record"]["outcome"] == "share"
    as_csv = await mashflow(cli_env, "export", rid, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert any(r["section"] == "decision" and r["field"] == "Decision" for r in rows)
    for row in (r for r in rows if r["section"] == "event"):  # ISO for machines, local for people
        at = datetime.fromisoformat(row["recorded_at"])
        assert row["recorded_local"] == sortable_time(at, "Europe/London")
    out = f"{tmp_path}/export.html"
    as_html = await mashflow(cli_env, "export", rid, "--format", "html", "-o", out)
    assert as_html.returncode == 0, as_html.stderr
    with open(out, encoding="utf-8") as page:
        printable = page.read()
    assert rid in printable and "UTC" not in printable and "(Europe/London)" in printable
    assert os.stat(out).st_mode & 0o777 == 0o600  # owner-only: exports may hold personal data
    # A link planted at the output's name is replaced, never written through.
    victim = Path(f"{tmp_path}/victim.txt")
    victim.write_text("untouched", encoding="utf-8")
    linked = Path(f"{tmp_path}/linked.csv")
    linked.symlink_to(victim)
    through = await mashflow(cli_env, "export", rid, "--format", "csv", "-o", str(linked))
    assert through.returncode == 0, through.stderr
    assert victim.read_text(encoding="utf-8") == "untouched"
    assert not linked.is_symlink() and "section" in linked.read_text(encoding="utf-8")
    assert [p.name for p in Path(str(tmp_path)).iterdir() if p.name.endswith(".part")] == []


async def test_a_reveal_needs_a_compliance_officers_token_and_records_nothing_otherwise(
    cli_env: dict[str, str],
    store: EventStore,
    keyring: Keyring,
    app_engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    built = await shared_path(store, keyring)
    rid = str(built.request_id)
    coordinator = await person(app_engine, Role.COORDINATOR)
    leaver = await person(app_engine, Role.COMPLIANCE_OFFICER)
    await UserDirectory(app_engine).revoke(leaver.user.id)
    refusals = [
        (signed_in(cli_env, None), 5, "MASHFLOW_TOKEN: not set"),
        (signed_in(cli_env, coordinator.token), 3, "needs the compliance_officer role"),
        (signed_in(cli_env, leaver.token), 5, "revoked"),
        (signed_in(cli_env, "not-a-token"), 5, "not valid"),
    ]
    for env, code, words in refusals:
        for args in (("history", rid, "--reveal"), ("export", rid, "--reveal", "-f", "csv")):
            done = await mashflow(env, *args)
            assert done.returncode == code, (args, done.stderr)
            assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1
            assert NAME not in done.stdout + done.stderr and "Traceback" not in done.stderr
            assert leaver.token not in done.stderr and "not-a-token" not in done.stderr
    assert await viewers(store, built.request_id) == []  # nothing revealed, nothing recorded

    # A script's way: the officer's token in a file (mode 0600), recorded as that officer.
    officer = await person(app_engine, Role.COMPLIANCE_OFFICER)
    token_file = tmp_path / "officer.token"
    token_file.write_text(officer.token + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    exported = await mashflow(
        signed_in(cli_env, None), "export", rid, "--reveal", "--token-file", str(token_file)
    )
    assert exported.returncode == 0, exported.stderr
    assert NAME in exported.stdout
    assert await viewers(store, built.request_id) == [
        (str(officer.user.id), "compliance_officer", "export")
    ]
    needless = await mashflow(cli_env, "export", rid, "--token-file", str(token_file))
    assert needless.returncode == 2 and "only a --reveal" in needless.stderr


async def test_unknown_requests_and_bad_ids_are_clean_errors(cli_env: dict[str, str]) -> None:
    missing = await mashflow(cli_env, "history", str(uuid4()))
    assert missing.returncode == 4 and "no request" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad = await mashflow(cli_env, "export", "not-an-id", "--format", "csv")
    assert bad.returncode == 2 and "REQUEST_ID" in bad.stderr


async def test_verify_passes_then_fails_after_a_superuser_tampers(
    database: TestDatabase, fresh: Fresh
) -> None:
    built = await shared_path(fresh.store, fresh.keyring)
    env = env_for(database, fresh.admin_url)
    first = await mashflow(env, "verify", "--checkpoint", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["ok"] is True and report["checkpoint_digest"]
    digest = report["checkpoint_digest"]
    ok = await mashflow(env, "verify", "--trusted-digest", digest)
    assert ok.returncode == 0 and digest in ok.stdout

    stream = f"request:{built.request_id}:agency:health"
    conn = await fresh.admin()
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(
            "UPDATE events SET data = jsonb_set(data, '{record,outcome}', '\"not_share\"') "
            "WHERE stream_id = $1 AND event_type = 'decision.recorded'",
            stream,
        )
    finally:
        await conn.close()
    broken = await mashflow(env, "verify", "--trusted-digest", digest)
    assert broken.returncode == 1
    assert "changed" in broken.stdout and stream in broken.stdout
    as_json = await mashflow(env, "verify", "--json")
    assert as_json.returncode == 1
    problems = json.loads(as_json.stdout)["problems"]
    assert {(p["kind"], p["stream_id"]) for p in problems} >= {("changed", stream)}
    history = await mashflow(env, "history", str(built.request_id), "--json")
    assert history.returncode == 1
    assert json.loads(history.stdout)["verification"]["ok"] is False


async def test_verify_reads_the_anchor_and_finds_a_cut_checkpoint(
    database: TestDatabase, fresh: Fresh
) -> None:
    await shared_path(fresh.store, fresh.keyring)
    env = env_for(database, fresh.admin_url)
    for _ in range(2):
        taken = await mashflow(env, "verify", "--checkpoint", "--json")
        assert taken.returncode == 0, taken.stderr
    anchor = Path(env["MASHFLOW_DATA_DIR"]) / "anchor"
    assert len(list(anchor.iterdir())) == 2
    assert json.loads(taken.stdout)["anchored_checked"] >= 1
    # The superuser cuts the last checkpoint: the log alone stays consistent.
    conn = await fresh.admin()
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("DELETE FROM events WHERE stream_id = '$checkpoints' AND version = 2")
    finally:
        await conn.close()
    cut = await mashflow(env, "verify")
    assert cut.returncode == 1
    assert "checkpoint_mismatch" in cut.stdout and "anchored, missing from the log" in cut.stdout
    assert str(anchor) in cut.stdout
