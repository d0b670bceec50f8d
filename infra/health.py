"""Readiness probes for the pieces a process depends on."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine


async def check_database(engine: AsyncEngine) -> None:
    """Raise unless the database answers a trivial query as the application role."""
    async with engine.connect() as conn:
        await conn.execute(sa.text("SELECT 1"))
