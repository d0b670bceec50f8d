"""What every benchmark shares: a scratch database on a real PostgreSQL server.

The machine's own server at 127.0.0.1:5432 when it answers (or ``--url``), else the
embedded one; a fresh, migrated database for the run, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

from infra.db import plain_url
from infra.migrate import upgrade
from infra.settings import Environment, Settings
from infra.stack import EmbeddedPostgres, with_database

LOCAL = "postgresql://postgres@127.0.0.1:5432/postgres"


def local_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@contextlib.asynccontextmanager
async def scratch_database(url: str | None) -> AsyncIterator[str]:
    """Yield the URL of a migrated database that exists only for this run."""
    embedded: EmbeddedPostgres | None = None
    server = url or (LOCAL if local_answers() else None)
    if server is None:
        embedded = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="mashflow-bench-")))
        server = await asyncio.to_thread(embedded.start)
    name = f"mashflow_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(plain_url(server))
    await admin.execute(f'CREATE DATABASE "{name}"')
    print(f"PostgreSQL {admin.get_server_version()}, {os.cpu_count()} cores, database {name}")
    await admin.close()
    scratch = with_database(server, name)
    try:
        await upgrade(Settings(environment=Environment.TEST, database_url=scratch))
        yield scratch
    finally:
        admin = await asyncpg.connect(plain_url(server))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


class CpuMeter:
    """CPU seconds (user + system) spent so far by this process, its children (the
    Temporal dev server) and the PostgreSQL backends serving ``database``.

    Throughput on a shared machine follows whatever else runs; CPU spent per request
    follows it much less, so benchmarks print both.
    """

    def __init__(self, database: str) -> None:
        import psutil

        self._psutil = psutil
        self._database = database
        self._gone: dict[str, float] = {}
        self._seen: dict[str, dict[int, float]] = {}

    def _backends(self) -> list[object]:
        found = []
        for proc in self._psutil.process_iter(["cmdline"]):
            cmdline = proc.info.get("cmdline") or []
            if cmdline and cmdline[0].startswith("postgres:") and self._database in cmdline[0]:
                found.append(proc)
        return found

    def seconds(self) -> float:
        return sum(self.split().values())

    def split(self) -> dict[str, float]:
        """CPU seconds so far by part: ``python`` (this process: worker, client, driver),
        ``temporal`` (its children) and ``postgres`` (the database's backends)."""
        me = self._psutil.Process()
        parts = {
            "python": [me],
            "temporal": me.children(recursive=True),
            "postgres": self._backends(),
        }
        out: dict[str, float] = {}
        for part, procs in parts.items():
            now: dict[int, float] = {}
            for proc in procs:
                try:
                    t = proc.cpu_times()
                except self._psutil.Error:
                    continue
                now[proc.pid] = t.user + t.system
            # A process that ended since the last reading keeps what it had spent.
            seen = self._seen.setdefault(part, {})
            gone = self._gone.get(part, 0.0) + sum(v for p, v in seen.items() if p not in now)
            self._gone[part] = gone
            self._seen[part] = now
            out[part] = gone + sum(now.values())
        return out
