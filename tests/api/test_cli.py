"""The CLI through its real entry point, against this session's database."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from typing import TYPE_CHECKING

import httpx

from tests.api.conftest import MASHFLOW, Registered, unique_code

if TYPE_CHECKING:
    pass


async def mashflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [str(MASHFLOW), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_adds_an_agency_and_lists_the_register(cli_env: dict[str, str]) -> None:
    code = unique_code("csc")
    added = await mashflow(
        cli_env,
        "agencies",
        "add",
        code,
        "--name",
        "Children's social care",
        "--kind",
        "childrens_social_care",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    agency = json.loads(added.stdout)
    assert agency["code"] == code and len(agency["public_key"]) == 44
    listed = await mashflow(cli_env, "agencies", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert code in {a["code"] for a in json.loads(listed.stdout)["agencies"]}
    table = await mashflow(cli_env, "agencies", "list")
    assert code in table.stdout
    again = await mashflow(cli_env, "agencies", "add", code, "--name", "x", "--kind", "police")
    assert again.returncode == 3
    assert "already registered" in again.stderr


async def test_sets_whether_an_agency_is_a_public_authority(cli_env: dict[str, str]) -> None:
    code = unique_code("vol")
    added = await mashflow(
        cli_env,
        "agencies",
        "add",
        code,
        "--name",
        "Charity",
        "--kind",
        "voluntary_sector",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["public_authority"] is False
    bad = await mashflow(cli_env, "agencies", "set-public-authority", code, "maybe")
    assert bad.returncode == 2 and "yes or no" in bad.stderr
    changed = await mashflow(cli_env, "agencies", "set-public-authority", code, "yes", "--json")
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout)["public_authority"] is True
    missing = await mashflow(cli_env, "agencies", "set-public-authority", "no_such", "yes")
    assert missing.returncode == 4


async def test_a_bad_kind_or_code_is_a_usage_error(cli_env: dict[str, str]) -> None:
    bad_kind = await mashflow(cli_env, "agencies", "add", "ok_code", "--name", "x", "--kind", "zoo")
    assert bad_kind.returncode == 2
    assert "police" in bad_kind.stderr and "voluntary_sector" in bad_kind.stderr
    bad_code = await mashflow(
        cli_env, "agencies", "add", "Bad Code", "--name", "x", "--kind", "police"
    )
    assert bad_code.returncode == 2


async def test_adds_a_user_prints_the_token_once_and_it_works(
    cli_env: dict[str, str], hub: Registered, api_url: str
) -> None:
    added = await mashflow(
        cli_env,
        "users",
        "add",
        "--name",
        "Priya Shah",
        "--role",
        "advisor",
        "--agency",
        hub.police,
        "--json",
    )
    assert added.returncode == 0, added.stderr
    assert "shown this once" in added.stderr
    result = json.loads(added.stdout)
    token = result["token"]
    assert token.startswith("mf_")
    async with httpx.AsyncClient(base_url=api_url) as client:
        me = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "advisor"

    listed = await mashflow(cli_env, "users", "list", "--json")
    assert listed.returncode == 0
    assert token not in listed.stdout
    ids = {u["id"] for u in json.loads(listed.stdout)}
    assert result["user"]["id"] in ids

    revoked = await mashflow(cli_env, "users", "revoke", result["user"]["id"], "--json")
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["revoked_at"] is not None
    async with httpx.AsyncClient(base_url=api_url) as client:
        me = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401


async def test_human_output_shows_the_token_and_a_table(
    cli_env: dict[str, str], hub: Registered
) -> None:
    added = await mashflow(
        cli_env, "users", "add", "--name", "Coordinator Cole", "--role", "coordinator"
    )
    assert added.returncode == 0, added.stderr
    assert "token: mf_" in added.stdout
    table = await mashflow(cli_env, "users", "list")
    assert "Coordinator Cole" in table.stdout and "coordinator" in table.stdout


async def test_a_bad_role_lists_the_valid_roles(cli_env: dict[str, str]) -> None:
    result = await mashflow(cli_env, "users", "add", "--name", "X", "--role", "admin")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1  # one line
    for role in ("coordinator", "agency_worker", "advisor", "recipient", "compliance_officer"):
        assert role in result.stderr


async def test_an_agency_role_needs_a_registered_agency(cli_env: dict[str, str]) -> None:
    missing = await mashflow(cli_env, "users", "add", "--name", "X", "--role", "agency_worker")
    assert missing.returncode == 2
    assert "--agency" in missing.stderr
    unknown = await mashflow(
        cli_env, "users", "add", "--name", "X", "--role", "recipient", "--agency", "nowhere"
    )
    assert unknown.returncode == 3
    assert "no agency 'nowhere'" in unknown.stderr


async def test_revoking_an_unknown_or_malformed_id_fails_cleanly(cli_env: dict[str, str]) -> None:
    unknown = await mashflow(cli_env, "users", "revoke", str(uuid.uuid4()))
    assert unknown.returncode == 4
    assert "no user" in unknown.stderr and "Traceback" not in unknown.stderr
    malformed = await mashflow(cli_env, "users", "revoke", "42")
    assert malformed.returncode == 2
