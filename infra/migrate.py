"""Database migrations: Alembic, configured in code, run to head.

The migration scripts ship inside the package (``infra/migrations``), so an
installed mashflow can migrate any database without an ``alembic.ini``.
Migrations run as the admin role (``database_admin_url``), never as the
restricted application role: they create the tables, triggers and grants the
application then lives within.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from infra.settings import ConfigurationError, Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at the packaged scripts and ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # env.py reads the URL from attributes, not from the ini: '%' in passwords stays intact.
    config.attributes["database_url"] = url
    return config


def _admin_url(settings: Settings) -> str:
    url = settings.database_admin_url or settings.database_url
    if url is None:
        raise ConfigurationError("MASHFLOW_DATABASE_ADMIN_URL: no database to migrate")
    return url


async def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the database to ``revision`` (head by default). Idempotent."""
    config = alembic_config(_admin_url(settings))
    # Alembic's API is synchronous and env.py runs its own event loop: keep it off ours.
    await asyncio.to_thread(command.upgrade, config, revision)


async def current(settings: Settings) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    from sqlalchemy import text

    from infra.db import create_engine

    engine = create_engine(_admin_url(settings), pool_size=1, role=None)
    try:
        async with engine.connect() as conn:
            exists = await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
            if not exists:
                return None
            value = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            return None if value is None else str(value)
    finally:
        await engine.dispose()
