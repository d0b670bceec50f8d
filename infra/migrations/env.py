"""Alembic environment: async engine (asyncpg), URL handed over by ``infra.migrate``."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from infra.db import create_engine


def _run(connection: Connection) -> None:
    context.configure(connection=connection, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    # role=None: migrations act as the admin login role, not as the application role.
    engine = create_engine(url, pool_size=1, role=None)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("offline (SQL script) migrations are not supported")
    url = context.config.attributes.get("database_url")
    if not url:
        raise RuntimeError("infra.migrate passes the database URL; run migrations through it")
    asyncio.run(_run_async(url))


_main()
