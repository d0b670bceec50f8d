"""``mashflow verify | history | export`` through the real entry point."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest

from infra.crypto import Keyring
from infra.eventstore import EventStore
from tests.api.test_cli import mashflow
from tests.compliance.build import NAME, REASONS, shared_path
from tests.eventstore.conftest import Fresh

if TYPE_CHECKING:
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


async def test_history_prints_the_timeline_and_reveal_is_recorded(
    cli_env: dict[str, str], store: EventStore, keyring: Keyring
) -> None:
    built = await shared_path(store, keyring)
    table = await mashflow(cli_env, "history", str(built.request_id))
    assert table.returncode == 0, table.stderr
    assert "decided to share" in table.stdout and "verified" in table.stdout
    assert NAME not in table.stdout
    shown = await mashflow(cli_env, "history", str(built.request_id), "--json", "--reveal")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["agencies"][0]["decision_record"]["reasons"] == REASONS
    assert data["verification"]["ok"] is True
    again = json.loads((await mashflow(cli_env, "history", str(built.request_id), "--json")).stdout)
    assert [v["what"] for v in again["access_log"]] == ["history"]
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
    assert any(r["section"] == "decision" and r["field"] == "outcome" for r in rows)
    out = f"{tmp_path}/export.html"
    as_html = await mashflow(cli_env, "export", rid, "--format", "html", "-o", out)
    assert as_html.returncode == 0, as_html.stderr
    with open(out, encoding="utf-8") as page:
        assert rid in page.read()


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
