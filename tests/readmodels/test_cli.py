"""``mashflow projections rebuild`` through the real entry point."""

from __future__ import annotations

import json

from app import scenarios
from app.container import Infrastructure
from app.scenario_builder import Hub
from infra.readmodels import snapshot
from tests.api.conftest import cli_env  # noqa: F401
from tests.api.test_cli import mashflow
from tests.readmodels.settle import settled


async def test_rebuild_command_replays_everything_and_reports_json(
    hub: Hub,
    infra: Infrastructure,
    cli_env: dict[str, str],  # noqa: F811
) -> None:
    rid = await scenarios.no_legitimate_purpose(hub)
    await hub.requests.result(rid)
    await settled(infra, rid)
    live = await snapshot(infra.engine)
    done = await mashflow(cli_env, "projections", "rebuild", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["projection"] == "read_models" and report["events"] > 0
    rebuilt = await snapshot(infra.engine)
    assert [dict(r) for r in rebuilt["rm_requests"] if r["request_id"] == rid] == [
        dict(r) for r in live["rm_requests"] if r["request_id"] == rid
    ]
