"""The embedded stack: real PostgreSQL and Temporal from wheels, started, kept, stopped."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import psutil
import pytest
from temporalio.client import Client

from infra.stack import (
    EmbeddedPostgres,
    EmbeddedTemporal,
    behind_head,
    free_port,
    revisions,
    with_database,
)
from tests.conftest import fresh_database

pytestmark = pytest.mark.timeout(180)


def _processes_using(path: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(attrs=["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if any(str(path) in part for part in cmdline):
            found.append(proc)
    return found


async def test_temporal_dev_server_keeps_workflows_across_a_restart(tmp_path: Path) -> None:
    server = EmbeddedTemporal(tmp_path, free_port(), ui_port=None)
    address = await server.start()
    client = await Client.connect(address)
    await client.start_workflow("NoWorkerHere", id="kept-across-restart", task_queue="nobody-polls")
    server.stop()
    assert _processes_using(tmp_path) == []
    with pytest.raises(RuntimeError, match="connect"):
        await Client.connect(address)

    again = EmbeddedTemporal(tmp_path, server.port, ui_port=None)
    await again.start()
    try:
        client = await Client.connect(address)
        desc = await client.get_workflow_handle("kept-across-restart").describe()
        assert desc.workflow_type == "NoWorkerHere"
    finally:
        again.stop()
    assert _processes_using(tmp_path) == []


async def test_temporal_web_ui_answers_on_its_port(tmp_path: Path) -> None:
    import httpx

    ui_port = free_port()
    server = EmbeddedTemporal(tmp_path, free_port(), ui_port=ui_port)
    await server.start()
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(50):
                try:
                    response = await http.get(f"http://127.0.0.1:{ui_port}/")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            assert response.status_code == 200
    finally:
        server.stop()


def test_embedded_postgres_keeps_its_data_across_a_restart(tmp_path: Path) -> None:
    import asyncio

    async def write(url: str) -> None:
        conn = await asyncpg.connect(url)
        await conn.execute("CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
        await conn.close()

    async def read(url: str) -> int:
        conn = await asyncpg.connect(url)
        value = await conn.fetchval("SELECT v FROM kept")
        await conn.close()
        return int(value)

    server = EmbeddedPostgres(tmp_path)
    url = server.start()
    asyncio.run(write(url))
    server.stop()
    assert _processes_using(server.pgdata) == []

    again = EmbeddedPostgres(tmp_path)
    url = again.start()
    try:
        assert asyncio.run(read(with_database(url, "postgres"))) == 42
    finally:
        again.stop()
    assert _processes_using(server.pgdata) == []


def _mashflow(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_a_wrong_database_url_fails_fast_with_one_line_naming_the_setting(tmp_path: Path) -> None:
    started = time.monotonic()
    result = _mashflow(
        "db",
        "upgrade",
        env={
            "MASHFLOW_DATABASE_URL": f"postgresql://nobody:pw@127.0.0.1:{free_port()}/none",
            "MASHFLOW_DATA_DIR": str(tmp_path),
        },
    )
    assert time.monotonic() - started < 15
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "MASHFLOW_DATABASE_URL" in lines[0]
    assert "pw@" not in lines[0] and "Traceback" not in result.stderr


def test_an_unreachable_temporal_fails_fast_with_one_line_naming_the_setting(
    tmp_path: Path, pg_server_url: str
) -> None:
    started = time.monotonic()
    result = _mashflow(
        "demo",
        env={
            "MASHFLOW_DATABASE_URL": pg_server_url,
            "MASHFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
            "MASHFLOW_DATA_DIR": str(tmp_path),
        },
    )
    assert time.monotonic() - started < 20
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "MASHFLOW_TEMPORAL_ADDRESS" in lines[0]


@pytest.fixture
async def unmigrated_url(pg_server_url: str) -> AsyncIterator[str]:
    """A database of its own with no mashflow schema in it."""
    name = f"mashflow_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_server_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        yield with_database(pg_server_url, name)
    finally:
        conn = await asyncpg.connect(pg_server_url)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.mark.parametrize("command", [("api",), ("agencies", "list")])
async def test_a_database_never_migrated_is_refused_with_the_command_that_migrates_it(
    tmp_path: Path, unmigrated_url: str, command: tuple[str, ...]
) -> None:
    """The API process (like `up` and `worker`) and the commands that read the register
    stop at once with one line saying to run `mashflow db upgrade`, and create nothing;
    the API used to serve, and log a traceback every few seconds, on missing tables."""
    env = {"MASHFLOW_DATABASE_URL": unmigrated_url, "MASHFLOW_DATA_DIR": str(tmp_path)}
    # The API starts without Temporal answering (it stays unready until it does).
    env |= {
        "MASHFLOW_API_PORT": str(free_port()),
        "MASHFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
    }
    result = await asyncio.to_thread(_mashflow, *command, env=env, timeout=30)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "MASHFLOW_DATABASE_URL" in lines[0] and "has no mashflow schema" in lines[0]
    assert "run `mashflow db upgrade` first" in lines[0]
    conn = await asyncpg.connect(unmigrated_url)
    try:
        assert (
            await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
        )
    finally:
        await conn.close()


async def test_a_database_behind_this_release_names_both_revisions(
    tmp_path: Path, pg_server_url: str
) -> None:
    async with fresh_database(pg_server_url, "0015_kek_rotation") as old:
        env = {"MASHFLOW_DATABASE_URL": old.admin_url, "MASHFLOW_DATA_DIR": str(tmp_path)}
        result = await asyncio.to_thread(_mashflow, "agencies", "list", env=env, timeout=30)
        assert result.returncode == 2, (result.stdout, result.stderr)
        head = revisions()[-1]
        assert f"is at 0015_kek_rotation, this release needs {head}" in result.stderr
        upgraded = await asyncio.to_thread(_mashflow, "db", "upgrade", env=env, timeout=60)
        assert upgraded.returncode == 0, upgraded.stderr
        listed = await asyncio.to_thread(_mashflow, "agencies", "list", env=env, timeout=30)
        assert listed.returncode == 0, listed.stderr


def test_the_revisions_known_without_alembic_are_alembics_own() -> None:
    """The check reads the order from the scripts' file names; Alembic reads it from
    each script's revision and down_revision. They agree, one line of history."""
    from alembic.script import ScriptDirectory

    from infra.migrate import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config(""))
    walked = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    assert walked == revisions()
    assert behind_head(None) == behind_head(walked[0]) == scripts.get_current_head()
    assert behind_head(walked[-1]) is None and behind_head("9999_a_later_release") is None
