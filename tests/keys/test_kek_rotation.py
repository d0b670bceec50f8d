"""Rotating the KEK, against real PostgreSQL: every key moves, a stop midway loses nothing.

Each test has a database of its own (keys wrapped under a KEK of its own), so the
session's database and its KEK are never touched.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from alembic import command
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from app.container import Infrastructure, open_infrastructure
from domain.events import ERASED, Sealed
from domain.events.keys import KEYS_STREAM
from infra.crypto import Keyring, KeyringError, kek_id_of
from infra.db import APP_ROLE, plain_url
from infra.kek_rotation import KekRotation
from infra.migrate import alembic_config
from infra.settings import ConfigurationError, Settings
from infra.transfer import TransferError, unwrap_private_key
from tests.conftest import fresh_database, make_settings

MASHFLOW = Path(sys.executable).parent / "mashflow"
OLD, NEW = secrets.token_bytes(32), secrets.token_bytes(32)


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


class CrashError(Exception):
    """Stands for the process dying inside a batch's transaction."""


@dataclass
class Hub:
    url: str
    sealed: dict[UUID, Sealed]
    """One value per subject, sealed under the old KEK."""
    erased: UUID
    agencies: list[str]
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mashflow-")))
    """One for every process of the hub: the checkpoint anchor lives under it."""

    def settings(self, kek: bytes, previous: bytes | None = None) -> Settings:
        extra: dict[str, Any] = {"kek": SecretStr(_b64(kek))}
        if previous is not None:
            extra["kek_previous"] = SecretStr(_b64(previous))
        made = make_settings(self.url, self.data_dir)
        return made.model_copy(update=extra)

    async def opens(self, keyring: Keyring) -> dict[UUID, Any]:
        session = keyring.session()
        return {s: await session.open(v) for s, v in self.sealed.items()}

    async def kek_ids(self) -> dict[str | None, int]:
        conn = await asyncpg.connect(plain_url(self.url))
        try:
            rows = await conn.fetch(
                "SELECT kek_id, count(*) AS n FROM subject_keys "
                "WHERE wrapped_key IS NOT NULL GROUP BY kek_id"
            )
        finally:
            await conn.close()
        return {r["kek_id"]: r["n"] for r in rows}


@pytest.fixture
async def hub(pg_server_url: str) -> AsyncIterator[Hub]:
    """Seven subjects with a value each, one of them erased, and two agencies: under OLD."""
    async with fresh_database(pg_server_url) as database:
        made = Hub(database.admin_url, {}, uuid4(), ["police", "school_oak"])
        async with open_infrastructure(made.settings(OLD)) as infra:
            for n in range(6):
                subject = uuid4()
                made.sealed[subject] = await infra.keyring.seal(subject, f"value {n}")
            made.sealed[made.erased] = await infra.keyring.seal(made.erased, "gone")
            await infra.keyring.erase_subject(made.erased)
            for code in made.agencies:
                await infra.agencies.add(code, code.title(), "police")
            await infra.store.checkpoint()  # signed under the old KEK, and anchored
        yield made


def _expected(hub: Hub) -> dict[UUID, Any]:
    return {s: ERASED if s == hub.erased else f"value {n}" for n, s in enumerate(hub.sealed)}


async def _events(infra: Infrastructure) -> list[tuple[str, dict[str, Any]]]:
    return [
        (r.event.event_type, r.event.model_dump(mode="json"))
        for r in await infra.store.read_stream(KEYS_STREAM)
    ]


async def test_a_rotation_stopped_midway_leaves_every_key_readable_and_resumes(hub: Hub) -> None:
    old_id, new_id = kek_id_of(OLD), kek_id_of(NEW)
    # A process given only the new KEK refuses to start while keys are under the old one.
    with pytest.raises(ConfigurationError, match=old_id):
        async with open_infrastructure(hub.settings(NEW)):
            pass

    async with open_infrastructure(hub.settings(NEW, previous=OLD)) as infra:

        async def crash_in_third_batch(number: int) -> None:
            if number == 3:
                raise CrashError

        rotation = KekRotation(infra.engine, infra.store, NEW, OLD, batch_size=2)
        with pytest.raises(CrashError):
            await rotation.run(in_batch=crash_in_third_batch)
        # Two batches committed, the third rolled back whole: every key under one KEK,
        # every value still opens for a process holding both, the erased one stays erased.
        assert await hub.kek_ids() == {new_id: 4, old_id: 2}
        assert await hub.opens(infra.keyring) == _expected(hub)
        assert await _events(infra) == [
            (
                "keys.kek_rotation_started",
                {"from_kek": old_id, "to_kek": new_id, "subject_keys_left": 6},
            ),
            ("keys.subject_keys_rewrapped", {"from_kek": old_id, "to_kek": new_id, "count": 2}),
            ("keys.subject_keys_rewrapped", {"from_kek": old_id, "to_kek": new_id, "count": 2}),
        ]

        # Run again: it carries on with what is left, then the agencies' keys.
        report = await KekRotation(infra.engine, infra.store, NEW, OLD, batch_size=2).run()
        assert (report.subject_keys, report.agency_keys, report.left) == (2, 2, 0)
        assert report.complete
        events = await _events(infra)
        assert [e[0] for e in events[3:]] == [
            "keys.kek_rotation_started",
            "keys.subject_keys_rewrapped",
            "keys.kek_rotation_completed",
        ]
        assert events[-1][1] == {
            "from_kek": old_id,
            "to_kek": new_id,
            "subject_keys": 2,
            "agency_keys": 2,
        }
        for code in hub.agencies:
            moved = [r.event.event_type for r in await infra.store.read_stream(f"agency:{code}")]
            assert moved[-1] == "keys.agency_key_rewrapped"
        # Once done, running it again moves nothing.
        again = await KekRotation(infra.engine, infra.store, NEW, OLD).run()
        assert (again.subject_keys, again.agency_keys, again.complete) == (0, 0, True)

    assert await hub.kek_ids() == {new_id: 6}
    # The old KEK retired: the new one alone opens everything, the old one nothing.
    async with open_infrastructure(hub.settings(NEW)) as infra:
        assert await hub.opens(infra.keyring) == _expected(hub)
        # The checkpoint signed under the old KEK is vouched for by the rotation's own.
        verified = await infra.store.verify()
        assert verified.ok, verified.findings
        assert verified.checkpoints_checked >= 2 and verified.anchored_checked >= 2
        for code in hub.agencies:
            wrapped = await infra.agencies.wrapped_private_key(code)
            unwrap_private_key(NEW, wrapped, code)
            with pytest.raises(TransferError):
                unwrap_private_key(OLD, wrapped, code)
        old_only = Keyring(infra.engine, OLD)
        with pytest.raises(KeyringError, match="not given"):
            await hub.opens(old_only)


async def test_the_app_role_cannot_rewrap_a_key_by_hand(hub: Hub) -> None:
    subject = next(s for s in hub.sealed if s != hub.erased)
    conn = await asyncpg.connect(plain_url(hub.url))
    try:
        await conn.execute(f"SET ROLE {APP_ROLE}")
        await conn.execute("SELECT set_config('mashflow.rewrapping', 'on', false)")
        with pytest.raises(asyncpg.RestrictViolationError, match="can only be destroyed"):
            await conn.execute(
                "UPDATE subject_keys SET wrapped_key = $2 WHERE subject_id = $1",
                subject,
                os.urandom(60),
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "UPDATE subject_keys SET kek_id = 'x' WHERE subject_id = $1", subject
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE agencies SET wrapped_private_key = '\\x00'::bytea")
        with pytest.raises(asyncpg.InvalidParameterValueError, match="another KEK"):
            await conn.fetchval(
                "SELECT mashflow_rewrap_subject_keys($1, $1, $2, $3, 'x')",
                kek_id_of(OLD),
                [subject],
                [os.urandom(60)],
            )
    finally:
        await conn.close()
    assert await hub.kek_ids() == {kek_id_of(OLD): 6}
    async with open_infrastructure(hub.settings(OLD)) as infra:
        assert await hub.opens(infra.keyring) == _expected(hub)


def _mashflow(
    hub: Hub,
    *args: str,
    temporal: str | None = None,
    command: tuple[str, ...] = ("keys",),
    **keys: bytes,
) -> subprocess.CompletedProcess[str]:
    """``mashflow [keys] ARGS`` on the hub's database, with ``keys`` in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASHFLOW_")} | {
        "MASHFLOW_ENVIRONMENT": "test",
        "MASHFLOW_DATABASE_URL": hub.url,
        "MASHFLOW_DATA_DIR": tempfile.mkdtemp(prefix="mashflow-keys-cli-"),
        "COLUMNS": "200",
    }
    env |= {f"MASHFLOW_{name.upper()}": _b64(key) for name, key in keys.items()}
    if temporal is not None:
        env |= {"MASHFLOW_TEMPORAL_ADDRESS": temporal, "MASHFLOW_TEMPORAL_TASK_QUEUE": "keys"}
    return subprocess.run(
        [str(MASHFLOW), *command, *args], env=env, capture_output=True, text=True, timeout=120
    )


async def test_the_cli_rotates_with_keys_from_the_environment_only(hub: Hub) -> None:
    old_id, new_id = kek_id_of(OLD), kek_id_of(NEW)
    run = asyncio.to_thread
    # No previous KEK named: a configuration error, nothing moved.
    refused = await run(_mashflow, hub, "rotate-kek", kek=NEW)
    assert refused.returncode == 2 and "MASHFLOW_KEK_PREVIOUS" in refused.stderr
    # A KEK is never taken from the command line.
    on_argv = await run(_mashflow, hub, "rotate-kek", "--kek", _b64(NEW), kek=NEW, kek_previous=OLD)
    assert on_argv.returncode == 2 and "No such option" in on_argv.stderr
    assert await hub.kek_ids() == {old_id: 6}

    status = await run(_mashflow, hub, "status", kek=NEW)
    assert status.returncode == 1 and old_id in status.stderr
    done = await run(_mashflow, hub, "rotate-kek", "--batch-size", "4", kek=NEW, kek_previous=OLD)
    assert done.returncode == 0, done.stderr
    assert "6 subject keys and 2 agency keys" in done.stdout
    assert "rotation complete" in done.stdout
    assert await hub.kek_ids() == {new_id: 6}
    after = await run(_mashflow, hub, "status", kek=NEW)
    assert after.returncode == 0 and f"live keys wrapped under {new_id}" in after.stdout


async def test_0015_goes_down_to_destroy_only_and_up_again(hub: Hub) -> None:
    config = alembic_config(hub.url)
    await asyncio.to_thread(command.downgrade, config, "0014_web_signin")
    conn = await asyncpg.connect(plain_url(hub.url))
    try:
        assert (
            await conn.fetchval("SELECT count(*) FROM pg_proc WHERE proname LIKE '%rewrap%'") == 0
        )
        subject = next(s for s in hub.sealed if s != hub.erased)
        with pytest.raises(asyncpg.RestrictViolationError, match="can only be destroyed"):
            await conn.execute(
                "UPDATE subject_keys SET kek_id = 'x', wrapped_key = $2 WHERE subject_id = $1",
                subject,
                os.urandom(60),
            )
    finally:
        await conn.close()
    await asyncio.to_thread(command.upgrade, config, "head")
    async with open_infrastructure(hub.settings(NEW, previous=OLD)) as infra:
        assert (await KekRotation(infra.engine, infra.store, NEW, OLD).run()).complete
    assert await hub.kek_ids() == {kek_id_of(NEW): 6}


async def test_a_worker_not_given_the_kek_of_live_keys_refuses_to_start(
    hub: Hub, dev_server_env: WorkflowEnvironment
) -> None:
    """``mashflow worker`` with only the new KEK, keys still under the old: it stops at
    start (exit 2, the KEK generation named) instead of polling until stopped."""
    address = dev_server_env.client.service_client.config.target_host
    refused = await asyncio.to_thread(
        _mashflow, hub, "worker", kek=NEW, temporal=address, command=()
    )
    assert refused.returncode == 2, refused.stderr
    assert kek_id_of(OLD) in refused.stderr and "MASHFLOW_KEK_PREVIOUS" in refused.stderr
